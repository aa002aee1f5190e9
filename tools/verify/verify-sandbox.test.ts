/** verify against the real sandbox: every check passes; a wrong CA fails with ✘ and exit 1. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startSandbox, type Sandbox } from '../dev/sandbox';
import { createRootCa } from '../../testing/pki';
import { runVerifyCli } from './cli';
import { runVerify } from './run-verify';

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const code = await runVerifyCli(args, out, new PassThrough());
  return { code, out: text };
}

// nginx renders the production site template (the app answers with X-Accel-Redirect);
// the Node terminator is the fallback for machines without nginx
describe.each(['nginx', 'node'] as const)('verify against the sandbox (%s terminator)', (terminator) => {
  let stateDir: string;
  let sandbox: Sandbox;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'verify-it-'));
    sandbox = await startSandbox({ stateDir, port: 0, terminator });
  }, 60_000);

  afterAll(async () => {
    await sandbox?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('passes every check, one ✔ line each, exit 0', async () => {
    const { code, out } = await cli([sandbox.url, '--sandbox-dir', stateDir]);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe(`Verifying ${sandbox.url}`);
    expect(lines.slice(1, -1).map((line) => line.slice(0, 28).trimEnd())).toEqual([
      '✔ DNS resolves',
      '✔ server certificate',
      '✔ TLS versions',
      '✔ no client cert → refused',
      '✔ token (client_credentials)',
      '✔ dataset download',
      '✔ x-fapi-interaction-id',
      '✔ Date header',
    ]);
    expect(out).toMatch(/✔ DNS resolves +localhost → /);
    expect(out).toMatch(/✔ server certificate +valid for localhost, issued by .*\(\d+ days left\)/);
    expect(out).toMatch(/✔ TLS versions +TLSv1 no, TLSv1\.1 no, TLSv1\.2 yes \(ECDHE-RSA-AES(128|256)-GCM-SHA(256|384)\), TLSv1\.3 yes/);
    expect(lines.at(-1)).toBe('all 8 checks passed');
    expect(code).toBe(0);
  }, 30_000);

  it('fails with ✘ and exit 1 when the server certificate is not signed by the CA we trust', async () => {
    const wrongCa = join(stateDir, 'wrong-ca.crt');
    writeFileSync(wrongCa, createRootCa({ subject: { commonName: 'Wrong CA' } }).certPem);
    const { code, out } = await cli([sandbox.url, '--sandbox-dir', stateDir, '--ca', wrongCa]);
    expect(out).toMatch(/^✘ server certificate +not trusted: /m);
    expect(out).toMatch(/^✘ token \(client_credentials\) +TLS refused by us/m);
    expect(out.trimEnd()).toMatch(/\d+ of \d+ checks failed$/);
    expect(code).toBe(1);
  }, 30_000);

  it('the library returns the same checks for a caller such as the e2e replica', async () => {
    const report = await runVerify({ url: sandbox.url, consumer: { sandboxDir: stateDir }, dataset: 'carbon-intensity' });
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'dataset download')?.detail).toMatch(/^carbon-intensity: HTTP 200, 17\.9 KiB/);
  }, 30_000);
});
