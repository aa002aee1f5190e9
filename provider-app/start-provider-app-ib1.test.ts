/**
 * The real entry point in the ib1 profile with JWT access tokens: a child process on a UNIX
 * socket, an HTTPS issuer (RFC 8414 metadata + JWKS) trusted through `tlsCa`, IB1 client
 * certificates, and the heartbeat counting a real access-log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createDevSet, type DevSet } from '../testing/pki/dev-set';
import { accessTokenClaims, ib1Clients, LICENCE, ROLE_REPORTER, signingKey, type Ib1Clients, type SigningKey } from '../testing/provider-app-ib1-material';

jest.setTimeout(60000);

const MAIN = join(__dirname, 'start-provider-app.ts');

function runMain(args: string[]): ChildProcess {
  return spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json') },
  });
}

async function collect(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

function get(socketPath: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('provider-app main, ib1 profile with JWT access tokens', () => {
  let dir: string;
  let pki: DevSet;
  let clients: Ib1Clients;
  let key: SigningKey;
  let as: Server;
  let issuer: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provider-main-ib1-'));
    pki = createDevSet(join(dir, 'pki'));
    [clients, key] = await Promise.all([ib1Clients(), signingKey('k-1')]);
    // The issuer's TLS is signed by the dev set's CA: only `tlsCa` makes it trusted.
    as = createHttpsServer({ cert: pki.server.chainPem, key: pki.server.keyPem }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/oauth-authorization-server') res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      else if (req.url === '/jwks') res.end(JSON.stringify({ keys: [key.jwk] }));
      else res.writeHead(404).end('{}');
    });
    as.listen(0, '127.0.0.1');
    await once(as, 'listening');
    issuer = `https://127.0.0.1:${(as.address() as { port: number }).port}`;
  });
  afterAll(() => {
    as.closeAllConnections();
    as.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ({ dataDir: 'data', issuer, clientId: 'provider', tlsCert: 'pki/provider.chain.crt', tlsKey: 'pki/provider.key', tlsCa: 'pki/ca-bundle.crt' });

  it('refuses to start without a usable stateDir, naming it', async () => {
    mkdirSync(join(dir, 'data'), { recursive: true });
    const file = join(dir, 'no-state.json');
    writeFileSync(file, JSON.stringify({ ...base(), port: 0, profile: 'ib1', accessLogFile: 'access.json.log', stateDir: 'missing-state' }));
    const { code, stderr } = await collect(runMain(['--config', file]));
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(`provider-app: config stateDir: ${join(dir, 'missing-state')} is not a directory (the heartbeat keeps its state there; create it, writable by the app)`);
  });

  it('serves open data to anyone, shared data to a member with a JWT, and the heartbeat', async () => {
    const data = join(dir, 'data');
    mkdirSync(data, { recursive: true });
    mkdirSync(join(dir, 'state'), { recursive: true });
    writeFileSync(join(data, 'open-map.csv'), 'id\n1\n');
    writeFileSync(join(data, 'voltages.csv'), 'v\n230\n');
    writeFileSync(join(data, 'manifest.json'), JSON.stringify({ datasets: { 'open-map': { access: 'open' }, voltages: { roles: [ROLE_REPORTER], licence: LICENCE } } }));
    const accessLog = join(dir, 'access.json.log');
    writeFileSync(accessLog, '');
    const socket = join(dir, 'provider.sock');
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify({ ...base(), socket, profile: 'ib1', tokenValidation: 'jwt', tokenAlgorithms: ['ES256'], accessLogFile: accessLog, stateDir: 'state' }));
    const child = runMain(['--config', file]);
    const done = collect(child);
    try {
      const [message] = (await once(child, 'message')) as [unknown];
      expect(message).toBe('ready');
      expect(await get(socket, '/open-map')).toEqual({ status: 200, body: 'id\n1\n' });
      expect((await get(socket, '/voltages')).status).toBe(401);
      const token = await new SignJWT(accessTokenClaims(issuer, clients.reporter.directoryUrl, LICENCE)).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
      const member = { 'x-oe-client-cert': encodeURIComponent(clients.reporter.certPem), authorization: `Bearer ${token}` };
      expect(await get(socket, '/voltages', member)).toEqual({ status: 200, body: 'v\n230\n' });
      // What nginx would have logged for the period (the app does not write this file).
      const line = (status: number, path: string) => `${JSON.stringify({ time: new Date().toISOString(), request: `GET ${path} HTTP/1.1`, status })}\n`;
      appendFileSync(accessLog, line(200, '/open-map') + line(401, '/voltages') + line(200, '/voltages') + line(200, '/voltages'));
      const beat = await get(socket, '/heartbeat', member);
      expect(beat.status).toBe(200);
      expect(JSON.parse(beat.body)).toEqual({ period_start: expect.any(String), period_end: expect.any(String), api_call_response_200_count: 3, api_call_response_401_count: 1 });
      child.kill('SIGTERM');
      const { code, stdout } = await done;
      expect(code).toBe(0);
      expect(stdout).toContain('"profile":"ib1","tokenValidation":"jwt"');
      expect(stdout).not.toContain(token);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
