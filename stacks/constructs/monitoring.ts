/**
 * What the operator is told about, in the environment's region: the log groups the
 * CloudWatch agent ships to, metrics made from nginx's JSON access log, and the alarms.
 *
 * - Log groups `/provider-host/<name>/{nginx-access,nginx-error,app,host-scripts}`, kept
 *   `retentionDays`.
 * - Metric filters on the access log (nginx/snippets/log-format.conf, JSON; CloudWatch's
 *   JSON filter syntax) into namespace `ProviderHost/<name>`. A metric filter's
 *   dimensions can only take values from fields of the log event, and the access log has
 *   no environment field: the environment is in the namespace instead, so that two
 *   environments in one account and region never add up into one metric.
 * - Alarms on those (missing data: no traffic, not breaching), on the metrics the host
 *   publishes (namespace `ProviderHost`, dimension `Environment=<name>`,
 *   host/cloudwatch-agent/host-metrics.ts), on the CloudWatch agent's memory and disk
 *   metrics, and on EC2's status checks, which also recover (system) or reboot
 *   (instance) the host. Every alarm notifies the topic on ALARM and on OK.
 *
 * Each alarm's description says what it means and points at its runbook in
 * docs/operations.md.
 */
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { AlarmThresholds } from '../../config/operations-schema';
import { LOG_RETENTION_DAYS } from '../../config/operations-schema';
import {
  AGENT_METRICS, CW_AGENT_NAMESPACE, ENVIRONMENT_DIMENSION, HOST_METRICS, HOST_METRICS_NAMESPACE, INSTANCE_DIMENSION, PATH_DIMENSION, ROOT_FILE_SYSTEM,
} from '../../host/cloudwatch-agent/host-metrics';
import { logGroupNamesFor, type LogGroupKey } from '../../host/cloudwatch-agent/log-groups';
import { InputError } from '../../lib/input-error';
import { operationsNameProblem } from '../lib/aws-name-rules';

// The log group names are the host's too (its CloudWatch agent ships to them): one definition.
export { logGroupNamesFor, type LogGroupKey };

/** Pinned logical ids: a log group holds the logs; a new id would delete them. */
const LOG_GROUP_LOGICAL_IDS: Record<LogGroupKey, string> = {
  nginxAccess: 'log_group_nginx_access',
  nginxError: 'log_group_nginx_error',
  app: 'log_group_app',
  hostScripts: 'log_group_host_scripts',
};

/** The namespace of the metrics made from an environment's access log. */
export const logMetricsNamespace = (environment: string): string => `${HOST_METRICS_NAMESPACE}/${environment}`;

export interface AccessLogMetric {
  readonly metricName: string;
  /** CloudWatch Logs JSON filter pattern; every `$.field` is a field of log_format provider_json. */
  readonly pattern: string;
  /** "1" (a count) or `$.field` (the field's number). */
  readonly value: string;
  readonly unit: 'Count' | 'Seconds' | 'Bytes';
  /** Emitted for lines the pattern does not match: 0 makes a count's Sum exact when there is traffic. */
  readonly defaultValue?: string;
}

/** The metrics made from nginx's access log (status, bytes_sent and request_time are JSON numbers). */
export const ACCESS_LOG_METRICS = {
  requests: { metricName: 'Requests', pattern: '{ $.status > 0 }', value: '1', unit: 'Count' },
  status2xx: { metricName: 'Status2xx', pattern: '{ $.status >= 200 && $.status < 300 }', value: '1', unit: 'Count', defaultValue: '0' },
  status4xx: { metricName: 'Status4xx', pattern: '{ $.status >= 400 && $.status < 500 }', value: '1', unit: 'Count', defaultValue: '0' },
  status5xx: { metricName: 'Status5xx', pattern: '{ $.status >= 500 }', value: '1', unit: 'Count', defaultValue: '0' },
  status503: { metricName: 'Status503', pattern: '{ $.status = 503 }', value: '1', unit: 'Count', defaultValue: '0' },
  requestTime: { metricName: 'RequestTime', pattern: '{ $.request_time >= 0 }', value: '$.request_time', unit: 'Seconds' },
  bytesSent: { metricName: 'BytesSent', pattern: '{ $.bytes_sent >= 0 }', value: '$.bytes_sent', unit: 'Bytes' },
} as const satisfies Record<string, AccessLogMetric>;
export type AccessLogMetricKey = keyof typeof ACCESS_LOG_METRICS;

export type AlarmKey =
  | 'http5xx' | 'authzUnavailable' | 'refusals'
  | 'certificateDaysLeft' | 'certificateRenewalFailed' | 'crlHoursLeft' | 'crlRefreshFailed' | 'appRestarts'
  | 'memoryUsed' | 'diskUsed' | 'systemStatusCheck' | 'instanceStatusCheck';

/** The alarms on one instance's metrics (dimension InstanceId): a single host's only. */
export const INSTANCE_ALARM_KEYS = ['memoryUsed', 'diskUsed', 'systemStatusCheck', 'instanceStatusCheck'] as const satisfies readonly AlarmKey[];

export type ComparisonOperator = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type MissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';

/** One alarm, as data (the construct makes the resource; docs/operations.md lists the same). */
export interface AlarmSpec {
  /** `<namePrefix>-<slug>`; the slug is the runbook's anchor in docs/operations.md. */
  readonly slug: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: 'Sum' | 'Average' | 'Minimum' | 'Maximum';
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly threshold: number;
  readonly treatMissingData: MissingData;
  /** What it means, in one sentence (the alarm's description and the notification). */
  readonly meaning: string;
  /** EC2 actions taken besides notifying (recover, reboot). */
  readonly ec2Action?: 'recover' | 'reboot';
}

export interface AlarmSpecInput {
  readonly environment: string;
  readonly instanceId: string;
  readonly thresholds: AlarmThresholds;
}

/** Every alarm of an environment (in its region; the outside check's lives in us-east-1). */
export function alarmSpecs({ environment, instanceId, thresholds: t }: AlarmSpecInput): Record<AlarmKey, AlarmSpec> {
  const logs = logMetricsNamespace(environment);
  const env = { [ENVIRONMENT_DIMENSION]: environment };
  const instance = { [INSTANCE_DIMENSION]: instanceId };
  const fiveMinutes = { period: 300, evaluationPeriods: 1, datapointsToAlarm: 1 } as const;
  const hourly = { period: 3600, evaluationPeriods: 1, datapointsToAlarm: 1 } as const;
  const fromLog = (key: AccessLogMetricKey) => ({ namespace: logs, metricName: ACCESS_LOG_METRICS[key].metricName, dimensions: {}, statistic: 'Sum' as const, treatMissingData: 'notBreaching' as const });
  const fromHost = (metricName: string) => ({ namespace: HOST_METRICS_NAMESPACE, metricName, dimensions: env });
  return {
    http5xx: {
      slug: 'http-5xx', ...fromLog('status5xx'), ...fiveMinutes, comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: t.error5xxPerFiveMinutes,
      meaning: `nginx answered ${t.error5xxPerFiveMinutes} or more 5xx within five minutes: the app is down, failing, or too slow.`,
    },
    authzUnavailable: {
      slug: 'authz-unavailable', ...fromLog('status503'), ...fiveMinutes, comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: t.authzUnavailable503PerFiveMinutes,
      meaning: `nginx answered ${t.authzUnavailable503PerFiveMinutes} or more 503 within five minutes: the authorization server cannot be reached for introspection, or the data manifest is broken.`,
    },
    refusals: {
      slug: 'refusals', ...fromLog('status4xx'), ...fiveMinutes, comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: t.refusalsPerFiveMinutes,
      meaning: `nginx refused ${t.refusalsPerFiveMinutes} or more requests (4xx) within five minutes: a consumer misconfigured (certificate, token, dataset name), rate limits hit, or a probe.`,
    },
    certificateDaysLeft: {
      slug: 'certificate-days-left', ...fromHost(HOST_METRICS.certificateDaysLeft.name), statistic: 'Minimum', ...hourly,
      comparisonOperator: 'LessThanThreshold', threshold: t.certificateDaysLeft, treatMissingData: 'missing',
      meaning: `The served certificate expires in fewer than ${t.certificateDaysLeft} days: renewals have been failing (certbot renews at 30 days left).`,
    },
    certificateRenewalFailed: {
      slug: 'certificate-renewal-failed', ...fromHost(HOST_METRICS.certificateRenewalFailed.name), statistic: 'Maximum', ...hourly,
      comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: 1, treatMissingData: 'missing',
      meaning: 'The latest certbot renewal attempt failed; the certificate is still valid, the next attempt is within 12 hours.',
    },
    crlHoursLeft: {
      slug: 'crl-hours-left', ...fromHost(HOST_METRICS.crlHoursToNextUpdate.name), statistic: 'Minimum', ...hourly,
      comparisonOperator: 'LessThanThreshold', threshold: t.crlHoursLeft, treatMissingData: 'missing',
      meaning: `An installed CRL reaches its nextUpdate in fewer than ${t.crlHoursLeft} hours; after it nginx refuses that CA's clients (fail closed).`,
    },
    crlRefreshFailed: {
      slug: 'crl-refresh-failed', ...fromHost(HOST_METRICS.crlRefreshFailed.name), statistic: 'Maximum', ...hourly,
      comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: 1, treatMissingData: 'missing',
      meaning: 'The latest CRL refresh failed for at least one CRL; the installed ones stay in use until their nextUpdate.',
    },
    appRestarts: {
      slug: 'app-restarts', ...fromHost(HOST_METRICS.appRestarts.name), statistic: 'Sum', ...hourly,
      comparisonOperator: 'GreaterThanThreshold', threshold: t.appRestartsPerHour, treatMissingData: 'notBreaching',
      meaning: `PM2 restarted the app more than ${t.appRestartsPerHour} times within an hour: it crashes or exceeds its memory limit.`,
    },
    memoryUsed: {
      slug: 'memory-used', namespace: CW_AGENT_NAMESPACE, metricName: AGENT_METRICS.memoryUsedPercent, dimensions: instance, statistic: 'Average',
      period: 300, evaluationPeriods: 2, datapointsToAlarm: 2, comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: t.memoryUsedPercent, treatMissingData: 'missing',
      meaning: `Memory use stayed at or above ${t.memoryUsedPercent}% for ten minutes.`,
    },
    diskUsed: {
      slug: 'disk-used', namespace: CW_AGENT_NAMESPACE, metricName: AGENT_METRICS.diskUsedPercent, dimensions: { ...instance, [PATH_DIMENSION]: ROOT_FILE_SYSTEM }, statistic: 'Maximum',
      ...fiveMinutes, comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: t.diskUsedPercent, treatMissingData: 'missing',
      meaning: `The root file system is ${t.diskUsedPercent}% full or more.`,
    },
    systemStatusCheck: {
      slug: 'system-status-check', namespace: 'AWS/EC2', metricName: 'StatusCheckFailed_System', dimensions: instance, statistic: 'Maximum',
      period: 60, evaluationPeriods: 2, datapointsToAlarm: 2, comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: 1, treatMissingData: 'missing',
      ec2Action: 'recover',
      meaning: "EC2's system status check failed for two minutes (the hardware or network under the host): EC2 recovers the instance onto other hardware (same id, addresses and volume).",
    },
    instanceStatusCheck: {
      slug: 'instance-status-check', namespace: 'AWS/EC2', metricName: 'StatusCheckFailed_Instance', dimensions: instance, statistic: 'Maximum',
      period: 60, evaluationPeriods: 3, datapointsToAlarm: 3, comparisonOperator: 'GreaterThanOrEqualToThreshold', threshold: 1, treatMissingData: 'missing',
      ec2Action: 'reboot',
      meaning: "EC2's instance status check failed for three minutes (the operating system does not answer): the instance is rebooted.",
    },
  };
}

export interface MonitoringProps {
  /** The environment's name (log groups, namespace, dimension). */
  readonly environment: string;
  /** Alarm and metric filter names start with it. */
  readonly namePrefix: string;
  readonly partition: string;
  readonly region: string;
  /**
   * The single host. Omitted (fleet mode): no alarm on one instance's metrics
   * (INSTANCE_ALARM_KEYS): the Auto Scaling group replaces a host that fails its health check.
   */
  readonly instanceId?: string;
  /** The topic every alarm notifies (in `region`). */
  readonly alarmTopicArn: string;
  /** One of LOG_RETENTION_DAYS. */
  readonly retentionDays: number;
  readonly thresholds: AlarmThresholds;
}

export class Monitoring extends Construct {
  readonly logGroups: Record<LogGroupKey, CloudwatchLogGroup>;
  readonly logGroupNames: Record<LogGroupKey, string>;
  readonly logMetricsNamespace: string;
  readonly metricFilters: Record<AccessLogMetricKey, CloudwatchLogMetricFilter>;
  readonly alarmSpecs: Partial<Record<AlarmKey, AlarmSpec>>;
  readonly alarms: Partial<Record<AlarmKey, CloudwatchMetricAlarm>>;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.logGroupNames = logGroupNamesFor(props.environment);
    this.logMetricsNamespace = logMetricsNamespace(props.environment);
    const specs = alarmSpecs({ environment: props.environment, instanceId: props.instanceId ?? '', thresholds: props.thresholds });
    this.alarmSpecs = props.instanceId !== undefined
      ? specs
      : Object.fromEntries(Object.entries(specs).filter(([key]) => !(INSTANCE_ALARM_KEYS as readonly string[]).includes(key)));

    const alarmName = (spec: AlarmSpec): string => `${props.namePrefix}-${spec.slug}`;
    const filterName = (metric: AccessLogMetric): string => `${props.namePrefix}-${metric.metricName}`;
    const problems = [
      ...Object.values(this.logGroupNames).map((name) => operationsNameProblem('CloudWatch Logs group name', name)),
      operationsNameProblem('CloudWatch metric namespace', this.logMetricsNamespace),
      ...Object.values(ACCESS_LOG_METRICS).map((m) => operationsNameProblem('CloudWatch Logs metric filter name', filterName(m))),
      ...Object.values(this.alarmSpecs).map((spec) => operationsNameProblem('CloudWatch alarm name', alarmName(spec))),
    ].filter((p): p is string => p !== undefined);
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(props.retentionDays)) {
      problems.push(`retention of ${props.retentionDays} days is not one CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')})`);
    }
    if (problems.length > 0) throw new InputError(`Monitoring ${this.node.path}: ${problems.join('; ')}`);

    const groups = {} as Record<LogGroupKey, CloudwatchLogGroup>;
    for (const key of Object.keys(this.logGroupNames) as LogGroupKey[]) {
      groups[key] = new CloudwatchLogGroup(this, `log-${key}`, { name: this.logGroupNames[key], retentionInDays: props.retentionDays });
      groups[key].overrideLogicalId(LOG_GROUP_LOGICAL_IDS[key]);
    }
    this.logGroups = groups;

    const filters = {} as Record<AccessLogMetricKey, CloudwatchLogMetricFilter>;
    for (const [key, metric] of Object.entries(ACCESS_LOG_METRICS) as [AccessLogMetricKey, AccessLogMetric][]) {
      filters[key] = new CloudwatchLogMetricFilter(this, `filter-${key}`, {
        name: filterName(metric),
        logGroupName: groups.nginxAccess.name,
        pattern: metric.pattern,
        metricTransformation: {
          name: metric.metricName,
          namespace: this.logMetricsNamespace,
          value: metric.value,
          unit: metric.unit,
          ...(metric.defaultValue !== undefined ? { defaultValue: metric.defaultValue } : {}),
        },
      });
    }
    this.metricFilters = filters;

    const ec2Action = (action: 'recover' | 'reboot'): string => `arn:${props.partition}:automate:${props.region}:ec2:${action}`;
    const alarms: Partial<Record<AlarmKey, CloudwatchMetricAlarm>> = {};
    for (const [key, spec] of Object.entries(this.alarmSpecs) as [AlarmKey, AlarmSpec][]) {
      alarms[key] = new CloudwatchMetricAlarm(this, `alarm-${spec.slug}`, {
        alarmName: alarmName(spec),
        alarmDescription: `${spec.meaning} Runbook: docs/operations.md#${spec.slug}`,
        namespace: spec.namespace,
        metricName: spec.metricName,
        ...(Object.keys(spec.dimensions).length > 0 ? { dimensions: { ...spec.dimensions } } : {}),
        statistic: spec.statistic,
        period: spec.period,
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.datapointsToAlarm,
        comparisonOperator: spec.comparisonOperator,
        threshold: spec.threshold,
        treatMissingData: spec.treatMissingData,
        alarmActions: [...(spec.ec2Action !== undefined ? [ec2Action(spec.ec2Action)] : []), props.alarmTopicArn],
        okActions: [props.alarmTopicArn],
      });
    }
    this.alarms = alarms;
  }
}
