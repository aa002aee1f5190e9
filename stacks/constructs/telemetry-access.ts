/**
 * What the instance role needs to report: the CloudWatch agent writes the host's logs
 * into exactly the environment's log groups, and the agent and the host's metric
 * publisher put metrics into exactly two namespaces.
 *
 * - logs:CreateLogStream and logs:DescribeLogStreams on the log groups (their ARN, and
 *   the ARN with ":*", the form IAM evaluates for some log-group actions);
 *   logs:PutLogEvents on their streams (`:log-stream:*`). No logs:CreateLogGroup: the
 *   stack creates the groups, with their retention.
 * - cloudwatch:PutMetricData cannot be limited to a resource (it has none): "*" with the
 *   condition `cloudwatch:namespace` in [ProviderHost, CWAgent].
 * - No ec2:DescribeTags or ec2:DescribeVolumes: the agent's configuration takes
 *   InstanceId from the instance metadata and adds no tag or volume dimensions.
 */
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { InputError } from '../../lib/input-error';

export interface TelemetryAccessProps {
  /** The instance role's id (name). */
  readonly roleId: string;
  /** ARNs of the log groups the agent writes to (as Terraform gives them: no ":*"). */
  readonly logGroupArns: readonly string[];
  /** The namespaces the host may put metrics into. */
  readonly metricNamespaces: readonly string[];
}

export class TelemetryAccess extends Construct {
  readonly policyDocument: DataAwsIamPolicyDocument;
  readonly policy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: TelemetryAccessProps) {
    super(scope, id);
    const problems: string[] = [];
    if (props.logGroupArns.length === 0) problems.push('no log group ARNs');
    if (props.logGroupArns.some((arn) => arn.includes('*'))) problems.push(`log group ARNs must name groups, not patterns: ${props.logGroupArns.join(', ')}`);
    if (props.metricNamespaces.length === 0 || props.metricNamespaces.some((ns) => ns.includes('*') || ns === '')) problems.push(`metric namespaces must be named exactly: ${props.metricNamespaces.join(', ')}`);
    if (problems.length > 0) throw new InputError(`TelemetryAccess ${this.node.path}: ${problems.join('; ')}`);

    this.policyDocument = new DataAwsIamPolicyDocument(this, 'document', {
      statement: [
        {
          sid: 'CreateHostLogStreams',
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams'],
          resources: props.logGroupArns.flatMap((arn) => [arn, `${arn}:*`]),
        },
        {
          sid: 'PutHostLogEvents',
          effect: 'Allow',
          actions: ['logs:PutLogEvents'],
          resources: props.logGroupArns.map((arn) => `${arn}:log-stream:*`),
        },
        {
          sid: 'PutHostMetrics',
          effect: 'Allow',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: [...props.metricNamespaces] }],
        },
      ],
    });
    this.policy = new IamRolePolicy(this, 'policy', {
      name: 'provider-host-telemetry',
      role: props.roleId,
      policy: this.policyDocument.json,
    });
  }
}
