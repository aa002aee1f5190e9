/**
 * The outside-in check: a Route53 HTTPS health check of `https://<domain>:443<path>`
 * (SNI on, every 30 s from Route53's default checker regions, unhealthy after 3 failures
 * in a row), and an alarm on its status that notifies the operator.
 *
 * Route53 publishes health check metrics (`AWS/Route53` `HealthCheckStatus`) in
 * us-east-1 only, so the alarm lives there, and with it an SNS topic of its own with the
 * same subscriptions (an alarm can only notify a topic of its region): a second,
 * aliased AWS provider for us-east-1 with the same default tags (read from the stack's
 * default provider at synthesis). When the environment
 * itself is in us-east-1, the environment's topic is used and no second provider made.
 *
 * What it proves, and what not: Route53 does NOT validate the server certificate of an
 * HTTPS health check (an expired or wrong certificate still counts as healthy). The
 * check proves that the TLS listener answers from the internet (DNS, Elastic IP,
 * security group, nginx, the path answering 2xx/3xx without a client certificate); the
 * host's CertificateDaysLeft metric and its alarm cover the certificate's validity.
 */
import { Lazy, TerraformStack, type IResolvable, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { Route53HealthCheck } from '@cdktf/provider-aws/lib/route53-health-check';
import { InputError } from '../../lib/input-error';
import { operationsNameProblem } from '../lib/aws-name-rules';
import { Alerting } from './alerting';
import type { AlarmSpec } from './monitoring';

/** The only region where Route53 publishes health check metrics. */
export const HEALTH_CHECK_METRICS_REGION = 'us-east-1';
/** The Terraform alias of the us-east-1 provider. */
export const US_EAST_1_ALIAS = 'us_east_1';

/** The outside check's alarm, as data (docs/operations.md lists the same). */
export function outsideCheckAlarmSpec(healthCheckId: string): AlarmSpec {
  return {
    slug: 'outside-check',
    namespace: 'AWS/Route53',
    metricName: 'HealthCheckStatus',
    dimensions: { HealthCheckId: healthCheckId },
    statistic: 'Minimum',
    period: 60,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    comparisonOperator: 'LessThanThreshold',
    threshold: 1,
    treatMissingData: 'missing',
    meaning: 'Route53 health checkers on the internet cannot get a 2xx/3xx answer over HTTPS from the provider (DNS, address, security group, nginx or the check path is broken) for two minutes.',
  };
}

export interface OutsideCheckProps {
  readonly namePrefix: string;
  /** The provider's FQDN: requested with SNI, resolved by Route53's checkers. */
  readonly domain: string;
  /** Path requested; must answer 2xx/3xx without a client certificate. */
  readonly path: string;
  readonly partition: string;
  /** The environment's region (its provider is the stack's default one). */
  readonly region: string;
  readonly accountId: string;
  /**
   * The default tags of the us-east-1 provider when the stack has no default AWS provider.
   * When it has one, the us-east-1 provider takes that provider's default tags as they are
   * at synthesis (one source: the two can never differ).
   */
  readonly defaultTags: Readonly<Record<string, string>>;
  /** The environment's alerting: reused when the environment is in us-east-1. */
  readonly alerting: Alerting;
  /** Subscriptions of the us-east-1 topic (the environment's own). */
  readonly emails: readonly string[];
  readonly httpsEndpoints: readonly string[];
  /** A customer managed key in us-east-1 for that topic (see alerting.ts). @default none */
  readonly kmsKeyId?: string;
}

export class OutsideCheck extends Construct {
  readonly healthCheck: Route53HealthCheck;
  readonly alarm: CloudwatchMetricAlarm;
  readonly alarmSpec: AlarmSpec;
  /** The topic the alarm notifies (in us-east-1). */
  readonly alerting: Alerting;
  /** The us-east-1 provider; undefined when the environment is in us-east-1. */
  readonly provider?: AwsProvider;

  constructor(scope: Construct, id: string, props: OutsideCheckProps) {
    super(scope, id);
    if (!props.path.startsWith('/')) throw new InputError(`OutsideCheck ${this.node.path}: path ${JSON.stringify(props.path)} must start with "/"`);

    // Route53 is global: the health check is created through the default provider.
    this.healthCheck = new Route53HealthCheck(this, 'health-check', {
      type: 'HTTPS',
      fqdn: props.domain,
      port: 443,
      resourcePath: props.path,
      enableSni: true,
      requestInterval: 30,
      failureThreshold: 3,
      tags: { Name: `${props.namePrefix}-outside-check` },
    });
    // Stateful enough: its id is what the alarm and any operator's bookmarks refer to.
    this.healthCheck.overrideLogicalId('outside_check');

    let provider: TerraformProvider | undefined;
    if (props.region === HEALTH_CHECK_METRICS_REGION) {
      this.alerting = props.alerting;
    } else {
      const primary = TerraformStack.of(this).node.children.find((c): c is AwsProvider => c instanceof AwsProvider && c.alias === undefined);
      const sameTags: IResolvable = Lazy.anyValue({ produce: () => primary?.defaultTags ?? [{ tags: { ...props.defaultTags } }] });
      this.provider = new AwsProvider(this, 'aws-us-east-1', {
        alias: US_EAST_1_ALIAS,
        region: HEALTH_CHECK_METRICS_REGION,
        // A token where the type wants the list: resolved at synthesis, after any change.
        defaultTags: sameTags as unknown as AwsProvider['defaultTags'],
      });
      provider = this.provider;
      this.alerting = new Alerting(this, 'alerting', {
        namePrefix: props.namePrefix,
        partition: props.partition,
        region: HEALTH_CHECK_METRICS_REGION,
        accountId: props.accountId,
        emails: props.emails,
        httpsEndpoints: props.httpsEndpoints,
        ...(props.kmsKeyId !== undefined ? { kmsKeyId: props.kmsKeyId } : {}),
        provider: this.provider,
        topicLogicalId: 'alerts_topic_us_east_1',
      });
    }

    this.alarmSpec = outsideCheckAlarmSpec(this.healthCheck.id);
    const spec = this.alarmSpec;
    const alarmName = `${props.namePrefix}-${spec.slug}`;
    const problem = operationsNameProblem('CloudWatch alarm name', alarmName);
    if (problem !== undefined) throw new InputError(`OutsideCheck ${this.node.path}: ${problem}`);
    this.alarm = new CloudwatchMetricAlarm(this, 'alarm', {
      alarmName,
      alarmDescription: `${spec.meaning} Runbook: docs/operations.md#${spec.slug}`,
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: { ...spec.dimensions },
      statistic: spec.statistic,
      period: spec.period,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      comparisonOperator: spec.comparisonOperator,
      threshold: spec.threshold,
      treatMissingData: spec.treatMissingData,
      alarmActions: [this.alerting.topicArn],
      okActions: [this.alerting.topicArn],
      ...(provider !== undefined ? { provider } : {}),
    });
  }
}
