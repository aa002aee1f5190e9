/**
 * The renderer's operations commands (host/scripts/lib/metrics.sh calls them):
 *
 *   metrics-data name=value...             the metrics the host publishes (names from
 *                                          host/cloudwatch-agent/host-metrics.ts), as the
 *                                          MetricData file `aws cloudwatch put-metric-data
 *                                          --metric-data file://…` reads; prints one summary
 *                                          line (names and numbers only)
 *   cloudwatch-agent-config name=value...  the CloudWatch agent's configuration for this host:
 *                                          its log paths, the environment's log groups
 *
 * Every input is a file the host already keeps; a missing one leaves its metric out (the
 * alarms read a missing hour as "missing", not as "fine"). Nothing read here is a secret,
 * and only numbers, metric names and the environment's name are written.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostSettings } from '../../contract/host-settings';
import { writeFileAtomic } from '../../lib/atomic-file';
import { cloudWatchAgentConfig, hostLogPaths } from '../cloudwatch-agent/agent-config';
import { ENVIRONMENT_DIMENSION, PUBLISHED_HOST_METRICS } from '../cloudwatch-agent/host-metrics';
import { logGroupNamesFor } from '../cloudwatch-agent/log-groups';

export class MetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsError';
  }
}

/** One entry of put-metric-data's MetricData (the CLI's JSON shape). */
export interface MetricDatum {
  readonly MetricName: string;
  readonly Dimensions: readonly { readonly Name: string; readonly Value: string }[];
  readonly Value: number;
  readonly Unit: string;
}

/** What restarts the previous publication saw: the PM2 daemon and its restart count. */
export interface RestartsState {
  readonly pm2Pid: string;
  readonly restartTime: number;
}

/** The inputs, as read from the host's files (undefined: the file does not exist). */
export interface MetricInputs {
  readonly environment: string;
  readonly now: Date;
  /** $PH_LE_LIVE/fullchain.pem: the certificate nginx serves. */
  readonly certificatePem?: string;
  /** The renewal service's last result ("<SERVICE_RESULT> <at> ..."), certbot-renew-result.sh. */
  readonly renewalResult?: string;
  /** Whether nginx checks CRLs (the host setting). */
  readonly revocation: boolean;
  /** $PH_REVOCATION_DIR/status.json, written by the CRL refresh. */
  readonly crlStatus?: string;
  readonly crlRefreshMinutes: number;
  /** `pm2 jlist` of the app user's PM2 and its daemon's PID; undefined when PM2 does not run. */
  readonly pm2?: { readonly jlist: string; readonly pid: string };
  readonly appName: string;
  readonly previousRestarts?: string;
  /** $PH_STATE/release/{serving,serving-since}. */
  readonly releaseServing?: string;
  readonly releaseSince?: string;
}

export interface MetricResult {
  readonly data: MetricDatum[];
  /** The state to keep once the data is published (undefined: keep the previous one). */
  readonly restartsState?: RestartsState;
  /** Why a metric was left out, one line each. */
  readonly notes: string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** The first certificate of a PEM chain (the leaf, in certbot's fullchain.pem). */
function firstCertificate(pem: string): X509Certificate {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new MetricsError('no PEM certificate in it');
  return new X509Certificate(match[0]);
}

/** The sum of restart_time over the app's instances in `pm2 jlist` (banner lines allowed), or undefined. */
export function pm2RestartTotal(jlistOutput: string, appName: string): number | undefined {
  const start = jlistOutput.search(/^\[[\[{\]]/m);
  if (start < 0) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(jlistOutput.slice(start));
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  return list
    .filter((p: { name?: unknown }) => p?.name === appName)
    .reduce((sum: number, p: { pm2_env?: { restart_time?: unknown } }) => {
      const restarts = p.pm2_env?.restart_time;
      return sum + (typeof restarts === 'number' && Number.isInteger(restarts) && restarts >= 0 ? restarts : 0);
    }, 0);
}

function parseRestartsState(text: string | undefined): RestartsState | undefined {
  if (!text) return undefined;
  try {
    const state = JSON.parse(text) as Partial<RestartsState>;
    if (typeof state.pm2Pid === 'string' && typeof state.restartTime === 'number' && state.restartTime >= 0) {
      return { pm2Pid: state.pm2Pid, restartTime: state.restartTime };
    }
  } catch {
    // A damaged state file: start again from this run.
  }
  return undefined;
}

/**
 * Restarts since the previous publication. PM2 counts per daemon: another daemon (a
 * reboot, `pm2 kill`) or a lower total (an instance deleted and started again) starts the
 * count anew, so everything the new count holds happened since; never negative. The first
 * publication only takes the baseline (0).
 */
export function restartsSince(previous: RestartsState | undefined, current: RestartsState): number {
  if (previous === undefined) return 0;
  if (previous.pm2Pid !== current.pm2Pid || current.restartTime < previous.restartTime) return current.restartTime;
  return current.restartTime - previous.restartTime;
}

interface CrlFacts {
  readonly hours?: number;
  readonly failed: number;
}

/** The CRL metrics from status.json; undefined when nothing is checked (disabled, or no status yet). */
function crlFacts(inputs: MetricInputs, notes: string[]): CrlFacts | undefined {
  if (!inputs.revocation) {
    notes.push('CRL metrics: revocation checking is off');
    return undefined;
  }
  if (inputs.crlStatus === undefined) {
    notes.push('CRL metrics: no status.json yet (no CRL refresh has run)');
    return undefined;
  }
  let status: { state?: unknown; hoursToNextUpdate?: unknown; lastError?: unknown; checkedAt?: unknown };
  try {
    status = JSON.parse(inputs.crlStatus) as typeof status;
  } catch {
    // The refresh writes it atomically: an unreadable file means its writer failed.
    notes.push('CRL metrics: status.json is not JSON; counted as a failed refresh');
    return { failed: 1 };
  }
  if (status.state === 'disabled') {
    notes.push('CRL metrics: the CRL refresh says revocation checking is off');
    return undefined;
  }
  const checkedAt = typeof status.checkedAt === 'string' ? new Date(status.checkedAt) : undefined;
  const ageMs = checkedAt && !Number.isNaN(checkedAt.getTime()) ? Math.max(0, inputs.now.getTime() - checkedAt.getTime()) : undefined;
  // A refresh that no longer runs (its timer, or the renderer, failing before it writes the
  // status) leaves an old status behind: three missed runs count as a failure.
  const staleAfterMs = (3 * inputs.crlRefreshMinutes + 10) * 60 * 1000;
  const stale = ageMs === undefined || ageMs > staleAfterMs;
  if (stale) notes.push(`CRL metrics: status.json is older than ${3 * inputs.crlRefreshMinutes + 10} min; counted as a failed refresh`);
  const failed = stale || (status.lastError !== null && status.lastError !== undefined) || status.state === 'missing' ? 1 : 0;
  if (typeof status.hoursToNextUpdate === 'number' && Number.isFinite(status.hoursToNextUpdate)) {
    // Counted from the refresh's time to now, so that a refresh that stopped still shows the clock running down.
    return { hours: round(status.hoursToNextUpdate - (ageMs ?? 0) / HOUR_MS, 1), failed };
  }
  // No CRL installed while checking is on: nginx refuses the clients (fail closed).
  if (status.state === 'missing' || status.state === 'expired') return { hours: 0, failed };
  notes.push('CrlHoursToNextUpdate: status.json has no hoursToNextUpdate');
  return { failed };
}

/** Computes every metric the inputs allow, in the order of host-metrics.ts. */
export function hostMetricData(inputs: MetricInputs): MetricResult {
  const notes: string[] = [];
  const values = new Map<keyof typeof PUBLISHED_HOST_METRICS, number>();
  const now = inputs.now.getTime();

  if (inputs.certificatePem === undefined) {
    notes.push('CertificateDaysLeft: no certificate yet');
  } else {
    try {
      const notAfter = new Date(firstCertificate(inputs.certificatePem).validTo);
      if (Number.isNaN(notAfter.getTime())) throw new MetricsError('its notAfter is not a date');
      values.set('certificateDaysLeft', round((notAfter.getTime() - now) / DAY_MS, 2));
    } catch (error) {
      notes.push(`CertificateDaysLeft: the certificate cannot be read (${(error as Error).message})`);
    }
  }

  // No renewal run yet (or only successful ones) is not a failure.
  const renewal = inputs.renewalResult?.trim().split(/\s+/)[0] ?? '';
  values.set('certificateRenewalFailed', renewal === '' || renewal === 'success' ? 0 : 1);

  const crl = crlFacts(inputs, notes);
  if (crl?.hours !== undefined) values.set('crlHoursToNextUpdate', crl.hours);
  if (crl !== undefined) values.set('crlRefreshFailed', crl.failed);

  let restartsState: RestartsState | undefined;
  if (inputs.pm2 === undefined) {
    notes.push('AppRestarts: PM2 is not running');
  } else {
    const total = pm2RestartTotal(inputs.pm2.jlist, inputs.appName);
    if (total === undefined) {
      notes.push('AppRestarts: pm2 jlist printed no process list');
    } else {
      restartsState = { pm2Pid: inputs.pm2.pid, restartTime: total };
      values.set('appRestarts', restartsSince(parseRestartsState(inputs.previousRestarts), restartsState));
    }
  }

  const serving = inputs.releaseServing?.trim() ?? '';
  const since = inputs.releaseSince ? new Date(inputs.releaseSince.trim()) : undefined;
  if (serving === '' || serving === 'none') {
    notes.push('DataReleaseAgeSeconds: no data release served yet');
  } else if (!since || Number.isNaN(since.getTime())) {
    notes.push('DataReleaseAgeSeconds: no serving-since time recorded');
  } else {
    values.set('dataReleaseAgeSeconds', Math.max(0, Math.floor((now - since.getTime()) / 1000)));
  }

  const dimensions = [{ Name: ENVIRONMENT_DIMENSION, Value: inputs.environment }];
  const data = (Object.keys(PUBLISHED_HOST_METRICS) as (keyof typeof PUBLISHED_HOST_METRICS)[])
    .filter((key) => values.has(key))
    .map((key) => ({ MetricName: PUBLISHED_HOST_METRICS[key].name, Dimensions: dimensions, Value: values.get(key)!, Unit: PUBLISHED_HOST_METRICS[key].unit }));
  return { data, ...(restartsState !== undefined ? { restartsState } : {}), notes };
}

/** The name=value arguments a command requires, each named when missing. */
function required(values: Readonly<Record<string, string>>, names: readonly string[], command: string): void {
  const missing = names.filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new MetricsError(`${command} needs ${missing.map((n) => `${n}=…`).join(' ')}`);
}

function environmentOf(settings: HostSettings): string {
  if (!settings.environment) {
    throw new MetricsError('PH_ENVIRONMENT (environment) is empty: the host config predates operations; deploy the stack again');
  }
  return settings.environment;
}

const readIfPresent = (file: string | undefined): string | undefined => (file && existsSync(file) ? readFileSync(file, 'utf8') : undefined);

/**
 * `host-render metrics-data`: reads the files named, writes the MetricData to `out` and the
 * restarts baseline to `restarts_next` (the caller keeps it only once the data is published),
 * returns the summary line.
 *
 *   out=FILE restarts_next=FILE restarts_state=FILE certificate=FILE renewal=FILE crl=FILE
 *   release=DIR app=NAME jlist=FILE|"" pm2_pid=PID|""
 */
export function metricsDataCommand(settings: HostSettings, values: Readonly<Record<string, string>>, now = new Date()): string {
  required(values, ['out', 'restarts_next', 'restarts_state', 'certificate', 'renewal', 'crl', 'release', 'app', 'jlist', 'pm2_pid'], 'metrics-data');
  const jlist = values.jlist ? readIfPresent(values.jlist) : undefined;
  const result = hostMetricData({
    environment: environmentOf(settings),
    now,
    certificatePem: readIfPresent(values.certificate),
    renewalResult: readIfPresent(values.renewal),
    revocation: settings.revocation,
    crlStatus: readIfPresent(values.crl),
    crlRefreshMinutes: settings.crlRefreshMinutes,
    ...(jlist !== undefined && values.pm2_pid ? { pm2: { jlist, pid: values.pm2_pid } } : {}),
    appName: values.app!,
    previousRestarts: readIfPresent(values.restarts_state),
    releaseServing: readIfPresent(join(values.release!, 'serving')),
    releaseSince: readIfPresent(join(values.release!, 'serving-since')),
  });
  writeFileAtomic(values.out!, `${JSON.stringify(result.data, null, 2)}\n`, 0o600);
  if (result.restartsState) writeFileAtomic(values.restarts_next!, `${JSON.stringify(result.restartsState)}\n`, 0o600);
  const published = result.data.map((d) => `${d.MetricName}=${d.Value}`).join(' ');
  return `${published || '(nothing)'}${result.notes.length > 0 ? `; left out or noted: ${result.notes.join('; ')}` : ''}\n`;
}

/**
 * `host-render cloudwatch-agent-config`: the agent's JSON for this host, its log paths from
 * the layout the scripts pass (name=value), its log groups from the environment's name.
 *
 *   nginx_log_dir=DIR pm2_log_dir=DIR app=NAME host_log_dir=DIR cloud_init_log=FILE le_logs_dir=DIR
 */
export function cloudWatchAgentConfigCommand(settings: HostSettings, values: Readonly<Record<string, string>>): string {
  required(values, ['nginx_log_dir', 'pm2_log_dir', 'app', 'host_log_dir', 'cloud_init_log', 'le_logs_dir'], 'cloudwatch-agent-config');
  const environment = environmentOf(settings);
  let config;
  try {
    config = cloudWatchAgentConfig({
      environment,
      logGroups: logGroupNamesFor(environment),
      paths: hostLogPaths({
        nginxLogDir: values.nginx_log_dir!,
        pm2LogDir: values.pm2_log_dir!,
        appName: values.app!,
        hostLogDir: values.host_log_dir!,
        cloudInitLog: values.cloud_init_log!,
        letsencryptLogDir: values.le_logs_dir!,
      }),
    });
  } catch (error) {
    throw new MetricsError((error as Error).message);
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}
