/**
 * The rendered bootstrap site under a real nginx: it answers ACME HTTP-01
 * challenges from the certbot webroot and 404 to everything else
 * (`location / { return 404; }`), so nothing is served before mutual TLS.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/ports';
import { secondLoopbackListen } from '../testing/replica/loopback';
import { createNginxPrefix, startNginx, stopNginx } from '../testing/replica/nginx-process';
import { nginxSourceDir, renderBootstrapSite } from './sites';

let dir: string;
let nginxPid = 0;
let httpPort: number;

interface PlainResponse {
  readonly status: number;
  readonly contentType?: string;
  readonly location?: string;
  readonly body: string;
}

/** One plain-HTTP GET to the bootstrap site; `path` is sent as-is (no normalisation by the client). */
function plainGet(path: string, host = 'provider.example.com'): Promise<PlainResponse> {
  return new Promise((resolveGet, reject) => {
    const req = request({ host: '127.0.0.1', port: httpPort, path, method: 'GET', headers: { Host: host }, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], location: res.headers.location, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nginx-bootstrap-'));
  chmodSync(dir, 0o755);
  for (const sub of ['acme/.well-known/acme-challenge', 'logs', 'conf.d']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'acme', '.well-known', 'acme-challenge', 'tok-abc_123'), 'tok-abc_123.thumbprint');
  // In the webroot but outside the challenge folder: must never be served.
  writeFileSync(join(dir, 'acme', 'secret.txt'), 'not for the world\n');
  writeFileSync(join(dir, 'acme', '.well-known', 'other.txt'), 'not a challenge\n');

  httpPort = await freePort();
  const prefix = createNginxPrefix(join(dir, 'nginx'), join(dir, 'conf.d'));
  writeFileSync(
    join(dir, 'conf.d', 'provider.conf'),
    renderBootstrapSite({
      serverName: 'provider.example.com',
      httpListenV4: `127.0.0.1:${httpPort}`,
      httpListenV6: await secondLoopbackListen(httpPort),
      acmeWebroot: join(dir, 'acme'),
      logDir: join(dir, 'logs'),
      snippetsDir: join(nginxSourceDir(), 'snippets'),
    }),
  );
  nginxPid = startNginx(prefix);
});

afterAll(async () => {
  if (nginxPid) await stopNginx(nginxPid);
  rmSync(dir, { recursive: true, force: true });
});

describe('bootstrap site under nginx', () => {
  it('serves an ACME HTTP-01 challenge from the webroot as text/plain', async () => {
    const response = await plainGet('/.well-known/acme-challenge/tok-abc_123');
    expect(response).toMatchObject({ status: 200, contentType: 'text/plain', body: 'tok-abc_123.thumbprint' });
  });

  it('answers 404 for a challenge token that is not in the webroot', async () => {
    expect((await plainGet('/.well-known/acme-challenge/no-such-token')).status).toBe(404);
  });

  it.each(['/', '/index.html', '/secret.txt', '/.well-known/other.txt', '/.well-known/acme-challenge/../../secret.txt', '/api/datasets?x=1'])(
    'answers 404 to %s: nothing but challenges, no redirect, no webroot file',
    async (path) => {
      const response = await plainGet(path);
      expect(response.status).toBe(404);
      expect(response.location).toBeUndefined();
      expect(response.body).not.toContain('not for the world');
      expect(response.body).not.toContain('not a challenge');
    },
  );
});
