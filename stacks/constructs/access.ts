/**
 * The instance role: SSM Session Manager (managed policy), and least privilege on the
 * data: read of exactly the bucket prefixes the host needs, write only of the
 * certificate backup object, read of exactly the two secret parameters and the host config,
 * and KMS decrypt only through SSM for those parameters.
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { InputError } from '../../lib/input-error';

export interface AccessProps {
  readonly namePrefix: string;
  /** AWS partition (aws, aws-cn, aws-us-gov). */
  readonly partition: string;
  readonly region: string;
  readonly bucketArn: string;
  /** Prefixes (ending in "/") the host may read. */
  readonly readPrefixes: readonly string[];
  /** The exact object keys the host may write (the certificate backup): no prefix, no wildcard. */
  readonly writeKeys: readonly string[];
  /** ARNs of the parameters the host may read: the two SecureStrings and the host config. */
  readonly parameterArns: readonly string[];
  /** ARNs of the SecureString parameters (the KMS encryption context SSM uses). */
  readonly secretParameterArns: readonly string[];
  /** Customer managed key of the SecureStrings; omitted: keys used via SSM in this account. */
  readonly kmsKeyArn?: string;
  readonly accountId: string;
}

export class Access extends Construct {
  readonly role: IamRole;
  readonly instanceProfile: IamInstanceProfile;
  readonly policyDocument: DataAwsIamPolicyDocument;
  /** The grants the host needs at first boot (the instance depends on them). */
  readonly grants: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: AccessProps) {
    super(scope, id);
    const wildcards = props.writeKeys.filter((key) => key.includes('*') || key.endsWith('/'));
    if (wildcards.length > 0) throw new InputError(`Access.writeKeys must name objects, not prefixes or patterns: ${wildcards.join(', ')}`);
    const assume = new DataAwsIamPolicyDocument(this, 'assume', {
      statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }] }],
    });
    this.role = new IamRole(this, 'role', {
      name: `${props.namePrefix}-host`,
      description: 'Provider Host EC2 instance role',
      assumeRolePolicy: assume.json,
    });
    const ssmCore = new IamRolePolicyAttachment(this, 'ssm-core', {
      role: this.role.name,
      policyArn: `arn:${props.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    });

    this.policyDocument = new DataAwsIamPolicyDocument(this, 'host-policy', {
      statement: [
        {
          sid: 'ReadHostObjects',
          effect: 'Allow',
          actions: ['s3:GetObject'],
          resources: props.readPrefixes.map((p) => `${props.bucketArn}/${p}*`),
        },
        {
          sid: 'ListHostPrefixes',
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resources: [props.bucketArn],
          condition: [{ test: 'StringLike', variable: 's3:prefix', values: props.readPrefixes.flatMap((p) => [p, `${p}*`]) }],
        },
        {
          sid: 'WriteCertificateBackup',
          effect: 'Allow',
          actions: ['s3:PutObject'],
          resources: props.writeKeys.map((key) => `${props.bucketArn}/${key}`),
        },
        {
          sid: 'ReadHostParameters',
          effect: 'Allow',
          actions: ['ssm:GetParameter'],
          resources: [...props.parameterArns],
        },
        {
          // AmazonSSMManagedInstanceCore allows ssm:GetParameter(s) on "*", and the default
          // aws/ssm key lets anyone in the account decrypt through SSM: without this Deny the
          // host could read every SecureString in the account.
          sid: 'NoOtherParameters',
          effect: 'Deny',
          actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:GetParameterHistory'],
          notResources: [...props.parameterArns],
        },
        {
          sid: 'DecryptSecretParametersViaSsm',
          effect: 'Allow',
          actions: ['kms:Decrypt'],
          resources: [props.kmsKeyArn ?? `arn:${props.partition}:kms:${props.region}:${props.accountId}:key/*`],
          condition: [
            { test: 'StringEquals', variable: 'kms:ViaService', values: [`ssm.${props.region}.amazonaws.com`] },
            { test: 'StringEquals', variable: 'kms:EncryptionContext:PARAMETER_ARN', values: [...props.secretParameterArns] },
          ],
        },
      ],
    });
    const hostPolicy = new IamRolePolicy(this, 'host-policy-attachment', {
      name: 'provider-host',
      role: this.role.id,
      policy: this.policyDocument.json,
    });
    this.grants = [ssmCore, hostPolicy];
    this.instanceProfile = new IamInstanceProfile(this, 'profile', {
      name: `${props.namePrefix}-host`,
      role: this.role.name,
    });
  }
}
