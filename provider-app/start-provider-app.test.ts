/**
 * The real entry point in a child process: config validation at start-up, PM2's ready
 * message, and draining on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { thumbprintS256 } from '../testing/pki';
import { createDevSet, type DevSet } from '../testing/pki/dev-set';
import { escapedCert } from '../testing/provider-app-fixtures';

jest.setTimeout(60000);

const MAIN = join(__dirname, 'start-provider-app.ts');

function runMain(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json'), ...env },
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

describe('provider-app main', () => {
  let dir: string;
  let pki: DevSet;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'provider-main-'));
    pki = createDevSet(join(dir, 'pki'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 with one line per config problem', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ dataDir: join(dir, 'nowhere'), issuer: 'http://x', clientId: 'p', tlsCert: 'missing.crt', tlsKey: 'missing.key' }));
    const { code, stderr } = await collect(runMain(['--config', file]));
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'provider-app: config issuer: "http://x" is not an https URL without query or fragment; use e.g. "https://matls-auth.directory.energydata.org.uk/"',
        expect.stringMatching(/^provider-app: config socket: give exactly one of "socket"/),
      ]),
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('names the missing files and folder once the shape is valid', async () => {
    const file = join(dir, 'files.json');
    writeFileSync(file, JSON.stringify({ port: 0, dataDir: 'nowhere', issuer: 'https://127.0.0.1:1', clientId: 'p', tlsCert: 'missing.crt', tlsKey: 'missing.key' }));
    const { code, stderr } = await collect(runMain([], { PROVIDER_CONFIG: file }));
    expect(code).toBe(2);
    expect(stderr).toContain(`provider-app: config tlsCert: cannot read ${join(dir, 'missing.crt')}`);
    expect(stderr).toContain(`provider-app: config dataDir: ${join(dir, 'nowhere')} is not a directory`);
  });

  describe('TLS material (contents, not just readability)', () => {
    /** Runs main with a valid config but these TLS files; killed if it starts instead of exiting. */
    const withTls = async (tls: { tlsCert: string; tlsKey: string; tlsCa?: string }) => {
      const data = join(dir, 'tls-data');
      require('node:fs').mkdirSync(data, { recursive: true });
      const file = join(dir, 'tls.json');
      writeFileSync(file, JSON.stringify({ port: 0, dataDir: data, issuer: 'https://127.0.0.1:1', clientId: 'provider', scope: 'datasets:read', ...tls }));
      const child = runMain(['--config', file]);
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      try {
        const result = await collect(child);
        return { ...result, lines: result.stderr.trim().split('\n') };
      } finally {
        clearTimeout(killer);
      }
    };

    it('names a garbage PEM certificate, a garbage key and a non-PEM CA, one line each, and exits 2', async () => {
      const garbageCert = join(dir, 'garbage.crt');
      const garbageKey = join(dir, 'garbage.key');
      const derCa = join(dir, 'ca.der');
      writeFileSync(garbageCert, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=!!\n-----END CERTIFICATE-----\n');
      const label = ['PRIVATE', 'KEY'].join(' '); // assembled: no scan of the repository mistakes this for a key
      writeFileSync(garbageKey, `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`);
      writeFileSync(derCa, Buffer.from(new (require('node:crypto').X509Certificate)(pki.rootCa.certPem).raw));
      const { code, lines } = await withTls({ tlsCert: garbageCert, tlsKey: garbageKey, tlsCa: derCa });
      expect(code).toBe(2);
      expect(lines).toEqual([
        `provider-app: config tlsCert: ${garbageCert}: certificate 1 of 1 cannot be parsed (bad base64 decode); give the provider's transport certificate (its chain may follow) in PEM`,
        expect.stringMatching(new RegExp(`^provider-app: config tlsKey: ${garbageKey} is not a usable PEM private key \\(.+\\); give the unencrypted PEM private key of tlsCert$`)),
        `provider-app: config tlsCa: ${derCa} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); give the CA certificate(s) of the authorization server's TLS in PEM, or leave tlsCa out to trust the system roots only`,
      ]);
    });

    it('names a key that does not match the certificate, and exits 2', async () => {
      const { code, lines } = await withTls({ tlsCert: pki.files['provider.chain.crt']!, tlsKey: pki.files['consumer.key']!, tlsCa: pki.files.caBundle! });
      expect(code).toBe(2);
      expect(lines).toEqual([
        `provider-app: config tlsKey: ${pki.files['consumer.key']} does not match the certificate in ${pki.files['provider.chain.crt']}; give the private key tlsCert was issued for (or the certificate issued for this key)`,
      ]);
    });
  });

  it('says how to pass the config when there is none', async () => {
    const { code, stderr } = await collect(runMain([], { PROVIDER_CONFIG: '' }));
    expect(code).toBe(2);
    expect(stderr).toContain('pass --config <file> or set PROVIDER_CONFIG');
  });

  describe('SIGTERM', () => {
    let slowAuthz: Server;
    let issuer: string;
    beforeAll(async () => {
      // A deliberately slow stand-in for the authorization server: it keeps a request in
      // flight long enough to send SIGTERM in the middle of it.
      slowAuthz = createHttpsServer({ cert: pki.server.chainPem, key: pki.server.keyPem }, (req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/.well-known/openid-configuration') {
          res.end(JSON.stringify({ issuer, introspection_endpoint: `${issuer}/introspect` }));
          return;
        }
        const now = Math.floor(Date.now() / 1000);
        setTimeout(() => {
          res.end(JSON.stringify({ active: true, client_id: 'consumer', scope: 'datasets:read', iat: now, exp: now + 300, cnf: { 'x5t#S256': thumbprintS256(pki.consumer.certPem) } }));
        }, 1500);
      });
      slowAuthz.listen(0, '127.0.0.1');
      await once(slowAuthz, 'listening');
      issuer = `https://127.0.0.1:${(slowAuthz.address() as { port: number }).port}`;
    });
    afterAll(() => {
      slowAuthz.closeAllConnections();
      slowAuthz.close();
    });

    it('finishes the in-flight request, refuses new ones, then exits 0', async () => {
      const data = join(dir, 'data');
      rmSync(data, { recursive: true, force: true });
      require('node:fs').mkdirSync(data);
      writeFileSync(join(data, 'meters.csv'), 'id,kwh\n1,2.5\n');
      const socket = join(dir, 'provider.sock');
      const file = join(dir, 'good.json');
      writeFileSync(
        file,
        JSON.stringify({ socket, dataDir: 'data', issuer, clientId: 'provider', tlsCert: 'pki/provider.chain.crt', tlsKey: 'pki/provider.key', tlsCa: 'pki/ca-bundle.crt', scope: 'datasets:read' }),
      );
      const child = runMain(['--config', file]);
      const done = collect(child);
      try {
        const [message] = (await once(child, 'message')) as [unknown];
        expect(message).toBe('ready');
        const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest(
            { socketPath: socket, path: '/meters', headers: { 'x-oe-client-cert': escapedCert(pki.consumer), authorization: 'Bearer in-flight-token' } },
            (res) => {
              let body = '';
              res.setEncoding('utf8').on('data', (c: string) => (body += c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on('error', reject);
          req.end();
        });
        await new Promise((resolve) => setTimeout(resolve, 400));
        child.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 200));
        const refused = await new Promise<string>((resolve) => {
          const req = httpRequest({ socketPath: socket, path: '/ping' }, (res) => resolve(`answered ${res.statusCode}`));
          req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
          req.end();
        });
        expect(['ENOENT', 'ECONNREFUSED']).toContain(refused);
        const answer = await inFlight;
        expect(answer).toEqual({ status: 200, body: 'id,kwh\n1,2.5\n' });
        const { code, stdout } = await done;
        expect(code).toBe(0);
        expect(stdout).toContain('"msg":"draining"');
        expect(stdout).toContain('"msg":"stopped"');
        expect(existsSync(socket)).toBe(false);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });
});
