import { Token } from 'cdktf';
import { renderHostEnv, type HostEnv } from './host-config';

const env: HostEnv = {
  PH_DOMAIN: 'example.energydata.org.uk', PH_REGION: 'eu-west-2', PH_BUCKET: 'bucket-1', PH_BUNDLE_KEY: 'bundles/abc.zip',
  PH_TRUST_BUNDLE_KEY: 'trust/client-ca-bundle.pem', PH_DATA_PREFIX: 'shared_data/', PH_PUBLIC_PREFIX: 'public/',
  PH_LE_BACKUP_PREFIX: 'letsencrypt/', PH_ACME_EMAIL: 'ops+le@example.org', PH_ACME_STAGING: 'false', PH_ACME_SERVER: '',
  PH_ISSUER: 'https://matls-auth.directory.energydata.org.uk/', PH_CLIENT_ID: 'client-1', PH_SCOPE: 'energydata',
  PH_TLS_CERT_PARAM: '/p/cert', PH_TLS_KEY_PARAM: '/p/key', PH_APP_INSTANCES: '2', PH_AUTHZ_CACHE_SECONDS: '1', PH_DNS_WAIT_SECONDS: '1800', PH_HOST_CONFIG_PARAM: '/p/host-config',
};

describe('renderHostEnv', () => {
  it('writes one KEY=value line per key, in contract order, ending in a newline', () => {
    const text = renderHostEnv(env);
    expect(text.split('\n')[0]).toBe('PH_DOMAIN=example.energydata.org.uk');
    expect(text.split('\n')).toHaveLength(Object.keys(env).length + 1);
    expect(text.endsWith('PH_HOST_CONFIG_PARAM=/p/host-config\n')).toBe(true);
  });

  it('matches the line check the host bootstrap applies before sourcing', () => {
    for (const line of renderHostEnv(env).trimEnd().split('\n')) expect(line).toMatch(/^PH_[A-Z0-9_]+=[A-Za-z0-9._:/@%+,=-]*$/);
  });

  it('refuses a literal value that is not shell-safe', () => {
    expect(() => renderHostEnv({ ...env, PH_SCOPE: 'a b' })).toThrow('host config PH_SCOPE="a b" is not shell-safe; only letters, digits and . _ : / @ % + , = - are allowed');
    expect(() => renderHostEnv({ ...env, PH_CLIENT_ID: '$(reboot)' })).toThrow(/PH_CLIENT_ID/);
  });

  it('lets apply-time tokens through (Terraform fills them with bucket names)', () => {
    const token = Token.asString({ resolve: () => 'x' });
    expect(renderHostEnv({ ...env, PH_BUCKET: token })).toContain(`PH_BUCKET=${token}`);
  });
});
