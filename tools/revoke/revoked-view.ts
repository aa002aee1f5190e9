/**
 * What `provider-host revoked` shows: the deny list's entries and the host's revocation
 * status (BUCKET_LAYOUT.revocationStatusKey, which the host's refresh writes), compact for
 * people or whole as JSON. Pure: the command fetched the texts.
 */
import { z } from 'zod';
import type { DenyList } from '../../contract/deny-list';
import { describeTarget } from './certificate-selector';

// The host writes revocationStatus() (host/render/revocation/crl-set.ts), or only state
// and checkedAt while revocation is off. Read loosely: a newer host may add fields, and
// what is shown is all optional, so an older one may lack some.
const hostStatusSchema = z.looseObject({
  state: z.string(),
  checkedAt: z.string().optional(),
  lastSuccessAt: z.string().nullish(),
  lastError: z.string().nullish(),
  hoursToNextUpdate: z.number().nullish(),
  uncoveredIssuers: z.array(z.string()).optional(),
  crls: z
    .array(
      z.looseObject({
        issuer: z.string(),
        crlNumber: z.string().nullish(),
        nextUpdate: z.string().nullish(),
        hoursLeft: z.number().nullish(),
        revokedCount: z.number().optional(),
        source: z.string().optional(),
      }),
    )
    .optional(),
});

export type HostRevocationStatus = z.output<typeof hostStatusSchema>;

/** The host's status object, or why it cannot be shown. */
export function readHostStatus(text: string): { status: HostRevocationStatus } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  const result = hostStatusSchema.safeParse(json);
  if (result.success) return { status: result.data };
  const issue = result.error.issues[0]!;
  return { problem: `${issue.path.join('.') || '(top)'}: ${issue.message}` };
}

export interface RevokedView {
  /** The deny list's key and store, for the heading. */
  readonly denyListAt: string;
  /** Absent: no deny list written yet (or it could not be read: `denyListProblem`). */
  readonly denyList?: DenyList;
  readonly denyListProblem?: string;
  /** Absent: the host has not reported (or the report could not be read: `statusProblem`). */
  readonly status?: HostRevocationStatus;
  readonly statusProblem?: string;
}

const STATES: Readonly<Record<string, string>> = {
  ok: 'ok',
  warning: 'warning: a CRL is close to its nextUpdate, or the last refresh had a failing source',
  expired: "expired: a CRL is past its nextUpdate; nginx refuses that CA's clients",
  missing: 'missing: a CA of the trust bundle has no CRL; nginx refuses its clients',
  disabled: 'disabled (revocation.enabled: false): no CRL is checked; the deny list still holds',
};

function hours(value: number | null | undefined): string {
  if (value === null || value === undefined) return 'no CRL installed';
  return value > 0 ? `in ${value.toFixed(1)} h` : `expired ${Math.abs(value).toFixed(1)} h ago`;
}

function denyListLines(view: RevokedView): string[] {
  if (view.denyListProblem !== undefined) return [`deny list (${view.denyListAt}): cannot be read: ${view.denyListProblem}`];
  const entries = view.denyList?.entries ?? [];
  if (entries.length === 0) return [`deny list (${view.denyListAt}): empty; provider-host revoke <cert.pem> adds to it`];
  return [
    `deny list (${view.denyListAt}): ${entries.length} certificate${entries.length === 1 ? '' : 's'}`,
    ...entries.map((entry) => `  ${describeTarget(entry)}  added ${entry.addedAt}${entry.reason ? `  "${entry.reason}"` : ''}`),
  ];
}

function statusLines(view: RevokedView): string[] {
  if (view.statusProblem !== undefined) return [`host revocation: its report cannot be read: ${view.statusProblem}`];
  const status = view.status;
  if (!status) return ['host revocation: not reported yet (the host writes it after its first CRL refresh)'];
  const lines = [`host revocation: ${STATES[status.state] ?? status.state}${status.checkedAt ? ` (checked ${status.checkedAt})` : ''}`];
  if (status.state === 'disabled') return lines;
  const crls = status.crls ?? [];
  lines.push(
    `  next CRL update  ${hours(status.hoursToNextUpdate)}${crls.length > 1 ? ` (the earliest of ${crls.length} CRLs)` : ''}`,
    `  last success     ${status.lastSuccessAt ?? 'never'}`,
    `  last error       ${status.lastError ?? 'none'}`,
  );
  if (status.uncoveredIssuers?.length) lines.push(`  uncovered        ${status.uncoveredIssuers.join('; ')} (no CRL: nginx refuses their clients)`);
  for (const crl of crls) {
    const facts = [
      crl.crlNumber ? `#${crl.crlNumber}` : undefined,
      crl.nextUpdate ? `next update ${crl.nextUpdate}` : 'no nextUpdate',
      crl.revokedCount !== undefined ? `${crl.revokedCount} revoked` : undefined,
      crl.source ? `from ${crl.source}` : undefined,
    ].filter((fact) => fact !== undefined);
    lines.push(`  CRL              ${crl.issuer}: ${facts.join(', ')}`);
  }
  return lines;
}

/** The human form: the deny list, then the host's revocation status. */
export function renderRevoked(view: RevokedView): string {
  return `${[...denyListLines(view), ...statusLines(view)].join('\n')}\n`;
}

/** The machine form: the entries as listed and the host's status object as the host wrote it. */
export function revokedJson(view: RevokedView & { readonly denyListKey: string }): string {
  const denyList = view.denyListProblem !== undefined ? { key: view.denyListKey, error: view.denyListProblem } : { key: view.denyListKey, entries: view.denyList?.entries ?? [] };
  const revocationStatus = view.statusProblem !== undefined ? { error: view.statusProblem } : (view.status ?? null);
  return `${JSON.stringify({ denyList, revocationStatus }, null, 2)}\n`;
}
