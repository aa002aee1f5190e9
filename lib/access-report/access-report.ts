/**
 * nginx lines (+ the app's lines) → the report model. Pure: no I/O, no clock (`now` is
 * given), so the HTML, the text summary and `--json` all show the same numbers.
 *
 * nginx's access log is the source of truth for *what happened*: it has a line for every
 * response, including the dataset files nginx sent itself on the app's decision (reused
 * or not) and its own refusals, which never reach the app. The app's lines only add *who*
 * (client id) and *why* (the refusal's description) where nginx does not know.
 */
import { AppLineIndex } from './app-line-index';
import type { AppRecord, NginxRecord } from './parse-logs';
import { describeReason, reasonKey, refusalReason, type RefusalReason } from './refusal-reason';
import { OTHER, type Target, type TargetKind } from './request-target';

/** Bump when a field changes meaning or goes; added fields keep the version. */
export const REPORT_SCHEMA = 'provider-host/access-report@1';

/**
 * `client`: the OAuth client id (nginx's, for a read the app allowed; else the app's line).
 * A request with no client id of its own (no token or a bad one, a 429, /ping) counts for
 * the client whose id was seen with the same verified certificate subject elsewhere in the
 * logs, when that subject was seen with exactly one client id.
 * `certificate`: no client id known but a verified certificate: its subject.
 * `anonymous`: no verified certificate (none sent, one that failed verification, port 80):
 * nothing to name it by that the sender did not choose.
 */
export type ConsumerKind = 'client' | 'certificate' | 'anonymous';

export interface ReasonCount extends RefusalReason {
  readonly requests: number;
  /** One request line that got this answer (query values redacted). */
  readonly example?: string;
}

export interface ReportRow {
  readonly consumer: string;
  readonly consumerKind: ConsumerKind;
  /** A dataset name, `/datasets` or `/ping`, or `(other)`. */
  readonly dataset: string;
  readonly datasetKind: TargetKind;
  readonly requests: number;
  /** Body bytes (`$body_bytes_sent`). */
  readonly bytesSent: number;
  /** Answers below 400 (200, 206, 304, a redirect). */
  readonly successes: number;
  /** Reads nginx served on a decision it reused (`authz_cache` HIT): the app was not asked. */
  readonly reusedDecisions: number;
  /** Answers of 400 and above (refusals, and the 5xx the consumer got), by reason, most first. */
  readonly refusals: readonly ReasonCount[];
  readonly firstSeen: string;
  readonly lastSeen: string;
}

export interface InputFile {
  readonly file: string;
  readonly kind: 'nginx' | 'app';
  readonly lines: number;
  /** Lines that were not a line of this log (not JSON, no time or status): counted and skipped. */
  readonly malformed: number;
  /** The first few malformed line numbers, to look at. */
  readonly malformedLines: readonly number[];
}

export interface AccessReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly generatedAt: string;
  /** The window asked for (`since` inclusive, `until` exclusive) and the requests seen in it. */
  readonly window: { readonly since?: string; readonly until?: string; readonly firstRequest?: string; readonly lastRequest?: string };
  readonly totals: {
    readonly requests: number;
    readonly bytesSent: number;
    readonly successes: number;
    readonly refusals: number;
    readonly reusedDecisions: number;
    readonly consumers: number;
    readonly datasets: number;
  };
  /** By consumer (clients, then certificates, then anonymous; by name), then most requests first. */
  readonly rows: readonly ReportRow[];
  readonly topErrors: readonly ReasonCount[];
  readonly statuses: readonly { readonly status: number; readonly requests: number }[];
  /** Every hour of the window (UTC), empty ones included. */
  readonly hourly: readonly { readonly hour: string; readonly requests: number; readonly refusals: number }[];
  readonly userAgents: readonly { readonly userAgent: string; readonly requests: number }[];
  readonly inputs: {
    readonly files: readonly InputFile[];
    /** nginx lines outside the window. */
    readonly outsideWindow: number;
    /** Refusals whose reason came from the app's own line. */
    readonly refusalsExplainedByApp: number;
    /** Refusals the app answered for which no app line was found (no --app-log?). */
    readonly refusalsWithoutAppLine: number;
  };
}

export interface ReportOptions {
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, exclusive. */
  readonly until?: number;
  /** Epoch ms of "generated at". */
  readonly now: number;
  /** @default 10 */
  readonly topErrors?: number;
  /** @default 10 */
  readonly topUserAgents?: number;
}

const HOUR_MS = 3_600_000;
/** Longest chart: beyond ~3 months of hours the chart spans the requests only. */
const MAX_HOURS = 24 * 93;
/** Distinct user agents counted; the rest go to one bucket, so a flood of random ones costs nothing. */
const MAX_USER_AGENTS = 5000;
const OTHER_USER_AGENTS = '(other user agents)';
const NO_USER_AGENT = '(none)';
/** Anonymous requests are grouped in one row: their paths are the sender's choice, and a
 * row per scanned path would let anyone inflate the report. Their reasons and example
 * requests still say what they asked for. */
const ANY_PATH = '(any path)';

interface Tally {
  requests: number;
  refusals: number;
  readonly reasons: Map<string, { reason: RefusalReason; requests: number; example?: string }>;
}

interface RowTally extends Tally {
  readonly consumer: string;
  readonly consumerKind: ConsumerKind;
  readonly dataset: string;
  readonly datasetKind: TargetKind;
  bytesSent: number;
  successes: number;
  reusedDecisions: number;
  first: number;
  last: number;
}

const KIND_ORDER: Record<ConsumerKind, number> = { client: 0, certificate: 1, anonymous: 2 };

function consumerOf(line: NginxRecord, app: AppRecord | undefined): { consumer: string; consumerKind: ConsumerKind } {
  const clientId = line.clientId ?? app?.clientId;
  if (clientId !== undefined) return { consumer: clientId, consumerKind: 'client' };
  // nginx's subject (RFC 2253 form) first: the same certificate then always reads the same.
  const subject = line.clientVerify === 'SUCCESS' ? (line.clientSubject ?? app?.certSubject) : undefined;
  if (subject !== undefined) return { consumer: subject, consumerKind: 'certificate' };
  return { consumer: 'anonymous', consumerKind: 'anonymous' };
}

function countReason(tally: Tally, reason: RefusalReason, example: string | undefined): void {
  const key = reasonKey(reason);
  const known = tally.reasons.get(key);
  if (known) known.requests += 1;
  else tally.reasons.set(key, { reason, requests: 1, ...(example !== undefined ? { example } : {}) });
  tally.refusals += 1;
}

function sortedReasons(tally: Tally, limit = Infinity): ReasonCount[] {
  return [...tally.reasons.values()]
    .sort((a, b) => b.requests - a.requests || describeReason(a.reason).localeCompare(describeReason(b.reason)))
    .slice(0, limit)
    .map(({ reason, requests, example }) => ({ ...reason, requests, ...(example !== undefined ? { example } : {}) }));
}

const iso = (ms: number) => new Date(ms).toISOString();
const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** Collects nginx lines one at a time (a day of logs need not fit in memory as records). */
export class AccessReportBuilder {
  private readonly rows = new Map<string, RowTally>();
  private readonly overall: Tally = { requests: 0, refusals: 0, reasons: new Map() };
  private readonly statuses = new Map<number, number>();
  private readonly hours = new Map<number, { requests: number; refusals: number }>();
  private readonly userAgents = new Map<string, number>();
  /** Verified subject → the client ids seen with it (two are enough to know it is ambiguous). */
  private readonly subjectClients = new Map<string, Set<string>>();
  private bytesSent = 0;
  private reusedDecisions = 0;
  private outsideWindow = 0;
  private explainedByApp = 0;
  private withoutAppLine = 0;
  private first = Infinity;
  private last = -Infinity;

  constructor(
    private readonly options: ReportOptions,
    private readonly app: AppLineIndex = new AppLineIndex(),
  ) {}

  add(line: NginxRecord): void {
    const { since, until } = this.options;
    if ((since !== undefined && line.time < since) || (until !== undefined && line.time >= until)) {
      this.outsideWindow += 1;
      return;
    }
    const app = this.app.match(line);
    const who = consumerOf(line, app);
    if (who.consumerKind === 'client') this.noteSubject(line, who.consumer);
    const reason = refusalReason(line, app);
    const reused = line.authzCache === 'HIT' && line.authzStatus === 204;

    const row = this.rowFor(who, who.consumerKind === 'anonymous' ? { ...OTHER, label: ANY_PATH } : line.target, line.time);
    row.requests += 1;
    row.bytesSent += line.bytesSent;
    row.first = Math.min(row.first, line.time);
    row.last = Math.max(row.last, line.time);
    if (reused) row.reusedDecisions += 1;
    if (reason) countReason(row, reason, line.request);
    else row.successes += 1;

    this.overall.requests += 1;
    this.bytesSent += line.bytesSent;
    if (reused) this.reusedDecisions += 1;
    this.first = Math.min(this.first, line.time);
    this.last = Math.max(this.last, line.time);
    this.statuses.set(line.status, (this.statuses.get(line.status) ?? 0) + 1);
    const hour = this.hours.get(floorHour(line.time)) ?? { requests: 0, refusals: 0 };
    hour.requests += 1;
    this.hours.set(floorHour(line.time), hour);
    const agent = line.userAgent ?? NO_USER_AGENT;
    const bucket = this.userAgents.has(agent) || this.userAgents.size < MAX_USER_AGENTS ? agent : OTHER_USER_AGENTS;
    this.userAgents.set(bucket, (this.userAgents.get(bucket) ?? 0) + 1);
    if (!reason) return;
    hour.refusals += 1;
    countReason(this.overall, reason, line.request);
    if (app?.status === line.status && app.error !== undefined) this.explainedByApp += 1;
    else if (line.upstreamStatus === line.status && reason.description === undefined) this.withoutAppLine += 1;
  }

  /** Remembers that a verified certificate subject was seen with `clientId`. */
  private noteSubject(line: NginxRecord, clientId: string): void {
    if (line.clientVerify !== 'SUCCESS' || line.clientSubject === undefined) return;
    const clients = this.subjectClients.get(line.clientSubject) ?? new Set<string>();
    if (clients.size < 2) clients.add(clientId);
    this.subjectClients.set(line.clientSubject, clients);
  }

  private rowFor(who: { consumer: string; consumerKind: ConsumerKind }, target: Target, time: number): RowTally {
    const key = JSON.stringify([who.consumerKind, who.consumer, target.label]);
    let row = this.rows.get(key);
    if (!row) {
      row = { ...who, dataset: target.label, datasetKind: target.kind, requests: 0, refusals: 0, reasons: new Map(), bytesSent: 0, successes: 0, reusedDecisions: 0, first: time, last: time };
      this.rows.set(key, row);
    }
    return row;
  }

  build(files: readonly InputFile[] = []): AccessReport {
    const { since, until, now } = this.options;
    const seen = this.overall.requests > 0;
    const rows = this.attributedRows().sort(
      (a, b) => KIND_ORDER[a.consumerKind] - KIND_ORDER[b.consumerKind] || a.consumer.localeCompare(b.consumer) || b.requests - a.requests || a.dataset.localeCompare(b.dataset),
    );
    return {
      schema: REPORT_SCHEMA,
      generatedAt: iso(now),
      window: {
        ...(since !== undefined ? { since: iso(since) } : {}),
        ...(until !== undefined ? { until: iso(until) } : {}),
        ...(seen ? { firstRequest: iso(this.first), lastRequest: iso(this.last) } : {}),
      },
      totals: {
        requests: this.overall.requests,
        bytesSent: this.bytesSent,
        successes: this.overall.requests - this.overall.refusals,
        refusals: this.overall.refusals,
        reusedDecisions: this.reusedDecisions,
        consumers: new Set(rows.map((row) => `${row.consumerKind} ${row.consumer}`)).size,
        datasets: new Set(rows.filter((row) => row.datasetKind === 'dataset').map((row) => row.dataset)).size,
      },
      rows: rows.map((row) => ({
        consumer: row.consumer,
        consumerKind: row.consumerKind,
        dataset: row.dataset,
        datasetKind: row.datasetKind,
        requests: row.requests,
        bytesSent: row.bytesSent,
        successes: row.successes,
        reusedDecisions: row.reusedDecisions,
        refusals: sortedReasons(row),
        firstSeen: iso(row.first),
        lastSeen: iso(row.last),
      })),
      topErrors: sortedReasons(this.overall, this.options.topErrors ?? 10),
      statuses: [...this.statuses.entries()].sort(([a], [b]) => a - b).map(([status, requests]) => ({ status, requests })),
      hourly: this.hourly(),
      userAgents: [...this.userAgents.entries()]
        .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
        .slice(0, this.options.topUserAgents ?? 10)
        .map(([userAgent, requests]) => ({ userAgent, requests })),
      inputs: { files, outsideWindow: this.outsideWindow, refusalsExplainedByApp: this.explainedByApp, refusalsWithoutAppLine: this.withoutAppLine },
    };
  }

  /** The rows, those of a certificate subject seen with exactly one client id merged into that client's. */
  private attributedRows(): RowTally[] {
    const merged = new Map<string, RowTally>();
    for (const row of this.rows.values()) {
      const clients = row.consumerKind === 'certificate' ? this.subjectClients.get(row.consumer) : undefined;
      const owner = clients?.size === 1 ? [...clients][0]! : undefined;
      // A copy, so that merging never changes the tallies and build() can run again.
      const target: RowTally = {
        ...row,
        ...(owner !== undefined ? { consumer: owner, consumerKind: 'client' as const } : {}),
        reasons: new Map([...row.reasons].map(([key, counted]) => [key, { ...counted }])),
      };
      const key = JSON.stringify([target.consumerKind, target.consumer, target.dataset]);
      const known = merged.get(key);
      if (!known) {
        merged.set(key, target);
        continue;
      }
      known.requests += target.requests;
      known.refusals += target.refusals;
      known.bytesSent += target.bytesSent;
      known.successes += target.successes;
      known.reusedDecisions += target.reusedDecisions;
      known.first = Math.min(known.first, target.first);
      known.last = Math.max(known.last, target.last);
      for (const [reasonKey, counted] of target.reasons) {
        const into = known.reasons.get(reasonKey);
        if (into) into.requests += counted.requests;
        else known.reasons.set(reasonKey, { ...counted });
      }
    }
    return [...merged.values()];
  }

  /** Every hour from the window's start to its end (or the requests' span, when the window is open or huge). */
  private hourly(): AccessReport['hourly'] {
    const seen = this.overall.requests > 0;
    const { since, until } = this.options;
    let start = since !== undefined ? floorHour(since) : seen ? floorHour(this.first) : undefined;
    let end = until !== undefined ? until : seen ? floorHour(this.last) + HOUR_MS : undefined;
    if (start === undefined || end === undefined) return [];
    if ((end - start) / HOUR_MS > MAX_HOURS) {
      if (!seen) return [];
      start = floorHour(this.first);
      end = floorHour(this.last) + HOUR_MS;
    }
    const hours = [];
    for (let hour = start; hour < end; hour += HOUR_MS) {
      const counted = this.hours.get(hour);
      hours.push({ hour: iso(hour), requests: counted?.requests ?? 0, refusals: counted?.refusals ?? 0 });
    }
    return hours;
  }
}

/** The report of `lines` in one call (tests, small inputs). */
export function buildAccessReport(lines: Iterable<NginxRecord>, options: ReportOptions & { readonly app?: Iterable<AppRecord>; readonly files?: readonly InputFile[] }): AccessReport {
  const index = new AppLineIndex();
  for (const record of options.app ?? []) index.add(record);
  const builder = new AccessReportBuilder(options, index);
  for (const line of lines) builder.add(line);
  return builder.build(options.files);
}
