/**
 * The CloudWatch agent's configuration for the host (the JSON file the agent reads,
 * `amazon-cloudwatch-agent-ctl -a fetch-config -c file:<path>`): a pure function of
 * the environment, the log groups the stack created and where the host writes its logs.
 *
 * - logs: nginx's JSON access log and its error log, the app's PM2 log files, the host
 *   scripts' logs (their own files, cloud-init's output of the first setup, certbot's
 *   log), each to its group under `/provider-host/<name>/`, one stream per instance.
 * - metrics: `mem_used_percent` and `disk_used_percent` of "/" in namespace CWAgent,
 *   with as few dimensions as the alarms need: `InstanceId` for memory,
 *   `InstanceId` + `path` for the disk (an aggregation; the per-device original is
 *   dropped). `InstanceId` comes from the instance metadata service, so the agent needs
 *   neither ec2:DescribeTags nor ec2:DescribeVolumes.
 * - the agent runs as `cwagent` (the package's user), not root: it must be able to read
 *   the files above (docs/operations.md, "What the host does").
 *
 * README: host/cloudwatch-agent/schema.json is the agent's own JSON schema, copied
 * verbatim from https://github.com/aws/amazon-cloudwatch-agent, file
 * translator/config/schema.json at commit ab55b8daa204e95c42c0267ee5aa49ec3b3a7317
 * (2026-08-07; sha256 2823cf4a6de048e0398f6a2a21a08079f5a3910c9698ccda86c443ad8e208469).
 * agent-config.test.ts validates every configuration this file makes against it. It is
 * a draft-04 schema (JSON cannot carry this note; hence here).
 *
 * Beware: `${aws:InstanceId}` below is the agent's placeholder. Handed to Terraform as a
 * literal (an SSM parameter value, an S3 object's content) it would be read as an
 * interpolation; ship the JSON as a file, base64, or escape it as `$${aws:InstanceId}`.
 */
import { AGENT_METRICS, CW_AGENT_NAMESPACE, INSTANCE_DIMENSION, PATH_DIMENSION, ROOT_FILE_SYSTEM } from './host-metrics';

/** The log groups, by what they hold (names as created by stacks/constructs/monitoring.ts). */
export interface AgentLogGroups {
  readonly nginxAccess: string;
  readonly nginxError: string;
  readonly app: string;
  readonly hostScripts: string;
}

/** Where the host writes its logs. */
export interface HostLogPaths {
  /** nginx's JSON access log (log_format provider_json). */
  readonly nginxAccess: string;
  readonly nginxError: string;
  /** The app's PM2 log files (out and error), a glob: each file is its own stream. */
  readonly appLogGlob: string;
  /** The host scripts' own log files (setup, update, renewal, revocation, release), a glob. */
  readonly hostScriptsLogGlob: string;
  /** cloud-init's output: the first boot's bootstrap and setup. */
  readonly cloudInitOutput: string;
  /** certbot's log (issuance and renewals). */
  readonly certbotLog: string;
}

/** File names inside the log folders (the nginx site's access_log; certbot's own name). */
export const LOG_FILE_NAMES = {
  nginxAccess: 'access.json.log',
  nginxError: 'error.log',
  certbot: 'letsencrypt.log',
} as const;

/** The folders (and the app's name) the host's log paths derive from. */
export interface HostLogLayout {
  /** PH_NGINX_LOG_DIR */
  readonly nginxLogDir: string;
  /** PH_PM2_HOME/logs */
  readonly pm2LogDir: string;
  /** PH_APP_NAME: PM2 names the app's files <name>-out.log and <name>-error.log. */
  readonly appName: string;
  /** PH_HOST_LOG_DIR: log() in host/scripts/lib/common.sh appends there, one file per script. */
  readonly hostLogDir: string;
  /** PH_CLOUD_INIT_LOG */
  readonly cloudInitLog: string;
  /** PH_LE_LOGS_DIR */
  readonly letsencryptLogDir: string;
}

/** Where a host with this layout writes its logs (the host renders its agent configuration with it). */
export function hostLogPaths(layout: HostLogLayout): HostLogPaths {
  return {
    nginxAccess: `${layout.nginxLogDir}/${LOG_FILE_NAMES.nginxAccess}`,
    nginxError: `${layout.nginxLogDir}/${LOG_FILE_NAMES.nginxError}`,
    // PM2 with merge_logs: <app name>-out.log and <app name>-error.log in $PM2_HOME/logs.
    appLogGlob: `${layout.pm2LogDir}/${layout.appName}-*.log`,
    hostScriptsLogGlob: `${layout.hostLogDir}/*.log`,
    cloudInitOutput: layout.cloudInitLog,
    certbotLog: `${layout.letsencryptLogDir}/${LOG_FILE_NAMES.certbot}`,
  };
}

/**
 * The production layout (host/scripts/lib/common.sh set_defaults: PH_NGINX_LOG_DIR,
 * PH_USER_HOME, PH_PM2_HOME, PH_APP_NAME, PH_HOST_LOG_DIR, PH_CLOUD_INIT_LOG,
 * PH_LE_LOGS_DIR; the access log's file name from nginx/templates/mtls-site.conf.tmpl).
 * agent-config.test.ts fails when they drift.
 */
export const HOST_LOG_PATHS: HostLogPaths = hostLogPaths({
  nginxLogDir: '/var/log/nginx',
  pm2LogDir: '/home/provider/.pm2/logs',
  appName: 'provider',
  hostLogDir: '/var/log/provider-host',
  cloudInitLog: '/var/log/cloud-init-output.log',
  letsencryptLogDir: '/var/log/letsencrypt',
});

export interface CloudWatchAgentConfigProps {
  /** The environment's name (for messages; the log groups already carry it). */
  readonly environment: string;
  readonly logGroups: AgentLogGroups;
  /** @default HOST_LOG_PATHS */
  readonly paths?: HostLogPaths;
  /** How often the agent samples memory and disk. @default 60 */
  readonly metricsIntervalSeconds?: number;
}

export interface CollectedFile {
  readonly file_path: string;
  readonly log_group_name: string;
  readonly log_stream_name: string;
  readonly timestamp_format?: string;
  readonly timezone?: 'UTC' | 'Local';
  readonly multi_line_start_pattern?: string;
  readonly publish_multi_logs?: boolean;
}

export interface CloudWatchAgentConfig {
  readonly agent: { readonly run_as_user: string; readonly metrics_collection_interval: number; readonly omit_hostname: boolean };
  readonly metrics: {
    readonly namespace: string;
    readonly append_dimensions: Readonly<Record<string, string>>;
    readonly aggregation_dimensions: readonly (readonly string[])[];
    readonly metrics_collected: {
      readonly mem: { readonly measurement: readonly string[]; readonly metrics_collection_interval: number };
      readonly disk: {
        readonly measurement: readonly string[];
        readonly resources: readonly string[];
        readonly drop_device: boolean;
        readonly drop_original_metrics: readonly string[];
        readonly metrics_collection_interval: number;
      };
    };
  };
  readonly logs: { readonly logs_collected: { readonly files: { readonly collect_list: readonly CollectedFile[] } } };
}

/** The user the agent runs as (created by the amazon-cloudwatch-agent package). */
export const AGENT_USER = 'cwagent';
/** The agent's placeholder for the instance id in dimensions (resolved on the host). */
export const INSTANCE_ID_PLACEHOLDER = '${aws:InstanceId}';
/** The agent's placeholder for the instance id in stream names. */
const STREAM = '{instance_id}';

/** The agent's timestamp formats (strftime subset; internal/util/timestamp in the agent). */
export const TIMESTAMP_FORMATS = {
  /** nginx $time_iso8601 without its offset ("+00:00" is not a form %z reads): local time, as nginx writes it. */
  nginxAccess: '%Y-%m-%dT%H:%M:%S',
  /** nginx's error log: "2026/01/31 12:00:00 [error] ...", local time. */
  nginxError: '%Y/%m/%d %H:%M:%S',
  /** The host scripts' log(): `date -u +%Y-%m-%dT%H:%M:%SZ`. */
  hostScripts: '%Y-%m-%dT%H:%M:%SZ',
  /** certbot: "2026-01-31 12:00:00,123:DEBUG:...", local time. */
  certbot: '%Y-%m-%d %H:%M:%S',
} as const;

const LOG_GROUP_RE = /^[.\-_/#A-Za-z0-9]{1,512}$/;

/** The agent's JSON configuration object (JSON.stringify it for the host). */
export function cloudWatchAgentConfig(props: CloudWatchAgentConfigProps): CloudWatchAgentConfig {
  const { environment, logGroups, paths = HOST_LOG_PATHS, metricsIntervalSeconds = 60 } = props;
  const problems: string[] = [];
  for (const [key, group] of Object.entries(logGroups)) {
    if (!LOG_GROUP_RE.test(group)) problems.push(`log group ${key} ${JSON.stringify(group)} is not a CloudWatch Logs group name`);
  }
  for (const [key, file] of Object.entries(paths)) {
    if (!file.startsWith('/') || /\s/.test(file)) problems.push(`path ${key} ${JSON.stringify(file)} is not an absolute path without spaces`);
  }
  if (!Number.isInteger(metricsIntervalSeconds) || metricsIntervalSeconds < 1 || metricsIntervalSeconds > 86400) {
    problems.push(`metricsIntervalSeconds ${metricsIntervalSeconds} is not a whole number of seconds 1-86400`);
  }
  if (problems.length > 0) throw new Error(`CloudWatch agent configuration for ${environment}: ${problems.join('; ')}`);

  const collectList: CollectedFile[] = [
    { file_path: paths.nginxAccess, log_group_name: logGroups.nginxAccess, log_stream_name: STREAM, timestamp_format: TIMESTAMP_FORMATS.nginxAccess, timezone: 'Local' },
    {
      file_path: paths.nginxError,
      log_group_name: logGroups.nginxError,
      log_stream_name: STREAM,
      timestamp_format: TIMESTAMP_FORMATS.nginxError,
      timezone: 'Local',
      multi_line_start_pattern: '{timestamp_format}',
    },
    // pino's JSON lines carry epoch milliseconds, which the agent cannot parse: ingestion time.
    { file_path: paths.appLogGlob, log_group_name: logGroups.app, log_stream_name: STREAM, publish_multi_logs: true },
    {
      file_path: paths.hostScriptsLogGlob,
      log_group_name: logGroups.hostScripts,
      log_stream_name: STREAM,
      publish_multi_logs: true,
      timestamp_format: TIMESTAMP_FORMATS.hostScripts,
      timezone: 'UTC',
    },
    { file_path: paths.cloudInitOutput, log_group_name: logGroups.hostScripts, log_stream_name: `${STREAM}/cloud-init-output` },
    {
      file_path: paths.certbotLog,
      log_group_name: logGroups.hostScripts,
      log_stream_name: `${STREAM}/letsencrypt`,
      timestamp_format: TIMESTAMP_FORMATS.certbot,
      timezone: 'Local',
      multi_line_start_pattern: '{timestamp_format}',
    },
  ];

  return {
    agent: { run_as_user: AGENT_USER, metrics_collection_interval: metricsIntervalSeconds, omit_hostname: true },
    metrics: {
      namespace: CW_AGENT_NAMESPACE,
      append_dimensions: { [INSTANCE_DIMENSION]: INSTANCE_ID_PLACEHOLDER },
      // The disk's own dimensions are InstanceId, path and fstype (device dropped): this
      // adds the series with InstanceId and path only, the one the alarm watches.
      aggregation_dimensions: [[INSTANCE_DIMENSION, PATH_DIMENSION]],
      metrics_collected: {
        mem: { measurement: [AGENT_METRICS.memoryUsedPercent], metrics_collection_interval: metricsIntervalSeconds },
        disk: {
          measurement: ['used_percent'],
          resources: [ROOT_FILE_SYSTEM],
          drop_device: true,
          // The series with fstype is not paid for (agent >= 1.300043.0; an older one keeps it).
          drop_original_metrics: [AGENT_METRICS.diskUsedPercent],
          metrics_collection_interval: metricsIntervalSeconds,
        },
      },
    },
    logs: { logs_collected: { files: { collect_list: collectList } } },
  };
}
