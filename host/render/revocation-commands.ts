/**
 * The renderer's revocation commands (host/scripts/lib/revocation.sh calls them):
 *
 *   revocation-refresh   fetch the CRLs, verify them against the trust bundle, install
 *                        the set in $PH_REVOCATION_DIR/crl.pem and write status.json;
 *                        prints "changed" or "unchanged", the run's lines on stderr
 *   revocation-nginx     render the two nginx files from the installed set and the deny
 *                        list; prints "changed" or "unchanged"
 *   deny-list-check FILE validate a downloaded deny list before it is installed
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY_DENY_LIST, parseDenyList, type DenyList } from '../../contract/deny-list';
import type { HostSettings } from '../../contract/host-settings';
import { CRL_SET_FILE, REVOCATION_HTTP_CONF, REVOCATION_SERVER_CONF, renderRevocationHttpConf, renderRevocationServerConf, writeRevocationNginxFiles } from '../../nginx/revocation';
import { refreshCrls, STATUS_FILE } from './revocation/refresh';
import { writeFileAtomic } from '../../lib/atomic-file';

/** The installed deny list's file in the revocation folder (sync_deny_list installs it). */
export const DENY_LIST_FILE = 'deny-list.json';

// Each fetch: bounded in time and tries; the timer comes back in crlRefreshMinutes.
const FETCH_TIMEOUT_MS = 15_000;
const FETCH_RETRIES = 2;

export interface RevocationPaths {
  readonly revocationDir: string;
  readonly trustBundle: string;
}

/** The deny list installed on this host (none: the empty list). */
export function installedDenyList(dir: string): DenyList {
  const file = join(dir, DENY_LIST_FILE);
  return existsSync(file) ? parseDenyList(readFileSync(file, 'utf8'), file) : EMPTY_DENY_LIST;
}

export async function revocationRefresh(settings: HostSettings, paths: RevocationPaths, log: (line: string) => void): Promise<string> {
  const crlFile = join(paths.revocationDir, CRL_SET_FILE);
  if (!settings.revocation) {
    const had = existsSync(crlFile);
    rmSync(crlFile, { force: true });
    writeFileAtomic(join(paths.revocationDir, STATUS_FILE), `${JSON.stringify({ state: 'disabled', checkedAt: new Date().toISOString() }, null, 2)}\n`);
    log('revocation checking is off (revocation.enabled: false): no CRL is fetched');
    return had ? 'changed' : 'unchanged';
  }
  const result = await refreshCrls({
    urls: settings.crlUrls ? settings.crlUrls.split(',') : [],
    fromBundle: settings.crlFromBundle,
    bundlePath: paths.trustBundle,
    dir: paths.revocationDir,
    warnHours: settings.crlWarnHours,
    timeoutMs: FETCH_TIMEOUT_MS,
    retries: FETCH_RETRIES,
  });
  for (const line of result.logLines) log(line);
  return result.changed ? 'changed' : 'unchanged';
}

/** Renders both nginx files from what is installed; "changed" when either differs. */
export function revocationNginx(settings: HostSettings, paths: RevocationPaths): string {
  const dir = paths.revocationDir;
  const crlFile = join(dir, CRL_SET_FILE);
  const installed = existsSync(crlFile) ? readFileSync(crlFile) : undefined;
  const state = {
    checkCrls: settings.revocation,
    ...(installed !== undefined
      ? { crlFile, crlGeneration: createHash('sha256').update(installed).digest('hex').slice(0, 12) }
      : {}),
    denyList: installedDenyList(dir),
  };
  const current = (name: string): string | undefined => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined);
  const same = current(REVOCATION_HTTP_CONF) === renderRevocationHttpConf(state) && current(REVOCATION_SERVER_CONF) === renderRevocationServerConf(state);
  if (same) return 'unchanged';
  writeRevocationNginxFiles(dir, state);
  return 'changed';
}

/** Validates a deny list file; prints its entry count. */
export function denyListCheck(file: string, text: string): string {
  return `${parseDenyList(text, file).entries.length}\n`;
}
