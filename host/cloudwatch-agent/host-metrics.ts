/**
 * What the host reports to CloudWatch, defined once: the stack's alarms and dashboard
 * read these names, and the host's publisher (a timer running `aws cloudwatch
 * put-metric-data`) must write exactly them. No imports: the host renderer can bundle it.
 *
 * Host-published metrics: namespace `ProviderHost`, one dimension `Environment=<name>`,
 * published together every few minutes (at least once an hour: the alarms look at
 * one-hour periods and treat a missing hour as "missing", not as "fine").
 * The CloudWatch agent's metrics: namespace `CWAgent`, dimensions as
 * host/cloudwatch-agent/agent-config.ts makes the agent emit them.
 */

export const HOST_METRICS_NAMESPACE = 'ProviderHost';
export const CW_AGENT_NAMESPACE = 'CWAgent';
/** The one dimension of every host-published metric; its value is the environment name. */
export const ENVIRONMENT_DIMENSION = 'Environment';

export interface HostMetric {
  readonly name: string;
  readonly unit: 'Count' | 'None' | 'Seconds';
  /** What the host publishes, for docs and the publisher. */
  readonly meaning: string;
}

export const HOST_METRICS = {
  certificateDaysLeft: {
    name: 'CertificateDaysLeft',
    unit: 'None',
    meaning: "Days until the served certificate's notAfter (fractional allowed), read from the live certificate nginx uses.",
  },
  certificateRenewalFailed: {
    name: 'CertificateRenewalFailed',
    unit: 'Count',
    meaning: 'A state, not an event: 1 while the most recent certbot renewal attempt failed, 0 once one succeeds (or none was due).',
  },
  crlHoursToNextUpdate: {
    name: 'CrlHoursToNextUpdate',
    unit: 'None',
    meaning: "Hours until the nextUpdate of the installed CRL that expires first (only where CRLs are checked; nothing published otherwise).",
  },
  crlRefreshFailed: {
    name: 'CrlRefreshFailed',
    unit: 'Count',
    meaning: 'A state: 1 while the most recent CRL refresh failed for any CRL, 0 once a refresh succeeds.',
  },
  appRestarts: {
    name: 'AppRestarts',
    unit: 'Count',
    meaning: "PM2 restarts of the app since the previous publication (the increase of the sum of pm2's restart_time over its instances; 0 when none).",
  },
} as const satisfies Record<string, HostMetric>;

/**
 * Published with the others, watched by no alarm: context on the dashboard and for looking
 * back (data is published whenever the operator chooses, so no age is "too old" in general).
 */
export const HOST_INFO_METRICS = {
  dataReleaseAgeSeconds: {
    name: 'DataReleaseAgeSeconds',
    unit: 'Seconds',
    meaning: 'Seconds since this host started serving its current data release (release-sync: serving-since); nothing before the first release.',
  },
} as const satisfies Record<string, HostMetric>;

/** Everything the host's publisher writes (host/render/metrics-commands.ts). */
export const PUBLISHED_HOST_METRICS = { ...HOST_METRICS, ...HOST_INFO_METRICS } as const;

/** The CloudWatch agent's metric names (agent-config.ts collects exactly these). */
export const AGENT_METRICS = {
  memoryUsedPercent: 'mem_used_percent',
  diskUsedPercent: 'disk_used_percent',
} as const;

/** The file system whose fullness is watched, and the dimension that names it. */
export const ROOT_FILE_SYSTEM = '/';
export const INSTANCE_DIMENSION = 'InstanceId';
export const PATH_DIMENSION = 'path';
