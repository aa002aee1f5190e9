/**
 * The environment's CloudWatch dashboard, `<namePrefix>`: traffic from nginx's access log
 * (requests, status codes, latency, bytes), the certificate's and the CRLs' time left as
 * the host publishes them (with the alarms' bounds drawn in), and, when given, the host's
 * memory and disk and the outside check. The body is built from the same definitions as
 * the metric filters and alarms, so a widget cannot name a metric nothing publishes.
 */
import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import type { AlarmThresholds } from '../../config/operations-schema';
import {
  AGENT_METRICS, CW_AGENT_NAMESPACE, ENVIRONMENT_DIMENSION, HOST_METRICS, HOST_METRICS_NAMESPACE, INSTANCE_DIMENSION, PATH_DIMENSION, ROOT_FILE_SYSTEM,
} from '../../host/cloudwatch-agent/host-metrics';
import { InputError } from '../../lib/input-error';
import { operationsNameProblem } from '../lib/aws-name-rules';
import { ACCESS_LOG_METRICS, type AccessLogMetricKey } from './monitoring';
import { HEALTH_CHECK_METRICS_REGION } from './outside-check';

/** One metric line of a widget: [namespace, name, dimension name, value, ..., options]. */
export type WidgetMetric = (string | { readonly label?: string; readonly stat?: string; readonly region?: string; readonly yAxis?: string })[];

export interface MetricWidget {
  readonly type: 'metric';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title: string;
    readonly region: string;
    readonly view: 'timeSeries';
    readonly stacked: boolean;
    readonly period: number;
    readonly stat: string;
    readonly metrics: WidgetMetric[];
    readonly yAxis?: { readonly left?: { readonly min?: number; readonly max?: number; readonly label?: string } };
    readonly annotations?: { readonly horizontal: { readonly label: string; readonly value: number }[] };
  };
}

export interface DashboardBodyProps {
  readonly region: string;
  readonly environment: string;
  /** Where the access log's metrics are (monitoring.ts logMetricsNamespace). */
  readonly logMetricsNamespace: string;
  readonly thresholds: AlarmThresholds;
  /** Adds a memory and disk widget (CloudWatch agent). */
  readonly instanceId?: string;
  /** Adds the outside check's status (a us-east-1 metric). */
  readonly healthCheckId?: string;
}

/** The dashboard's JSON body (CloudWatch's dashboard body structure). */
export function dashboardBody(props: DashboardBodyProps): { widgets: MetricWidget[] } {
  const { region, environment, logMetricsNamespace: logs, thresholds: t } = props;
  const log = (key: AccessLogMetricKey, label: string, stat: string): WidgetMetric => [logs, ACCESS_LOG_METRICS[key].metricName, { label, stat }];
  const host = (name: string, label: string): WidgetMetric => [HOST_METRICS_NAMESPACE, name, ENVIRONMENT_DIMENSION, environment, { label, stat: 'Minimum' }];
  const widgets: MetricWidget[] = [];
  const add = (title: string, stat: string, metrics: WidgetMetric[], extra: Partial<MetricWidget['properties']> = {}, period = 300, widgetRegion = region): void => {
    const index = widgets.length;
    widgets.push({
      type: 'metric',
      x: (index % 2) * 12,
      y: Math.floor(index / 2) * 6,
      width: 12,
      height: 6,
      properties: { title, region: widgetRegion, view: 'timeSeries', stacked: false, period, stat, metrics, ...extra },
    });
  };

  add('Requests (per 5 minutes)', 'Sum', [log('requests', 'requests', 'Sum')], { yAxis: { left: { min: 0 } } });
  add('Status codes (per 5 minutes)', 'Sum', [
    log('status2xx', '2xx', 'Sum'),
    log('status4xx', '4xx (refused)', 'Sum'),
    log('status5xx', '5xx', 'Sum'),
    log('status503', '503 (authorization server unavailable)', 'Sum'),
  ], { yAxis: { left: { min: 0 } } });
  add('Latency (nginx request_time, seconds)', 'Average', [log('requestTime', 'average', 'Average'), log('requestTime', 'maximum', 'Maximum')], { yAxis: { left: { min: 0, label: 'seconds' } } });
  add('Bytes sent (per 5 minutes)', 'Sum', [log('bytesSent', 'body bytes sent', 'Sum')], { yAxis: { left: { min: 0 } } });
  add('Certificate days left', 'Minimum', [host(HOST_METRICS.certificateDaysLeft.name, 'days left')], {
    yAxis: { left: { min: 0 } },
    annotations: { horizontal: [{ label: 'alarm below', value: t.certificateDaysLeft }] },
  }, 3600);
  add('CRL hours left (first nextUpdate)', 'Minimum', [host(HOST_METRICS.crlHoursToNextUpdate.name, 'hours left')], {
    yAxis: { left: { min: 0 } },
    annotations: { horizontal: [{ label: 'alarm below', value: t.crlHoursLeft }] },
  }, 3600);
  if (props.instanceId !== undefined) {
    add('Host memory and disk (%)', 'Maximum', [
      [CW_AGENT_NAMESPACE, AGENT_METRICS.memoryUsedPercent, INSTANCE_DIMENSION, props.instanceId, { label: 'memory used', stat: 'Average' }],
      [CW_AGENT_NAMESPACE, AGENT_METRICS.diskUsedPercent, INSTANCE_DIMENSION, props.instanceId, PATH_DIMENSION, ROOT_FILE_SYSTEM, { label: 'disk used (/)', stat: 'Maximum' }],
    ], {
      yAxis: { left: { min: 0, max: 100 } },
      annotations: { horizontal: [{ label: 'memory alarm', value: t.memoryUsedPercent }, { label: 'disk alarm', value: t.diskUsedPercent }] },
    });
  }
  if (props.healthCheckId !== undefined) {
    add('Outside check (Route53, 1 = healthy)', 'Minimum', [
      ['AWS/Route53', 'HealthCheckStatus', 'HealthCheckId', props.healthCheckId, { label: 'healthy', stat: 'Minimum', region: HEALTH_CHECK_METRICS_REGION }],
    ], { yAxis: { left: { min: 0, max: 1 } } }, 60, HEALTH_CHECK_METRICS_REGION);
  }
  return { widgets };
}

export interface DashboardProps extends DashboardBodyProps {
  /** The dashboard's name (`<namePrefix>`). */
  readonly name: string;
}

export class Dashboard extends Construct {
  readonly dashboard: CloudwatchDashboard;
  /** The console address of the dashboard. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const problem = operationsNameProblem('CloudWatch dashboard name', props.name);
    if (problem !== undefined) throw new InputError(`Dashboard ${this.node.path}: ${problem}`);
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: props.name,
      dashboardBody: JSON.stringify(dashboardBody(props)),
    });
    this.url = `https://${props.region}.console.aws.amazon.com/cloudwatch/home?region=${props.region}#dashboards/dashboard/${props.name}`;
  }
}
