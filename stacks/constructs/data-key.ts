/**
 * The data bucket's customer managed KMS key (the bucket's default encryption, SSE-KMS
 * with a bucket key): reading an object needs kms:Decrypt on this key as well as
 * s3:GetObject, so a principal with bucket read alone (ReadOnlyAccess has no
 * kms:Decrypt) reads nothing, and the key policy names who may use it:
 *
 *   - the account root: administration (so the key stays manageable, AWS's lockout rule),
 *     and use **through S3 only** for principals the account's IAM policies allow (the
 *     deployer uploading the bundle and datasets needs kms:GenerateDataKey);
 *   - the instance role: Encrypt, Decrypt, GenerateDataKey through S3 in this region;
 *   - the operator role, when configured: the same.
 *
 * The certificate backup prefix is closed further by the bucket policy (storage.ts):
 * only the instance role and the operator role may read it, whatever IAM allows.
 * Rotation on (yearly), 30-day deletion window; the key follows the bucket's
 * `prevent_destroy`: destroying the key while the bucket is kept makes it unreadable.
 */
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { InputError } from '../../lib/input-error';
import { iamRoleArnProblem, kmsAliasProblem } from '../lib/aws-name-rules';

/** What the key's users may do with it (through S3). */
export const DATA_KEY_USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'] as const;

/** The key administration the account root keeps (no cryptographic use outside S3). */
export const DATA_KEY_ADMIN_ACTIONS = [
  'kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*',
  'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource',
  'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:RotateKeyOnDemand',
] as const;

export interface DataKeyProps {
  readonly namePrefix: string;
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The instance role's ARN (by reference: the key policy needs the role to exist). */
  readonly instanceRoleArn: string;
  /** An operator role that may read and write through S3 with the key. */
  readonly operatorRoleArn?: string;
  /** Refuse to destroy the key (follows the bucket's `retainOnDestroy`). @default true */
  readonly retainOnDestroy?: boolean;
  /** @default 30 (the maximum: time to notice a mistaken deletion) */
  readonly deletionWindowInDays?: number;
}

export class DataKey extends Construct {
  readonly key: KmsKey;
  readonly alias: KmsAlias;
  readonly policyDocument: DataAwsIamPolicyDocument;
  private readonly viaS3: string;

  constructor(scope: Construct, id: string, props: DataKeyProps) {
    super(scope, id);
    const { retainOnDestroy = true, deletionWindowInDays = 30 } = props;
    const aliasName = `alias/${props.namePrefix}-data`;
    const problems = [
      kmsAliasProblem(aliasName),
      props.operatorRoleArn !== undefined ? iamRoleArnProblem(props.operatorRoleArn) : undefined,
      deletionWindowInDays >= 7 && deletionWindowInDays <= 30 ? undefined : `KMS deletion window ${deletionWindowInDays} is not 7-30 days`,
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new InputError(`DataKey ${this.node.path}: ${problems.join('; ')}`);

    this.viaS3 = `s3.${props.region}.amazonaws.com`;
    const viaS3 = [{ test: 'StringEquals', variable: 'kms:ViaService', values: [this.viaS3] }];
    const root = `arn:${props.partition}:iam::${props.accountId}:root`;
    this.policyDocument = new DataAwsIamPolicyDocument(this, 'policy', {
      statement: [
        {
          sid: 'AccountAdministersKey',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [root] }],
          actions: [...DATA_KEY_ADMIN_ACTIONS],
          resources: ['*'],
        },
        {
          // Uploads by the deployer (Terraform) and reads IAM allows, through S3 only. The
          // backup prefix stays closed to them by the bucket policy.
          sid: 'AccountUsesKeyThroughS3',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [root] }],
          actions: [...DATA_KEY_USE_ACTIONS, 'kms:DescribeKey'],
          resources: ['*'],
          condition: [...viaS3, { test: 'StringEquals', variable: 'kms:CallerAccount', values: [props.accountId] }],
        },
        {
          sid: 'InstanceRoleUsesKeyThroughS3',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [props.instanceRoleArn] }],
          actions: [...DATA_KEY_USE_ACTIONS],
          resources: ['*'],
          condition: viaS3,
        },
        ...(props.operatorRoleArn !== undefined
          ? [{
            sid: 'OperatorRoleUsesKeyThroughS3',
            effect: 'Allow',
            principals: [{ type: 'AWS', identifiers: [props.operatorRoleArn] }],
            actions: [...DATA_KEY_USE_ACTIONS, 'kms:DescribeKey'],
            resources: ['*'],
            condition: viaS3,
          }]
          : []),
      ],
    });

    this.key = new KmsKey(this, 'key', {
      description: `Provider Host ${props.namePrefix}: data bucket (certificate backup, bundle, datasets)`,
      enableKeyRotation: true,
      deletionWindowInDays,
      policy: this.policyDocument.json,
      lifecycle: { preventDestroy: retainOnDestroy },
    });
    // Stateful: a new logical id would schedule the key for deletion and every object
    // encrypted with it would become unreadable.
    this.key.overrideLogicalId('data_key');

    this.alias = new KmsAlias(this, 'alias', { name: aliasName, targetKeyId: this.key.keyId });
    this.alias.overrideLogicalId('data_key_alias');
  }

  /**
   * Lets a role use the key through S3 in its own IAM policy, by the key's ARN (the key
   * policy allows it too; both must allow for a principal the key policy names by root).
   */
  grantUseThroughS3(roleName: string): IamRolePolicy {
    const document = new DataAwsIamPolicyDocument(this, 'instance-use', {
      statement: [{
        sid: 'UseDataKeyThroughS3',
        effect: 'Allow',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.key.arn],
        condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [this.viaS3] }],
      }],
    });
    return new IamRolePolicy(this, 'instance-use-policy', { name: 'provider-host-data-key', role: roleName, policy: document.json });
  }
}
