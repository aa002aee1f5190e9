/**
 * wait_for_dns (host/scripts/lib/certificate.sh): before asking the ACME
 * server, setup.sh waits until the domain resolves to the instance's public
 * IPv4 (read with IMDSv2), bounded by PH_DNS_WAIT_SECONDS and logging each try.
 * Here with the replica's IMDSv2-only stand-in and a resolver stub that
 * behaves like `getent ahostsv4` (exit 2 and no output for an unknown name).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImdsStandin, type ImdsStandin } from '../../testing/replica/imds-standin';
import { readLines, runLib, writeExecutable } from '../../testing/host-scripts';

const DOMAIN = 'provider.example.test';
const PUBLIC_IP = '203.0.113.10';

let dir: string;
let imds: ImdsStandin;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dns-wait-'));
  imds = await startImdsStandin(PUBLIC_IP);
});
afterEach(async () => {
  await imds.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A resolver that answers from its Nth call on (never when `from` is 0), with `address`. */
function resolver(from: number, address = PUBLIC_IP): string {
  return writeExecutable(
    join(dir, 'resolve'),
    `#!/usr/bin/env bash
printf '%s\\n' "$*" >>'${dir}/resolve.log'
calls=$(wc -l <'${dir}/resolve.log')
if (( ${from} == 0 || calls < ${from} )); then exit 2; fi
printf '%s    STREAM %s\\n%s    DGRAM\\n%s    RAW\\n' '${address}' "$1" '${address}' '${address}'
`,
  );
}

function waitForDns(resolveCmd: string, extra: Record<string, string> = {}) {
  return runLib('wait_for_dns; echo proceeded', {
    PATH: process.env.PATH ?? '',
    PH_SCRIPT_NAME: 'setup.sh',
    PH_DOMAIN: DOMAIN,
    PH_IMDS_URL: imds.url,
    PH_RESOLVE_CMD: resolveCmd,
    PH_DNS_WAIT_SECONDS: '2',
    PH_DNS_POLL_SECONDS: '1',
    ...extra,
  });
}

const waitingLines = (stderr: string) => stderr.split('\n').filter((line) => line.includes(`waiting for ${DOMAIN} to resolve to ${PUBLIC_IP}`));

describe('wait_for_dns', () => {
  it('gives up after PH_DNS_WAIT_SECONDS when the name never resolves, naming the domain, the expected IP and the fix', async () => {
    const result = await waitForDns(resolver(0));
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    // Progress while it waits (one line per poll of 1 s, over 2 s)...
    expect(waitingLines(result.stderr).length).toBeGreaterThanOrEqual(1);
    expect(waitingLines(result.stderr)[0]).toMatch(/\(now: nothing\); \ds left$/);
    // ...then the reason and the fix.
    expect(result.stderr).toContain(
      `setup.sh: ERROR: ${DOMAIN} still resolves to 'nothing', not this host's public IP ${PUBLIC_IP}, after 2s; ` +
        `check that the Route53 A record of ${DOMAIN} points to ${PUBLIC_IP} (the Elastic IP) and that the zone is delegated, then rerun: sudo provider-host-bootstrap setup`,
    );
    // Bounded: 2 s of waiting (SECONDS counts whole seconds), not the 30 min default.
    expect(result.ms).toBeGreaterThanOrEqual(1000);
    expect(result.ms).toBeLessThan(6000);
    expect(readLines(join(dir, 'resolve.log')).length).toBeGreaterThanOrEqual(2);
    // The public IP came from IMDSv2 (token first), once per poll; nothing was asked without a token.
    expect(imds.tokensIssued()).toBe(readLines(join(dir, 'resolve.log')).length);
    expect(imds.refused()).toBe(0);
  });

  it('names what the domain resolves to when it points elsewhere (e.g. a previous instance)', async () => {
    const result = await waitForDns(resolver(1, '198.51.100.7'));
    expect(result.status).not.toBe(0);
    expect(waitingLines(result.stderr)[0]).toContain('(now: 198.51.100.7)');
    expect(result.stderr).toContain(`ERROR: ${DOMAIN} still resolves to '198.51.100.7', not this host's public IP ${PUBLIC_IP}, after 2s`);
  });

  it('proceeds as soon as the name resolves to this host (here on the 2nd poll)', async () => {
    const result = await waitForDns(resolver(2));
    expect(result.stderr).not.toContain('ERROR');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('proceeded\n');
    expect(waitingLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(`setup.sh: ${DOMAIN} resolves to this host (${PUBLIC_IP})`);
    expect(readLines(join(dir, 'resolve.log'))).toEqual([DOMAIN, DOMAIN]);
    expect(result.ms).toBeLessThan(4000);
  });

  it('reads the public IP on every poll: an Elastic IP associated while it waits is the one it waits for', async () => {
    imds.setPublicIpv4('198.51.100.99');
    const pending = waitForDns(resolver(1), { PH_DNS_WAIT_SECONDS: '4' });
    setTimeout(() => imds.setPublicIpv4(PUBLIC_IP), 1200);
    const result = await pending;
    expect(result.stderr).toContain('waiting for provider.example.test to resolve to 198.51.100.99 (now: 203.0.113.10)');
    expect(result.stderr).toContain(`setup.sh: ${DOMAIN} resolves to this host (${PUBLIC_IP})`);
    expect(result.status).toBe(0);
  });

  it('keeps waiting while the instance has no public IP yet, and proceeds once it has one', async () => {
    imds.setPublicIpv4(undefined);
    const pending = waitForDns(resolver(1), { PH_DNS_WAIT_SECONDS: '4' });
    setTimeout(() => imds.setPublicIpv4(PUBLIC_IP), 1200);
    const result = await pending;
    expect(result.stderr).toContain("waiting for provider.example.test to resolve to this host's public IP (none in the instance metadata yet)");
    expect(result.stdout).toBe('proceeded\n');
    expect(result.status).toBe(0);
  });

  it('gives up at the bound, naming IMDSv2 and the Elastic IP, when the metadata never gives a public IP', async () => {
    const result = await waitForDns(resolver(1), { PH_IMDS_URL: 'http://127.0.0.1:9' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      "ERROR: cannot read this host's public IPv4 from the instance metadata (IMDSv2 at http://127.0.0.1:9) after 2s; check that the Elastic IP is associated with the instance",
    );
    expect(result.ms).toBeLessThan(8000);
  });
});
