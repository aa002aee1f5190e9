/**
 * The instance role: SSM Session Manager (managed policy), and least privilege on the
 * data: read of exactly the bucket prefixes the host needs, write only of the
 * certificate backup object, read of exactly the two secret parameters and the host config,
 * and KMS decrypt only through SSM for those parameters. In fleet mode also the DNS-01
 * challenge record (one TXT name in one zone) and the release of the renewal lock.
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
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
  /** Exact object keys the host may delete (fleet mode: the renewal lock it releases). @default none */
  readonly deleteKeys?: readonly string[];
  /**
   * Fleet mode: the DNS-01 challenge. The host may UPSERT and DELETE the TXT record
   * `recordName` in the zone `zoneId`, and nothing else in it, and read the change status.
   * @default none (single mode uses HTTP-01 and no Route53 access)
   */
  readonly dnsChallenge?: { readonly zoneId: string; readonly recordName: string };
}

/** The DNS-01 challenge record of a name, as certbot writes it (RFC 8555 §8.4). */
export const acmeChallengeRecordName = (domain: string): string => `_acme-challenge.${domain}`;

export class Access extends Construct {
  readonly role: IamRole;
  readonly instanceProfile: IamInstanceProfile;
  readonly policyDocument: DataAwsIamPolicyDocument;
  /** The grants the host needs at first boot (the instance depends on them). */
  readonly grants: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: AccessProps) {
    super(scope, id);
    const wildcards = [...props.writeKeys, ...(props.deleteKeys ?? [])].filter((key) => key.includes('*') || key.endsWith('/'));
    if (wildcards.length > 0) throw new InputError(`Access.writeKeys and deleteKeys must name objects, not prefixes or patterns: ${wildcards.join(', ')}`);
    if (props.dnsChallenge !== undefined && !/^_acme-challenge\.[a-z0-9.-]+[a-z0-9]$/.test(props.dnsChallenge.recordName)) {
      // Route53's normalized form (lower case, no trailing dot): any other spelling never matches the condition.
      throw new InputError(`Access.dnsChallenge.recordName ${JSON.stringify(props.dnsChallenge.recordName)} is not a normalized _acme-challenge.<domain> name`);
    }
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
        ...(props.deleteKeys !== undefined && props.deleteKeys.length > 0
          ? [{ sid: 'ReleaseRenewalLock', effect: 'Allow', actions: ['s3:DeleteObject'], resources: props.deleteKeys.map((key) => `${props.bucketArn}/${key}`) }]
          : []),
        ...(props.dnsChallenge !== undefined ? this.dnsChallengeStatements(props.partition, props.dnsChallenge) : []),
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

  /**
   * Route53 grants no per-record resource: the zone is the resource, and the record's
   * name, type and the change's action are condition keys. ForAllValues holds for an empty
   * set, so each key must also be present (Null false): a request must name records.
   */
  private dnsChallengeStatements(partition: string, challenge: { readonly zoneId: string; readonly recordName: string }): DataAwsIamPolicyDocumentStatement[] {
    const onlyThese = (variable: string, values: string[]) => [
      { test: 'ForAllValues:StringEquals', variable, values },
      { test: 'Null', variable, values: ['false'] },
    ];
    return [
      {
        sid: 'WriteAcmeChallengeRecord',
        effect: 'Allow',
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [`arn:${partition}:route53:::hostedzone/${challenge.zoneId}`],
        condition: [
          ...onlyThese('route53:ChangeResourceRecordSetsNormalizedRecordNames', [challenge.recordName]),
          ...onlyThese('route53:ChangeResourceRecordSetsRecordTypes', ['TXT']),
          ...onlyThese('route53:ChangeResourceRecordSetsActions', ['UPSERT', 'DELETE']),
        ],
      },
      {
        // A change id is known only once the change is made; GetChange has no other resource.
        sid: 'ReadChallengeChangeStatus',
        effect: 'Allow',
        actions: ['route53:GetChange'],
        resources: [`arn:${partition}:route53:::change/*`],
      },
    ];
  }
}
