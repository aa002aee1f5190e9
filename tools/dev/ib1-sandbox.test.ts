/**
 * `npm run dev -- --profile ib1` for real (nginx, the authorization server issuing JWTs, the
 * app in the ib1 profile): the client speaks it with an IB1 certificate alone (its Directory
 * URL is the client id), verify checks the ib1 duties, and the banner's open-data curl works.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { decodeJwt } from 'jose';
import { IB1_SANDBOX } from '../../testing/pki/ib1-set';
import { runClientCliCaptured } from '../../testing/run-client-cli';
import { discoverIssuer } from '../client/discovery';
import { loadTlsIdentity } from '../client/tls-identity';
import { runVerifyCli } from '../verify/cli';
import { IB1_SANDBOX_MEMBERS } from './ib1-sandbox';
import { startSandbox, type Sandbox } from './sandbox';

let stateDir: string;
let sandbox: Sandbox;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'dev-ib1-'));
  sandbox = await startSandbox({ stateDir, port: 0, profile: 'ib1', terminator: 'nginx' });
}, 90_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** The consumer's identity as flags only: no --client-id, no sandbox to fill gaps. */
function ib1Flags(): string[] {
  const { consumer } = sandbox.state;
  return ['--url', sandbox.url, '--issuer', sandbox.issuer, '--cert', consumer.certFile, '--key', consumer.keyFile, '--ca', consumer.caFile, '--scope', IB1_SANDBOX.licence, '--sandbox-dir', join(stateDir, 'none')];
}

describe('npm run dev -- --profile ib1', () => {
  it('publishes the ib1 profile and the Directory URL consumer in its state', () => {
    expect(sandbox.state).toMatchObject({ profile: 'ib1', heartbeatPath: '/heartbeat', consumer: { clientId: IB1_SANDBOX_MEMBERS.consumer.directoryUrl, scope: IB1_SANDBOX.licence } });
  });

  it('the client takes its client id from the IB1 certificate and gets a JWT with client_id = the Directory URL', async () => {
    const { code, out, err } = await runClientCliCaptured(['token', ...ib1Flags()]);
    expect({ code, err }).toMatchObject({ code: 0, err: expect.stringContaining(`token for ${IB1_SANDBOX_MEMBERS.consumer.directoryUrl}`) });
    expect(decodeJwt(out.trim())).toMatchObject({ client_id: IB1_SANDBOX_MEMBERS.consumer.directoryUrl, scope: IB1_SANDBOX.licence });
  });

  it('the client lists and downloads a role-gated dataset byte for byte', async () => {
    const list = await runClientCliCaptured(['list', '--json', ...ib1Flags()]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.out) as { name: string }[]).map((d) => d.name).sort()).toEqual(['carbon-intensity', 'generation-mix', 'half-hourly-consumption']);
    const get = await runClientCliCaptured(['get', 'half-hourly-consumption', ...ib1Flags()]);
    expect(get.code).toBe(0);
    expect(get.out).toBe(readFileSync(join(__dirname, '..', '..', 'sample-data', 'half-hourly-consumption.csv'), 'utf8'));
  });

  it('verify passes every ib1 check: TLS 1.3 only, ECDSA key, open data without a certificate, shared refused, heartbeat', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const code = await runVerifyCli(['--sandbox-dir', stateDir], out, new PassThrough());
    const lines = text.trim().split('\n');
    expect(lines.slice(1, -1).map((line) => line.slice(0, 28).trimEnd())).toEqual([
      '✔ DNS resolves',
      '✔ server certificate',
      '✔ server key (ECDSA)',
      '✔ TLS versions',
      '✔ token (client_credentials)',
      '✔ dataset download',
      '✔ x-fapi-interaction-id',
      '✔ Date header',
      '✔ open dataset, no cert',
      '✔ shared dataset, no cert',
      '✔ heartbeat',
    ]);
    expect(text).toContain('TLSv1.2 no, TLSv1.3 yes');
    expect(text).toMatch(/shared dataset, no cert\s+(generation-mix|half-hourly-consumption): HTTP 401/);
    expect(code).toBe(0);
  });

  it("the banner's open-data curl command downloads without a certificate", () => {
    const line = sandbox.instructions.split('\n').find((l) => l.trim().startsWith('curl --cacert'));
    expect(line).toBeDefined();
    const args = line!.trim().split(/\s+/).slice(1);
    const curl = spawnSync('curl', ['--silent', '--show-error', '--max-time', '10', ...args], { encoding: 'utf8', cwd: process.cwd() });
    expect(curl.stderr).toBe('');
    expect(curl.stdout).toBe(readFileSync(join(__dirname, '..', '..', 'sample-data', 'carbon-intensity.csv'), 'utf8'));
  });
});

describe('client discovery', () => {
  let server: Server;
  afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

  it('falls back to RFC 8414 (/.well-known/oauth-authorization-server) where the issuer has no OIDC discovery', async () => {
    const pki = join(stateDir, 'pki-ib1');
    const asked: string[] = [];
    server = createServer({ cert: readFileSync(join(pki, 'server.chain.crt')), key: readFileSync(join(pki, 'server.key')) }, (req, res) => {
      asked.push(req.url ?? '');
      if (req.url === '/.well-known/oauth-authorization-server/tenant') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `https://127.0.0.1:${port()}/tenant`, token_endpoint: `https://127.0.0.1:${port()}/tenant/token` }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const port = () => (server.address() as { port: number }).port;
    const metadata = await discoverIssuer(`https://127.0.0.1:${port()}/tenant`, loadTlsIdentity({ caFile: join(pki, 'server-ca-bundle.crt') }));
    expect(metadata.tokenEndpoint).toBe(`https://127.0.0.1:${port()}/tenant/token`);
    expect(asked).toEqual(['/tenant/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/tenant']);
  });
});
