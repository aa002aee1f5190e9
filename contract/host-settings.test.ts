import { decodeHostEnv, encodeHostEnv, HostEnvError, hostEnvLines, type HostSettingsInput } from './host-settings';

const input: HostSettingsInput = {
  domain: 'provider.example.com', region: 'eu-west-2', bucket: 'bucket-1', bundleKey: 'bundles/abc.zip',
  issuer: 'https://issuer.example.com/', clientId: 'client-1', scope: 'energydata',
  tlsCertParam: '/p/cert', tlsKeyParam: '/p/key', hostConfigParam: '/p/host-config',
};

const problems = (run: () => unknown): readonly string[] => {
  try {
    run();
  } catch (error) {
    if (error instanceof HostEnvError) return error.problems;
    throw error;
  }
  return [];
};

describe('encodeHostEnv', () => {
  it('writes the given settings in contract order, typed values as text', () => {
    expect(encodeHostEnv({ ...input, appInstances: 3, acmeStaging: true })).toBe(
      [
        'PH_DOMAIN=provider.example.com', 'PH_REGION=eu-west-2', 'PH_BUCKET=bucket-1', 'PH_BUNDLE_KEY=bundles/abc.zip',
        'PH_ACME_STAGING=true', 'PH_ISSUER=https://issuer.example.com/', 'PH_CLIENT_ID=client-1', 'PH_SCOPE=energydata',
        'PH_TLS_CERT_PARAM=/p/cert', 'PH_TLS_KEY_PARAM=/p/key', 'PH_APP_INSTANCES=3', 'PH_HOST_CONFIG_PARAM=/p/host-config', '',
      ].join('\n'),
    );
  });

  it('names every setting its rule refuses, and every required one left out', () => {
    const { clientId: _clientId, ...noClientId } = input;
    expect(problems(() => encodeHostEnv({ ...noClientId, domain: 'Not A Name', authzCacheSeconds: 11 } as HostSettingsInput))).toEqual([
      'PH_DOMAIN (domain): "Not A Name" is not a lower-case fully qualified domain name; use e.g. "example.energydata.org.uk" (no trailing dot, no scheme)',
      'PH_CLIENT_ID (clientId): is required',
      'PH_AUTHZ_CACHE_SECONDS (authzCacheSeconds): 11 is too long for a reused authorisation; use an integer from 0 to 10',
    ]);
  });

  it('passes values only known at apply time unchecked', () => {
    expect(encodeHostEnv({ ...input, bucket: '${aws_s3_bucket.b.bucket}' }, { isUnresolved: (v) => v.startsWith('${') })).toContain('PH_BUCKET=${aws_s3_bucket.b.bucket}\n');
  });
});

describe('decodeHostEnv', () => {
  const text = encodeHostEnv(input);

  it('reads what encode wrote and applies the defaults', () => {
    expect(decodeHostEnv(text)).toMatchObject({ ...input, appInstances: 2, authzCacheSeconds: 1, acmeStaging: false, accelRedirect: true, trustBundleKey: 'trust/client-ca-bundle.pem', dnsWaitSeconds: 1800 });
  });

  it('lets overrides (the caller environment) win, typed by the setting, ignoring other variables', () => {
    const decoded = decodeHostEnv(text, { PH_AUTHZ_CACHE_SECONDS: '0', PH_ACCEL_REDIRECT: 'false', PH_SRV: '/tmp/srv', PATH: '/bin' });
    expect(decoded.authzCacheSeconds).toBe(0);
    expect(decoded.accelRedirect).toBe(false);
  });

  it('treats an empty value as unset for optional and defaulted settings', () => {
    const decoded = decodeHostEnv(`${text}PH_ACME_SERVER=\nPH_APP_INSTANCES=\n`);
    expect(decoded.acmeServer).toBeUndefined();
    expect(decoded.appInstances).toBe(2);
  });

  it('refuses a line that is not KEY=shell-safe value, a key it does not know, a bad value, a missing setting', () => {
    const bad = `${text.replace('PH_CLIENT_ID=client-1\n', '')}PH_X=1\nPH_APP_INSTANCES=lots\nPH_DOMAIN=$(reboot)\n`;
    expect(problems(() => decodeHostEnv(bad, {}, '/etc/provider-host/host.env'))).toEqual([
      '/etc/provider-host/host.env:10: PH_X is not a setting of this host bundle (a newer stack? deploy the matching bundle)',
      '/etc/provider-host/host.env:12: not PH_KEY=shell-safe-value (letters, digits and . _ : / @ % + , = -)',
      '/etc/provider-host/host.env: PH_CLIENT_ID (clientId): is missing; the stack writes it (deploy again)',
      '/etc/provider-host/host.env: PH_APP_INSTANCES (appInstances): "lots" is not a number; use an integer from 1 to 16',
    ]);
  });

  it('hostEnvLines prints every setting, empty for an unset optional one', () => {
    const lines = hostEnvLines(decodeHostEnv(text));
    expect(lines).toContain('PH_ACME_SERVER=\n');
    expect(lines).toContain('PH_AUTHZ_CACHE_SECONDS=1\n');
    expect(lines).toContain('PH_ACCEL_REDIRECT=true\n');
  });
});
