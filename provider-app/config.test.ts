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
