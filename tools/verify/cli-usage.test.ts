import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runVerifyCli } from './cli';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let outText = '';
  let errText = '';
  out.on('data', (c: Buffer) => (outText += c.toString()));
  err.on('data', (c: Buffer) => (errText += c.toString()));
  const code = await runVerifyCli(args, out, err);
  return { code, out: outText, err: errText };
}

describe('verify CLI: usage', () => {
  let empty: string;
  beforeAll(() => {
    empty = mkdtempSync(join(tmpdir(), 'verify-cli-'));
  });
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('without a URL and without a sandbox: one ✘ line naming the fix, exit 1', async () => {
    const { code, out } = await run(['--sandbox-dir', empty]);
    expect(out).toBe('Verifying (none)\n✘ target                     no URL given and no sandbox running: npm run verify -- https://provider.example.com/\n1 of 1 checks failed\n');
    expect(code).toBe(1);
  });

  it('refuses a plain http:// URL', async () => {
    const { code, out } = await run(['http://provider.example.com/', '--sandbox-dir', empty]);
    expect(out).toMatch(/✘ target +http:\/\/provider\.example\.com\/ is not an https:\/\/ URL/);
    expect(code).toBe(1);
  });

  it('bad options are usage errors (exit 2), not checks', async () => {
    expect(await run(['https://a.example/', '--warn-days', 'soon'])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: --warn-days must be a whole number of days, got "soon"\./) });
    expect(await run(['https://a.example/', 'https://b.example/'])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: Expected one URL, got 2\./) });
    expect(await run(['--resolve', 'nonsense'])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: --resolve expects <host>:<address>/) });
  });

  it('without an identity for a real deployment, the authenticated checks fail as "not checked"', async () => {
    // nothing listens on port 1: the DNS check passes (an IP), every connection is refused at once
    const { code, out } = await run(['https://127.0.0.1:1/', '--sandbox-dir', empty, '--timeout', '2']);
    expect(out).toMatch(/✘ server certificate +no TLS handshake with 127\.0\.0\.1:1: ECONNREFUSED/);
    expect(out).toMatch(/✘ token \+ dataset download +not checked: Missing --issuer, --client-id, --cert\/--key\./);
    expect(code).toBe(1);
  });
});
