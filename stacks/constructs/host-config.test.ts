import { Token } from 'cdktf';
import type { HostSettingsInput } from '../../contract/host-settings';
import { InputError } from '../../lib/input-error';
import { renderHostEnv } from './host-config';

const settings: HostSettingsInput = {
  domain: 'example.energydata.org.uk', region: 'eu-west-2', bucket: 'bucket-1', bundleKey: 'bundles/abc.zip',
  trustBundleKey: 'trust/client-ca-bundle.pem', dataPrefix: 'shared_data/', publicPrefix: 'public/',
  leBackupPrefix: 'letsencrypt/', acmeEmail: 'ops+le@example.org', acmeStaging: false,
  issuer: 'https://matls-auth.directory.energydata.org.uk/', clientId: 'client-1', scope: 'energydata',
  tlsCertParam: '/p/cert', tlsKeyParam: '/p/key', appInstances: 2, authzCacheSeconds: 1, dnsWaitSeconds: 1800, hostConfigParam: '/p/host-config',
};

describe('renderHostEnv', () => {
  it('writes one KEY=value line per setting given, in contract order, ending in a newline', () => {
    const text = renderHostEnv(settings);
    expect(text.split('\n')[0]).toBe('PH_DOMAIN=example.energydata.org.uk');
    expect(text.split('\n')).toHaveLength(Object.keys(settings).length + 1);
    expect(text).toContain('PH_ACME_STAGING=false\n');
    expect(text).toContain('PH_APP_INSTANCES=2\n');
    expect(text.endsWith('PH_HOST_CONFIG_PARAM=/p/host-config\n')).toBe(true);
  });

  it('matches the line check the host bootstrap applies before sourcing', () => {
    for (const line of renderHostEnv(settings).trimEnd().split('\n')) expect(line).toMatch(/^PH_[A-Z0-9_]+=[A-Za-z0-9._:/@%+,=-]*$/);
  });

  it('refuses a literal value its rule refuses, naming the key and the setting', () => {
    expect(() => renderHostEnv({ ...settings, scope: 'a b' })).toThrow(InputError);
    expect(() => renderHostEnv({ ...settings, scope: 'a b' })).toThrow('host config: PH_SCOPE (scope): "a b" is not a single scope token; use letters, digits and . _ : / -');
    expect(() => renderHostEnv({ ...settings, clientId: '$(reboot)' })).toThrow(/PH_CLIENT_ID \(clientId\)/);
  });

  it('lets apply-time tokens through (Terraform fills them with bucket names)', () => {
    const token = Token.asString({ resolve: () => 'x' });
    expect(renderHostEnv({ ...settings, bucket: token })).toContain(`PH_BUCKET=${token}`);
  });
});
