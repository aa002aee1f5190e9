/**
 * The mTLS site's JSON error pages for 503 and 504 (502 is in mtls-site.test.ts,
 * 429 in mtls-hardening.test.ts), under a real nginx with real TLS.
 *
 * The site template and the error pages are the production files. The snippets
 * are a test copy of nginx/snippets/ with two changes, both to proxy-app.conf:
 * - proxy_read_timeout 60s -> 1s, so a 504 arrives in seconds, not minutes;
 * - nginx itself answers 503 (`return 503`) to a request carrying
 *   X-Test-Unavailable, before passing it to the app. The production site
 *   has no module answering 503 of its own: its limits answer 429
 *   (limit_req_status/limit_conn_status), and nginx passes an app's own 503
 *   through untouched (no proxy_intercept_errors). The page is there for any
 *   503 nginx makes (a limit or a maintenance `return 503` added later).
 *
 * The requests use two-segment paths (/app/...), which the site passes straight to
 * the app; a dataset read (/name) first asks the app through auth_request
 * (mtls-site.test.ts).
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueClientCert, issueServerCert, type IssuedCertificate } from '../testing/pki';
import { freePort } from '../lib/ports';
import { mtlsRequest, type MtlsRequestOptions } from '../testing/replica/mtls-request';
import { createNginxPrefix, startNginx, stopNginx } from '../testing/replica/nginx-process';
import { testSiteValues } from '../testing/nginx-test-site';
import { nginxSourceDir, renderMtlsSite } from './sites';

const TEST_READ_TIMEOUT_S = 1;
const PROXY_TRIES = 3;

let dir: string;
let nginxPid = 0;
let upstream: Server | undefined;
let httpsPort: number;
let serverCaPem: string;
let consumer: IssuedCertificate;
const seenByApp: string[] = [];
const hanging: ServerResponse[] = [];

function errorPage(status: number): unknown {
  return JSON.parse(readFileSync(join(nginxSourceDir(), 'errors', `${status}.json`), 'utf8'));
}

/** Copies nginx/snippets/ to `target`, with the two test-only changes to proxy-app.conf. */
function writeTestSnippets(target: string): void {
  const source = join(nginxSourceDir(), 'snippets');
  mkdirSync(target);
  for (const name of readdirSync(source)) copyFileSync(join(source, name), join(target, name));
  const proxyApp = readFileSync(join(source, 'proxy-app.conf'), 'utf8');
  const timeoutLine = /^proxy_read_timeout \S+;$/m;
  // If the production snippet stops setting proxy_read_timeout this way, the 504 test must be revisited.
  if (!timeoutLine.test(proxyApp)) throw new Error('nginx/snippets/proxy-app.conf no longer has a "proxy_read_timeout <t>;" line');
  writeFileSync(
    join(target, 'proxy-app.conf'),
    `${proxyApp.replace(timeoutLine, `proxy_read_timeout ${TEST_READ_TIMEOUT_S}s;`)}\n# test only\nif ($http_x_test_unavailable) {\n    return 503;\n}\n`,
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nginx-errors-'));
  chmodSync(dir, 0o755);
  const root = createRootCa({ subject: { commonName: 'Test Root CA' } });
  const server = issueServerCert(root, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  consumer = issueClientCert(root, { subject: { commonName: 'consumer' } });
  serverCaPem = root.certPem;

  for (const sub of ['tls', 'public', 'data', 'acme', 'logs', 'run', 'conf.d']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'tls', 'server.crt'), server.chainPem);
  writeFileSync(join(dir, 'tls', 'server.key'), server.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'tls', 'client-ca.crt'), root.certPem);
  writeTestSnippets(join(dir, 'snippets'));

  const socket = join(dir, 'run', 'app.sock');
  upstream = createServer((req, res) => {
    seenByApp.push(req.url ?? '');
    if (req.url === '/app/hang') {
      // Accepted, request read, never answered.
      hanging.push(res);
      return;
    }
    if (req.url === '/app/503') {
      res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '7' });
      res.end('the app is draining');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((resolveListen) => upstream!.listen(socket, resolveListen));

  httpsPort = await freePort();
  const httpPort = await freePort();
  const prefix = createNginxPrefix(join(dir, 'nginx'), join(dir, 'conf.d'));
  writeFileSync(
    join(dir, 'conf.d', 'provider.conf'),
    renderMtlsSite(await testSiteValues(dir, { https: httpsPort, http: httpPort }, socket, { snippetsDir: join(dir, 'snippets') })),
  );
  nginxPid = startNginx(prefix);
});

afterAll(async () => {
  if (nginxPid) await stopNginx(nginxPid);
  for (const res of hanging) res.destroy();
  if (upstream) {
    upstream.closeAllConnections();
    await new Promise<void>((resolveClose) => upstream!.close(() => resolveClose()));
  }
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, options: Partial<MtlsRequestOptions> = {}) {
  return mtlsRequest({ port: httpsPort, path, ca: serverCaPem, servername: 'localhost', cert: consumer.certPem, key: consumer.keyPem, ...options });
}

describe('mTLS site error pages', () => {
  it('answers 504 with the JSON page when the app accepts the request but never answers', async () => {
    const before = seenByApp.length;
    const started = Date.now();
    const response = await get('/app/hang', { timeoutMs: 20000 });
    const elapsed = Date.now() - started;
    if (!response.ok) throw new Error(response.error);
    expect(response.status).toBe(504);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body.toString())).toEqual(errorPage(504));
    // proxy_next_upstream includes "timeout": each of the upstream's tries waits
    // proxy_read_timeout before the 504 (in production: 3 x 60 s).
    expect(seenByApp.slice(before)).toEqual(Array(PROXY_TRIES).fill('/app/hang'));
    expect(elapsed).toBeGreaterThanOrEqual(PROXY_TRIES * TEST_READ_TIMEOUT_S * 1000 - 200);
  }, 30000);

  it('answers 503 with the JSON page when nginx itself refuses the request (return 503)', async () => {
    const first = await get('/app/limited');
    expect(first.ok && first.status).toBe(200);
    const before = seenByApp.length;
    const response = await get('/app/limited', { headers: { 'X-Test-Unavailable': 'probe' } });
    if (!response.ok) throw new Error(response.error);
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body.toString())).toEqual(errorPage(503));
    expect(seenByApp.length).toBe(before);
  });

  it("passes the app's own 503 through unchanged (the JSON page is for nginx's 503s only)", async () => {
    const response = await get('/app/503');
    if (!response.ok) throw new Error(response.error);
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toBe('text/plain');
    expect(response.headers['retry-after']).toBe('7');
    expect(response.body.toString()).toBe('the app is draining');
  });
});
