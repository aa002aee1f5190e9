/**
 * Operations, composed: the operator hears about trouble before consumers do
 * (docs/operations.md). The alerts topic, the log groups, metric filters and alarms,
 * the outside-in check (us-east-1), the dashboard and the instance role's permission to
 * report. The CloudWatch agent's configuration is rendered on the host
 * (`host-render cloudwatch-agent-config`), from the same log group names.
 */
import { Construct } from 'constructs';
import { resolveReport, type OperationsConfig, type ResolvedReport } from '../../config/operations-schema';
import { CW_AGENT_NAMESPACE, HOST_METRICS_NAMESPACE } from '../../host/cloudwatch-agent/host-metrics';
import { Alerting } from './alerting';
import { Dashboard } from './dashboard';
import { Monitoring } from './monitoring';
import { HEALTH_CHECK_METRICS_REGION, OutsideCheck } from './outside-check';
import { ReportMail } from './report-mail';
import { TelemetryAccess } from './telemetry-access';

export interface OperationsProps {
  /** The environment's name. */
  readonly environment: string;
  readonly namePrefix: string;
  readonly domain: string;
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The single host; omitted in fleet mode (no per-instance alarms or dashboard widgets). */
  readonly instanceId?: string;
  /** The instance role's id (name): gets the telemetry policy. */
  readonly instanceRoleId: string;
  /** The stack's default tags (the us-east-1 provider gets the same). */
  readonly defaultTags: Readonly<Record<string, string>>;
  /** The validated `operations:` section. */
  readonly config: OperationsConfig;
  /**
   * Customer managed KMS keys for the alert topics, by region (see alerting.ts: never
   * alias/aws/sns). @default none
   */
  readonly alertsKmsKeyIds?: Readonly<Record<string, string>>;
}

export class Operations extends Construct {
  readonly alerting: Alerting;
  readonly monitoring: Monitoring;
  readonly telemetryAccess: TelemetryAccess;
  readonly outsideCheck?: OutsideCheck;
  readonly dashboard?: Dashboard;
  /** The daily report with its defaults; undefined when operations.report is off. */
  readonly report?: ResolvedReport;
  reportMail?: ReportMail;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const { config, alertsKmsKeyIds = {} } = props;
    const keyFor = (region: string) => (alertsKmsKeyIds[region] !== undefined ? { kmsKeyId: alertsKmsKeyIds[region] } : {});

    this.alerting = new Alerting(this, 'alerting', {
      namePrefix: props.namePrefix,
      partition: props.partition,
      region: props.region,
      accountId: props.accountId,
      emails: config.notify.emails,
      httpsEndpoints: config.notify.httpsEndpoints,
      topicLogicalId: 'alerts_topic',
      ...keyFor(props.region),
    });

    this.monitoring = new Monitoring(this, 'monitoring', {
      environment: props.environment,
      namePrefix: props.namePrefix,
      partition: props.partition,
      region: props.region,
      ...(props.instanceId !== undefined ? { instanceId: props.instanceId } : {}),
      alarmTopicArn: this.alerting.topicArn,
      retentionDays: config.logs.retentionDays,
      thresholds: config.alarms,
    });

    this.telemetryAccess = new TelemetryAccess(this, 'telemetry-access', {
      roleId: props.instanceRoleId,
      logGroupArns: Object.values(this.monitoring.logGroups).map((group) => group.arn),
      metricNamespaces: [HOST_METRICS_NAMESPACE, CW_AGENT_NAMESPACE],
    });

    if (config.outsideCheck.enabled) {
      this.outsideCheck = new OutsideCheck(this, 'outside-check', {
        namePrefix: props.namePrefix,
        domain: props.domain,
        path: config.outsideCheck.path,
        partition: props.partition,
        region: props.region,
        accountId: props.accountId,
        defaultTags: props.defaultTags,
        alerting: this.alerting,
        emails: config.notify.emails,
        httpsEndpoints: config.notify.httpsEndpoints,
        ...keyFor(HEALTH_CHECK_METRICS_REGION),
      });
    }

    const report = resolveReport(config, props.domain);
    if (report !== undefined) this.report = report;

    if (config.dashboard) {
      this.dashboard = new Dashboard(this, 'dashboard', {
        name: props.namePrefix,
        region: props.region,
        environment: props.environment,
        logMetricsNamespace: this.monitoring.logMetricsNamespace,
        thresholds: config.alarms,
        ...(props.instanceId !== undefined ? { instanceId: props.instanceId } : {}),
        ...(this.outsideCheck !== undefined ? { healthCheckId: this.outsideCheck.healthCheck.id } : {}),
      });
    }
  }

  /**
   * The daily access report's delivery (report-mail.ts), when operations.report is on:
   * called once the hosted zone is known (the DKIM records go there).
   */
  mailReports(props: { readonly domain: string; readonly zoneId: string; readonly roleId: string; readonly bucketArn: string }): ReportMail | undefined {
    if (this.report === undefined) return undefined;
    this.reportMail ??= new ReportMail(this, 'report-mail', { ...props, report: this.report });
    return this.reportMail;
  }

  /** The environment's alerts topic (in its region). */
  get alertsTopicArn(): string {
    return this.alerting.topicArn;
  }
}
