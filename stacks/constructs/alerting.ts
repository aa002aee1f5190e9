/**
 * Where alarms go: one SNS topic (`<namePrefix>-alerts`) per environment and region,
 * a topic policy that lets CloudWatch alarms of this account (and only those named
 * `<namePrefix>-…`) publish to it, and the configured e-mail and https subscriptions.
 *
 * Encryption: a topic that CloudWatch alarms publish to can only be encrypted with a
 * customer managed KMS key whose policy lets `cloudwatch.amazonaws.com` use it. The AWS
 * managed key `alias/aws/sns` cannot be used: its policy cannot be changed and does not
 * let CloudWatch generate data keys, so every notification would be dropped silently
 * (SNS developer guide, "Key management": compatibility with AWS services' event
 * sources). It is refused here. Without a key the topic is not encrypted at rest by
 * SNS; alarm notifications carry alarm names, states and metric values, no data.
 */
import { createHash } from 'node:crypto';
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { InputError } from '../../lib/input-error';
import { operationsNameProblem } from '../lib/aws-name-rules';

/** The AWS managed SNS key: CloudWatch alarms cannot publish to topics it encrypts. */
export const AWS_MANAGED_SNS_KEY = 'alias/aws/sns';

export interface AlertingProps {
  /** `<namePrefix>`: the topic is `<namePrefix>-alerts`; alarms allowed to publish are `<namePrefix>-*`. */
  readonly namePrefix: string;
  readonly partition: string;
  /** The topic's region (the provider's). */
  readonly region: string;
  readonly accountId: string;
  /** @default [] */
  readonly emails?: readonly string[];
  /** @default [] */
  readonly httpsEndpoints?: readonly string[];
  /**
   * A customer managed KMS key (ARN, id or alias in the topic's region) whose key policy
   * lets cloudwatch.amazonaws.com call kms:GenerateDataKey* and kms:Decrypt.
   * @default none: the topic is not encrypted by SNS (see the file's comment)
   */
  readonly kmsKeyId?: string;
  /** The provider of the topic's region. @default the stack's default provider */
  readonly provider?: TerraformProvider;
  /** Pin the topic's logical id (stateful: subscriptions are confirmed against it). */
  readonly topicLogicalId?: string;
}

/** A construct id for a subscription that does not move when others are added or removed. */
function subscriptionId(protocol: string, endpoint: string): string {
  const slug = endpoint.toLowerCase().replace(/^https:\/\//, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
  const hash = createHash('sha256').update(endpoint).digest('hex').slice(0, 8);
  return `${protocol}-${slug}-${hash}`;
}

export class Alerting extends Construct {
  readonly topic: SnsTopic;
  readonly topicPolicy: SnsTopicPolicy;
  readonly subscriptions: SnsTopicSubscription[] = [];
  /** The region the topic lives in (alarms publishing to it must live there too). */
  readonly region: string;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const { emails = [], httpsEndpoints = [], provider } = props;
    const topicName = `${props.namePrefix}-alerts`;
    const problems = [operationsNameProblem('SNS topic name', topicName)].filter((p): p is string => p !== undefined);
    if (props.kmsKeyId !== undefined && /^(arn:aws[a-z-]*:kms:[^:]+:\d{12}:)?alias\/aws\/sns$/.test(props.kmsKeyId)) {
      problems.push(`the AWS managed key ${AWS_MANAGED_SNS_KEY} cannot encrypt an alarm topic (CloudWatch may not use it; every notification would be lost); give a customer managed key whose policy allows cloudwatch.amazonaws.com, or none`);
    }
    const bad = httpsEndpoints.filter((url) => !url.startsWith('https://'));
    if (bad.length > 0) problems.push(`https subscriptions must be https:// URLs: ${bad.join(', ')}`);
    if (problems.length > 0) throw new InputError(`Alerting ${this.node.path}: ${problems.join('; ')}`);
    this.region = props.region;
    const onProvider = provider !== undefined ? { provider } : {};

    this.topic = new SnsTopic(this, 'topic', {
      name: topicName,
      displayName: `${props.namePrefix} alerts`,
      ...(props.kmsKeyId !== undefined ? { kmsMasterKeyId: props.kmsKeyId } : {}),
      ...onProvider,
    });
    if (props.topicLogicalId !== undefined) this.topic.overrideLogicalId(props.topicLogicalId);

    const policy = new DataAwsIamPolicyDocument(this, 'policy-document', {
      statement: [
        {
          sid: 'CloudWatchAlarmsPublish',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
          actions: ['sns:Publish'],
          resources: [this.topic.arn],
          // Confused deputy: only this account's alarms, and only this environment's.
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
            { test: 'ArnLike', variable: 'aws:SourceArn', values: [`arn:${props.partition}:cloudwatch:${props.region}:${props.accountId}:alarm:${props.namePrefix}-*`] },
          ],
        },
      ],
      ...onProvider,
    });
    this.topicPolicy = new SnsTopicPolicy(this, 'policy', { arn: this.topic.arn, policy: policy.json, ...onProvider });

    for (const email of emails) {
      this.subscriptions.push(new SnsTopicSubscription(this, subscriptionId('email', email), { topicArn: this.topic.arn, protocol: 'email', endpoint: email, ...onProvider }));
    }
    for (const url of httpsEndpoints) {
      this.subscriptions.push(new SnsTopicSubscription(this, subscriptionId('https', url), { topicArn: this.topic.arn, protocol: 'https', endpoint: url, ...onProvider }));
    }
  }

  /** The topic's ARN: what alarms name in their actions. */
  get topicArn(): string {
    return this.topic.arn;
  }
}
