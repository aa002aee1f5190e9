import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadProviderConfig, parseProviderConfig } from './config';

const valid = { socket: '/run/provider/provider.sock', dataDir: '/srv/provider/shared_data', issuer: 'https://auth.example.com/', clientId: 'provider', tlsCert: 'c.pem', tlsKey: 'k.pem' };

function problems(raw: unknown): string[] {
  try {
    parseProviderConfig(raw, '/etc/provider-host');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('provider config', () => {
  it('applies defaults and resolves relative paths against the config folder', () => {
    const config = parseProviderConfig(valid, '/etc/provider-host');
    expect(config).toMatchObject({
      socketMode: '0660',
      clientCertHeader: 'x-oe-client-cert',
      introspectionCacheTtlSeconds: 60,
      issuer: 'https://auth.example.com/',
      tlsCert: '/etc/provider-host/c.pem',
      dataDir: '/srv/provider/shared_data',
    });
  });

  it('names every problem on its own line', () => {
    const lines = problems({ ...valid, issuer: 'http://auth.example.com', clientId: '', tlsKey: undefined, introspectionCacheTtlSeconds: -1, surprise: true });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^config issuer: "http:\/\/auth.example.com" is not an https URL/),
        expect.stringMatching(/^config clientId: /),
        expect.stringMatching(/^config tlsKey: /),
        expect.stringMatching(/^config introspectionCacheTtlSeconds: /),
        expect.stringMatching(/surprise/),
      ]),
    );
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
  });

  it('requires exactly one of socket or port', () => {
    expect(problems({ ...valid, port: 8080 })).toEqual([expect.stringMatching(/exactly one of "socket" .* or "port"/)]);
    const { socket: _socket, ...noListener } = valid;
    expect(problems(noListener)).toEqual([expect.stringMatching(/exactly one of/)]);
    expect(parseProviderConfig({ ...noListener, port: 0 }, '/').host).toBe('127.0.0.1');
  });

  it('checks the accel prefix, header name and socket mode shapes', () => {
    expect(problems({ ...valid, accelRedirectPrefix: '_datasets' })).toEqual([expect.stringMatching(/accelRedirectPrefix: must start and end with "\/"/)]);
    expect(problems({ ...valid, clientCertHeader: 'bad header' })).toEqual([expect.stringMatching(/clientCertHeader/)]);
    expect(problems({ ...valid, socketMode: '999' })).toEqual([expect.stringMatching(/socketMode: must be an octal/)]);
  });

  it('defaults to the open-energy profile and introspection, as before', () => {
    expect(parseProviderConfig(valid, '/')).toMatchObject({ profile: 'open-energy', tokenValidation: 'introspection', tokenAlgorithms: ['ES256', 'PS256'], heartbeatPath: '/heartbeat' });
  });

  it('in ib1 requires the access log and the state folder, naming each', () => {
    expect(problems({ ...valid, profile: 'ib1' })).toEqual([
      expect.stringMatching(/^config accessLogFile: the ib1 profile needs nginx's JSON access log/),
      expect.stringMatching(/^config stateDir: the ib1 profile needs a folder shared by the app's workers/),
    ]);
    const ib1 = parseProviderConfig({ ...valid, profile: 'ib1', accessLogFile: 'log/access.json.log', stateDir: '/var/lib/provider-app', tokenValidation: 'jwt' }, '/etc/provider-host');
    expect(ib1).toMatchObject({ profile: 'ib1', accessLogFile: '/etc/provider-host/log/access.json.log', stateDir: '/var/lib/provider-app', tokenValidation: 'jwt' });
    // The default licence of ib1 is optional.
    expect(ib1.scope).toBeUndefined();
  });

  it('checks the token settings with the host settings\' rules', () => {
    expect(problems({ ...valid, profile: 'fapi2' })).toEqual([expect.stringMatching(/^config profile: "fapi2" is not a trust framework profile/)]);
    expect(problems({ ...valid, tokenValidation: 'opaque' })).toEqual([expect.stringMatching(/^config tokenValidation: "opaque" is not a token validation mode/)]);
    expect(problems({ ...valid, tokenAlgorithms: ['ES256', 'HS256'] })).toEqual([expect.stringMatching(/^config tokenAlgorithms.1: "HS256" is not a comma-separated list of JWS algorithms/)]);
    expect(problems({ ...valid, tokenAlgorithms: [] })).toEqual([expect.stringMatching(/^config tokenAlgorithms: list at least one/)]);
    expect(problems({ ...valid, heartbeatPath: 'heartbeat' })).toEqual([expect.stringMatching(/^config heartbeatPath: "heartbeat" is not an endpoint path/)]);
    expect(problems({ ...valid, tokenAudience: 'a b' })).toEqual([expect.stringMatching(/^config tokenAudience: /)]);
    expect(parseProviderConfig({ ...valid, tokenAlgorithms: ['ES256,PS256', 'ES256', 'EdDSA'] }, '/').tokenAlgorithms).toEqual(['ES256', 'PS256', 'EdDSA']);
  });

  it('reports an unreadable or non-JSON file in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    try {
      writeFileSync(join(dir, 'bad.json'), '{ nope');
      expect(() => loadProviderConfig(join(dir, 'bad.json'))).toThrow(/not valid JSON/);
      expect(() => loadProviderConfig(join(dir, 'missing.json'))).toThrow(/cannot read it \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
