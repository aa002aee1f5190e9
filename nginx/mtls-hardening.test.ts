/**
 * Hardening of the nginx sites (issue "Hardening", finding 6), each point tried
 * against a real nginx with real TLS, the production templates, snippets and
 * error pages:
 * - no nginx version anywhere (server_tokens off in our server blocks: the test
 *   main config's own `server_tokens off` is removed first, as AL2023's has none);
 * - port 80's default server closes the connection for any other name, while
 *   ACME and the redirect for the provider's name keep working, and the way the
 *   host takes over the distribution's default server (an nginx.conf like
 *   AL2023's) is proved: nginx -t refuses our site until then, accepts it after;
 * - HSTS and nosniff on every kind of answer on 443;
 * - per-certificate and per-address request limits, a per-address connection
 *   limit: 429 with the JSON page, Retry-After and both headers, logged;
 * - a 5-minute TLS session lifetime, no tickets.
 *
 * Two sites: one with the contract's default limits (every answer but 429), one
 * with tiny limits (the 429s). The first uses a test copy of the snippets whose
 * proxy-app.conf waits 1 s for the app (a 504 in seconds) and answers nginx's own
 * 503 to X-Test-Unavailable, as in mtls-error-pages.test.ts; every other snippet
 * (security-headers.conf among them) is the production file.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_SETTINGS } from '../contract/host-settings';
import { waitFor } from '../lib/child-process';
import { freePort } from '../lib/ports';
import { createRootCa, issueClientCert, issueServerCert, type IssuedCertificate } from '../testing/pki';
import { createNginxPrefix, NGINX_BIN, startNginx, stopNginx, testNginxConfig, type NginxPrefix } from '../testing/replica/nginx-process';
import { nginxSourceDir, renderBootstrapSite, renderMtlsSite, TAKE_OVER_DEFAULT_SERVER_SED, type MtlsSiteValues } from './sites';
import { writeRevocationNginxFiles } from './revocation';

const HSTS = 'max-age=31536000';
const CSV = 'ts,value\n2026-01-01T00:00:00Z,1\n';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/;
const NGINX_VERSION = /nginx\/(\S+)/.exec(spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' }).stderr)?.[1] ?? 'unknown';

let dir: string;
let serverCaPem: string;
const clients: IssuedCertificate[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}
type Result = ({ readonly ok: true } & Answer) | { readonly ok: false; readonly error: string };

interface Site {
  readonly dir: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  readonly nginx: NginxPrefix;
  /** The stand-in app's request log (paths). */
  readonly seen: string[];
  /** Requests the stand-in app holds unanswered (/app/hang). */
  readonly hanging: ServerResponse[];
  closeApp(): Promise<void>;
}

/** The stand-in app: /.provider/authz allows /meters (file small.csv); /app/accel answers X-Accel-Redirect; /app/redirect a 301; /app/hang never answers. */
function standInApp(seen: string[], hanging: ServerResponse[]) {
  return createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/.provider/authz') {
      const allowed = req.headers['x-original-uri'] === '/meters';
      const digest = createHash('md5').update(String(req.headers.authorization ?? '')).digest('base64url');
      res.writeHead(allowed ? 204 : 403, allowed ? { 'X-Provider-Dataset-File': 'small.csv', 'X-Provider-Token-Digest': digest, 'X-Accel-Expires': '0' } : { 'X-Accel-Expires': '0' });
      res.end();
      return;
    }
    if (req.url === '/app/hang') {
      hanging.push(res);
      return;
    }
    if (req.url === '/app/accel') {
      res.writeHead(200, { 'X-Accel-Redirect': '/_datasets/small.csv', 'Content-Type': 'text/csv', 'x-fapi-interaction-id': 'accel-1' });
      res.end();
      return;
    }
    if (req.url === '/app/redirect') {
      res.writeHead(301, { Location: '/app/elsewhere' });
      res.end();
      return;
    }
    // An app that sets the headers too: nginx must not send them twice.
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'Strict-Transport-Security': 'max-age=1' });
    res.end(JSON.stringify({ path: req.url }));
  });
}

/** nginx/snippets/, with proxy-app.conf's two test-only changes (see the header comment). */
function testSnippets(target: string): string {
  const source = join(nginxSourceDir(), 'snippets');
  mkdirSync(target);
  for (const name of readdirSync(source)) copyFileSync(join(source, name), join(target, name));
  const proxyApp = readFileSync(join(source, 'proxy-app.conf'), 'utf8');
  const timeoutLine = /^proxy_read_timeout \S+;$/m;
  if (!timeoutLine.test(proxyApp)) throw new Error('nginx/snippets/proxy-app.conf no longer has a "proxy_read_timeout <t>;" line');
  writeFileSync(join(target, 'proxy-app.conf'), `${proxyApp.replace(timeoutLine, 'proxy_read_timeout 1s;')}\n# test only\nif ($http_x_test_unavailable) {\n    return 503;\n}\n`);
  return target;
}

/** A private nginx without the test main config's `server_tokens off` (AL2023's nginx.conf has none): only our site's counts. */
function prefixWithoutServerTokens(root: string): NginxPrefix {
  const nginx = createNginxPrefix(join(root, 'nginx'), join(root, 'conf.d'));
  const main = readFileSync(nginx.mainConf, 'utf8');
  writeFileSync(nginx.mainConf, main.replace(/^\s*server_tokens off;\n/m, ''));
  expect(readFileSync(nginx.mainConf, 'utf8')).not.toContain('server_tokens');
  return nginx;
}

async function siteValues(root: string, httpsPort: number, httpPort: number, socket: string, snippetsDir: string): Promise<MtlsSiteValues> {
  return {
    serverName: 'localhost',
    // IPv4 only on purpose: the requests come from several 127.0.0.x addresses.
    httpListenV4: `127.0.0.1:${httpPort}`,
    httpListenV6: `127.0.0.1:${await freePort()}`,
    httpsListenV4: `127.0.0.1:${httpsPort}`,
    httpsListenV6: `127.0.0.1:${await freePort()}`,
    httpsOrigin: `https://localhost:${httpsPort}`,
    acmeWebroot: join(root, 'acme'),
    logDir: join(root, 'logs'),
    snippetsDir,
    errorPagesDir: join(nginxSourceDir(), 'errors'),
    sslCertificate: join(dir, 'tls', 'server.crt'),
    sslCertificateKey: join(dir, 'tls', 'server.key'),
    clientCa: join(dir, 'tls', 'client-ca.crt'),
    publicRoot: join(root, 'public'),
    appSocket: socket,
    datasetsDir: join(root, 'data'),
    authzCacheDir: join(root, 'authz-cache'),
    revocationDir: writeRevocationNginxFiles(join(root, 'revocation')),
  };
}

async function startSite(name: string, limits: Partial<MtlsSiteValues>, snippets: 'test' | 'production'): Promise<Site> {
  const root = join(dir, name);
  for (const sub of ['public', 'data', 'acme/.well-known/acme-challenge', 'logs', 'run']) mkdirSync(join(root, sub), { recursive: true });
  writeFileSync(join(root, 'public', 'static.csv'), 'static,file\n');
  writeFileSync(join(root, 'data', 'small.csv'), CSV);
  writeFileSync(join(root, 'acme', '.well-known', 'acme-challenge', 'tok1'), 'tok1.thumb');
  const seen: string[] = [];
  const hanging: ServerResponse[] = [];
  const socket = join(root, 'run', 'app.sock');
  let app: Server | undefined = standInApp(seen, hanging);
  await new Promise<void>((resolveListen) => app!.listen(socket, resolveListen));
  const closeApp = async (): Promise<void> => {
    for (const res of hanging.splice(0)) res.destroy();
    if (!app) return;
    const closing = app;
    app = undefined;
    closing.closeAllConnections();
    await new Promise<void>((resolveClose) => closing.close(() => resolveClose()));
  };
  cleanups.push(closeApp);
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const nginx = prefixWithoutServerTokens(root);
  const snippetsDir = snippets === 'test' ? testSnippets(join(root, 'snippets')) : join(nginxSourceDir(), 'snippets');
  writeFileSync(join(nginx.confDir, 'provider.conf'), renderMtlsSite({ ...(await siteValues(root, httpsPort, httpPort, socket, snippetsDir)), ...limits }));
  const pid = startNginx(nginx);
  cleanups.push(() => stopNginx(pid));
  return { dir: root, httpsPort, httpPort, nginx, seen, hanging, closeApp };
}

interface RequestOptions {
  readonly path: string;
  readonly client?: IssuedCertificate | null;
  readonly headers?: Record<string, string>;
  readonly method?: string;
  /** The local (source) address: 127.0.0.x, for the per-address limits. */
  readonly from?: string;
  readonly timeoutMs?: number;
}

function get(site: Site, options: RequestOptions): Promise<Result> {
  const client = options.client === undefined ? clients[0] : options.client;
  return new Promise((resolveResult) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: site.httpsPort,
        path: options.path,
        method: options.method ?? 'GET',
        servername: 'localhost',
        ca: serverCaPem,
        cert: client?.chainPem,
        key: client?.keyPem,
        headers: { Authorization: 'Bearer tok', ...options.headers },
        localAddress: options.from,
        agent: false,
        timeout: options.timeoutMs ?? 10000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolveResult({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', (error) => resolveResult({ ok: false, error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', (error) => resolveResult({ ok: false, error: error.message }));
    req.end();
  });
}

/** A plain-HTTP GET with this Host header. */
function plainGet(port: number, path: string, host: string): Promise<Result> {
  return new Promise((resolveResult) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, setHost: false, headers: { Host: host }, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolveResult({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', (error) => resolveResult({ ok: false, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

function answered(result: Result): Answer {
  if (!result.ok) throw new Error(result.error);
  return result;
}

function errorPage(name: string): unknown {
  return JSON.parse(readFileSync(join(nginxSourceDir(), 'errors', `${name}.json`), 'utf8'));
}

/** Both security headers, each once, and no nginx version. */
function securityHeaders(answer: Answer): { hsts: unknown; nosniff: unknown; server: unknown } {
  return { hsts: answer.headers['strict-transport-security'], nosniff: answer.headers['x-content-type-options'], server: answer.headers.server };
}
const SECURED = { hsts: HSTS, nosniff: 'nosniff', server: 'nginx' };

function logLines(site: Site, file: string): string[] {
  return readFileSync(file === 'error.log' ? join(site.nginx.prefix, 'logs', 'error.log') : join(site.dir, 'logs', file), 'utf8').trim().split('\n');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nginx-hardening-'));
  chmodSync(dir, 0o755);
  const root = createRootCa({ subject: { commonName: 'Test Root CA' } });
  const server = issueServerCert(root, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  for (const name of ['consumer-a', 'consumer-b', 'consumer-c', 'consumer-d', 'consumer-e', 'consumer-f']) clients.push(issueClientCert(root, { subject: { commonName: name } }));
  serverCaPem = root.certPem;
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'tls', 'server.crt'), server.chainPem);
  writeFileSync(join(dir, 'tls', 'server.key'), server.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'tls', 'client-ca.crt'), root.certPem);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('with the contract default limits: every kind of answer on 443 carries HSTS and nosniff, and no version', () => {
  let site: Site;
  beforeAll(async () => {
    site = await startSite('defaults', {}, 'test');
  });

  it('renders the contract defaults into the site (limit_req / limit_conn)', () => {
    const text = readFileSync(join(site.nginx.confDir, 'provider.conf'), 'utf8');
    expect(text).toContain(`rate=${HOST_SETTINGS.rateLimitPerClient.default}r/s;`);
    expect(text).toContain(`rate=${HOST_SETTINGS.rateLimitPerAddress.default}r/s;`);
    expect(text).toContain(`limit_req zone=provider_per_client burst=${HOST_SETTINGS.rateLimitBurst.default} nodelay;`);
    expect(text).toContain(`limit_conn provider_conn_per_address ${HOST_SETTINGS.connLimitPerAddress.default};`);
  });

  it.each([
    ['an app answer (once each, not the app\'s own)', { path: '/app/x' }, 200],
    ['a dataset nginx sends after auth_request', { path: '/meters' }, 200],
    ['a dataset range nginx sends', { path: '/meters', headers: { Range: 'bytes=0-1' } }, 206],
    ['a dataset sent on X-Accel-Redirect', { path: '/app/accel' }, 200],
    ['a public file', { path: '/static.csv' }, 200],
    ['a redirect (the app\'s 301)', { path: '/app/redirect' }, 301],
    ['nginx\'s 400 without a client certificate', { path: '/app/x', client: null }, 400],
    ['nginx\'s 404 (an internal location asked from outside)', { path: '/_datasets/small.csv' }, 404],
    ['nginx\'s 503', { path: '/app/x', headers: { 'X-Test-Unavailable': '1' } }, 503],
  ] as const)('%s', async (_kind, options: RequestOptions, status) => {
    const answer = answered(await get(site, options));
    expect(answer.status).toBe(status);
    expect(securityHeaders(answer)).toEqual(SECURED);
  });

  it('a dataset nginx answers 304 to (conditional request)', async () => {
    const first = answered(await get(site, { path: '/meters' }));
    const answer = answered(await get(site, { path: '/meters', headers: { 'If-None-Match': String(first.headers.etag) } }));
    expect(answer.status).toBe(304);
    expect(securityHeaders(answer)).toEqual(SECURED);
  });

  it("nginx's 504 (the app never answers)", async () => {
    const answer = answered(await get(site, { path: '/app/hang', timeoutMs: 20000 }));
    expect([answer.status, JSON.parse(answer.body)]).toEqual([504, errorPage('504')]);
    expect(securityHeaders(answer)).toEqual(SECURED);
  }, 30000);

  it("nginx's error pages name no version (plain HTTP to the TLS port: nginx's own HTML page)", async () => {
    const answer = answered(await plainGet(site.httpsPort, '/', 'localhost'));
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<center>nginx</center>');
    expect(answer.body).not.toContain(NGINX_VERSION);
    expect(answer.headers.server).toBe('nginx');
  });

  it('port 80 sends no HSTS (RFC 6797 §7.2: only over TLS) and no version', async () => {
    const answer = answered(await plainGet(site.httpPort, '/x', 'localhost'));
    expect([answer.status, answer.headers.location]).toEqual([301, `https://localhost:${site.httpsPort}/x`]);
    expect(answer.headers['strict-transport-security']).toBeUndefined();
    expect(answer.headers.server).toBe('nginx');
    expect(answer.body).not.toContain(NGINX_VERSION);
  });

  it("nginx's 502 (the app is down), last", async () => {
    await site.closeApp();
    for (const path of ['/meters', '/app/x']) {
      const answer = answered(await get(site, { path }));
      expect({ path, status: answer.status, body: JSON.parse(answer.body) }).toEqual({ path, status: 502, body: errorPage('502') });
      expect(securityHeaders(answer)).toEqual(SECURED);
      expect(answer.headers['x-fapi-interaction-id']).toMatch(UUID);
    }
  });
});

describe('port 80: only the provider\'s name is answered', () => {
  let site: Site;
  beforeAll(async () => {
    site = await startSite('port80', {}, 'production');
  });

  it.each([['another name', 'other.example.com'], ['the address', '127.0.0.1'], ['the distribution\'s catch-all name', '_']])('closes the connection for %s (444, no answer)', async (_what, host) => {
    for (const path of ['/', '/.well-known/acme-challenge/tok1']) {
      expect({ host, path, result: await plainGet(site.httpPort, path, host) }).toEqual({ host, path, result: { ok: false, error: 'ECONNRESET' } });
    }
  });

  it('closes the connection for a request without a Host (HTTP/1.0): not a byte answered', async () => {
    const received = await new Promise<string>((resolveReceived) => {
      const socket = connect(site.httpPort, '127.0.0.1', () => socket.end('GET / HTTP/1.0\r\n\r\n'));
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('close', () => resolveReceived(data));
      socket.on('error', () => undefined);
    });
    expect(received).toBe('');
  });

  it("still serves ACME challenges and the redirect for the provider's name", async () => {
    expect(answered(await plainGet(site.httpPort, '/.well-known/acme-challenge/tok1', 'localhost'))).toMatchObject({ status: 200, body: 'tok1.thumb' });
    expect(answered(await plainGet(site.httpPort, '/a?b=1', 'localhost'))).toMatchObject({ status: 301, headers: { location: `https://localhost:${site.httpsPort}/a?b=1` } });
  });

  it('logs the refusals with status 444', async () => {
    const line = await waitFor('a 444 access-log line', () => logLines(site, 'access.json.log').find((l) => /"status":444/.test(l)), 5000, 20);
    expect(JSON.parse(line).status).toBe(444);
  });
});

describe("taking over the distribution's default server (an nginx.conf like AL2023's)", () => {
  let nginx: NginxPrefix;
  let httpPort: number;
  let pid = 0;
  const distributionDefaultD = () => join(dir, 'al2023', 'default.d');

  beforeAll(async () => {
    const root = join(dir, 'al2023');
    for (const sub of ['acme/.well-known/acme-challenge', 'logs', 'html', 'default.d']) mkdirSync(join(root, sub), { recursive: true });
    writeFileSync(join(root, 'acme', '.well-known', 'acme-challenge', 'tok2'), 'tok2.thumb');
    writeFileSync(join(root, 'html', 'index.html'), 'Test Page for the HTTP Server on Amazon Linux\n');
    httpPort = await freePort();
    nginx = prefixWithoutServerTokens(root);
    // AL2023's http block: conf.d first, then its own server on port 80 (default_server), with default.d inside.
    const main = readFileSync(nginx.mainConf, 'utf8').replace(
      /\n}\s*$/,
      `
    server {
        listen       127.0.0.1:${httpPort} default_server;
        listen       127.0.0.2:${httpPort} default_server;
        server_name  _;
        root         ${join(root, 'html')};

        # Load configuration files for the default server block.
        include ${distributionDefaultD()}/*.conf;

        error_page 404 /404.html;
        location = /404.html {
        }
    }
}
`,
    );
    writeFileSync(nginx.mainConf, main);
    writeFileSync(
      join(nginx.confDir, 'provider.conf'),
      renderBootstrapSite({
        serverName: 'localhost',
        httpListenV4: `127.0.0.1:${httpPort}`,
        httpListenV6: `127.0.0.2:${httpPort}`,
        acmeWebroot: join(root, 'acme'),
        logDir: join(root, 'logs'),
        snippetsDir: join(nginxSourceDir(), 'snippets'),
      }),
    );
  });

  afterAll(async () => {
    if (pid) await stopNginx(pid);
  });

  it('nginx -t refuses our sites while the distribution still declares its default server', () => {
    expect(() => testNginxConfig(nginx)).toThrow(/duplicate default server/);
  });

  it("after the host's take-over (sed on nginx.conf + default.d drop-in), only the provider's name is answered", async () => {
    const sed = spawnSync('sed', ['-i', '-E', TAKE_OVER_DEFAULT_SERVER_SED, nginx.mainConf], { encoding: 'utf8' });
    expect(sed.status).toBe(0);
    // Idempotent: a second run changes nothing.
    const once = readFileSync(nginx.mainConf, 'utf8');
    spawnSync('sed', ['-i', '-E', TAKE_OVER_DEFAULT_SERVER_SED, nginx.mainConf]);
    expect(readFileSync(nginx.mainConf, 'utf8')).toBe(once);
    expect(once).not.toContain('default_server');
    copyFileSync(join(nginxSourceDir(), 'snippets', 'close-connection.conf'), join(distributionDefaultD(), 'provider-host.conf'));
    pid = startNginx(nginx);
    for (const host of ['other.example.com', '_', '127.0.0.1']) {
      expect({ host, result: await plainGet(httpPort, '/', host) }).toEqual({ host, result: { ok: false, error: 'ECONNRESET' } });
    }
    expect(answered(await plainGet(httpPort, '/.well-known/acme-challenge/tok2', 'localhost'))).toMatchObject({ status: 200, body: 'tok2.thumb' });
    expect(answered(await plainGet(httpPort, '/', 'localhost')).status).toBe(404);
  });
});

describe('request and connection limits: 429 with the JSON page, logged', () => {
  let site: Site;
  const [RATE, BURST, CONNECTIONS] = [1, 4, 2];
  beforeAll(async () => {
    site = await startSite('limits', { rateLimitPerClient: RATE, rateLimitPerAddress: RATE, rateLimitBurst: BURST, connLimitPerAddress: CONNECTIONS }, 'production');
  });

  const burst = async (options: RequestOptions, count: number): Promise<number[]> => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i += 1) statuses.push(answered(await get(site, options)).status);
    return statuses;
  };

  it('answers requests under the limit, then 429 with the JSON page, Retry-After and both security headers', async () => {
    const before = site.seen.length;
    const statuses = await burst({ path: '/app/x', from: '127.0.0.1', headers: { 'x-fapi-interaction-id': 'limited-1' } }, BURST + 4);
    // rate + burst within the first second: 1 + BURST answered, the rest refused (a slot may free meanwhile).
    expect(statuses.slice(0, BURST + 1)).toEqual(Array(BURST + 1).fill(200));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    expect(site.seen.length - before).toBe(statuses.filter((s) => s === 200).length);
    const answer = answered(await get(site, { path: '/app/x', from: '127.0.0.1', headers: { 'x-fapi-interaction-id': 'limited-2' } }));
    expect(answer.status).toBe(429);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual(errorPage('429'));
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_many_requests' });
    expect(answer.headers['retry-after']).toBe('1');
    expect(securityHeaders(answer)).toEqual(SECURED);
    expect(answer.headers['x-fapi-interaction-id']).toBe('limited-2');
  });

  it('limits per client certificate: the same certificate from a fresh address is refused', async () => {
    expect(answered(await get(site, { path: '/app/x', from: '127.0.0.2' })).status).toBe(429);
  });

  it('limits per address: another certificate from the same address is refused, from a fresh one answered', async () => {
    expect(answered(await get(site, { path: '/app/x', from: '127.0.0.1', client: clients[1] })).status).toBe(429);
    expect(answered(await get(site, { path: '/app/x', from: '127.0.0.3', client: clients[1] })).status).toBe(200);
  });

  it('limits dataset reads and public files too (checked before try_files)', async () => {
    const statuses = await burst({ path: '/static.csv', from: '127.0.0.4', client: clients[2] }, BURST + 3);
    expect(statuses.slice(0, BURST + 1)).toEqual(Array(BURST + 1).fill(200));
    expect(statuses.at(-1)).toBe(429);
    expect(answered(await get(site, { path: '/meters', from: '127.0.0.4', client: clients[2] })).status).toBe(429);
  });

  it('limits connections (requests in progress) per address: one over gets 429 at once', async () => {
    const seen = site.seen.length;
    // Certificates and an address not used above: no rate limit is what refuses.
    const held = [3, 4].map((i) => get(site, { path: '/app/hang', from: '127.0.0.5', client: clients[i], timeoutMs: 20000 }));
    await waitFor('two requests held by the app', () => (site.hanging.length >= CONNECTIONS ? true : undefined), 5000, 20);
    const over = answered(await get(site, { path: '/app/x', from: '127.0.0.5', client: clients[5] }));
    expect([over.status, JSON.parse(over.body)]).toEqual([429, errorPage('429')]);
    expect(securityHeaders(over)).toEqual(SECURED);
    expect(site.seen.length - seen).toBe(CONNECTIONS);
    for (const res of site.hanging.splice(0)) res.end('released');
    expect((await Promise.all(held)).map((r) => answered(r).status)).toEqual([200, 200]);
  });

  it('logs each refusal: status 429 in the access log, "limiting requests" and "limiting connections" in error.log', async () => {
    const refused = await waitFor('429 access-log lines', () => {
      const lines = logLines(site, 'access.json.log').map((l) => JSON.parse(l) as { status: number; request: string; client_subject: string });
      return lines.filter((l) => l.status === 429).length >= 5 ? lines.filter((l) => l.status === 429) : undefined;
    }, 5000, 20);
    expect(refused[0]).toMatchObject({ status: 429, request: 'GET /app/x HTTP/1.1' });
    expect(refused[0]!.client_subject).toContain('CN=consumer-a');
    const errors = logLines(site, 'error.log');
    expect(errors.some((l) => /\[warn\].*limiting requests, excess: [\d.]+ by zone "provider_per_client"/.test(l))).toBe(true);
    expect(errors.some((l) => /\[warn\].*limiting requests, excess: [\d.]+ by zone "provider_per_address"/.test(l))).toBe(true);
    expect(errors.some((l) => /\[warn\].*limiting connections by zone "provider_conn_per_address"/.test(l))).toBe(true);
  });
});

describe('TLS sessions', () => {
  it('live 5 minutes in the shared cache, without tickets', () => {
    const policy = readFileSync(join(nginxSourceDir(), 'snippets', 'tls-policy.conf'), 'utf8');
    expect(policy).toMatch(/^ssl_session_timeout 5m;$/m);
    expect(policy).toMatch(/^ssl_session_tickets off;$/m);
  });

  it('are offered for 300 s (TLS 1.3 ticket lifetime hint), and TLS 1.2 gets no ticket (openssl s_client against the running site)', async () => {
    const site = await startSite('tls', {}, 'production');
    const client = clients[0]!;
    const certFile = join(site.dir, 'client.pem');
    writeFileSync(certFile, `${client.certPem}${client.keyPem}`, { mode: 0o600 });
    // stdin open for a second: TLS 1.3 sends its session after the handshake.
    const sClient = (version: string): string => {
      const command = `(sleep 1) | openssl s_client -connect 127.0.0.1:${site.httpsPort} -servername localhost ${version} -cert ${certFile}`;
      const result = spawnSync('bash', ['-c', command], { encoding: 'utf8', timeout: 15000 });
      return `${result.stdout}${result.stderr}`;
    };
    const tls13 = sClient('-tls1_3');
    expect(tls13).toMatch(/Protocol\s*: TLSv1\.3/);
    expect(tls13).toMatch(/TLS session ticket lifetime hint: 300 \(seconds\)/);
    const tls12 = sClient('-tls1_2');
    expect(tls12).toMatch(/Protocol\s*: TLSv1\.2/);
    expect(tls12).toMatch(/Session-ID: [0-9A-F]{64}/);
    expect(tls12).not.toMatch(/TLS session ticket/);
  }, 30000);
});
