/**
 * The data bucket and what the stack publishes into it: the host bundle, the client-CA
 * trust bundle and static files (`public/`). Datasets (`shared_data/`) are not Terraform
 * objects: `provider-host publish` writes them as releases (contract/release-manifest.ts). The host
 * writes its certificate backup under `letsencrypt/`.
 *
 * Private (all four public-access blocks, ACLs disabled), versioned; once `protect()`
 * is called, encrypted with the customer managed key, TLS only, and the certificate
 * backup prefix closed to all but the instance and operator roles. Protected against an accidental destroy twice: `force_destroy = false` (never
 * emptied by Terraform) and, by default, `prevent_destroy` (the plan itself refuses).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetType, dependable, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { hashDirectory, hashFile, hashFiles, listFiles } from '../../lib/content-hash';
import { InputError } from '../../lib/input-error';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';

/** Bucket prefixes (contract/bucket-layout.ts); the IAM policy grants by these. */
const PREFIXES = BUCKET_LAYOUT;

export interface BucketProtectionProps {
  /** The customer managed key: the bucket's default encryption (SSE-KMS, bucket key). */
  readonly kmsKeyArn: string;
  /** The prefix only `privateReaderArns` may read or write (the certificate backup). */
  readonly privatePrefix: string;
  /** Role ARNs (as aws:PrincipalArn gives them) allowed the private prefix. */
  readonly privateReaderArns: readonly string[];
}

export interface BucketProtection {
  readonly encryption: S3BucketServerSideEncryptionConfigurationA;
  readonly policy: S3BucketPolicy;
  readonly policyDocument: DataAwsIamPolicyDocument;
}

export interface StorageProps {
  /** Prefix of the bucket name (Terraform appends a unique suffix). */
  readonly namePrefix: string;
  /** Add `prevent_destroy` to the bucket. @default true */
  readonly retainOnDestroy?: boolean;
  /** Days superseded versions are kept. @default 90 */
  readonly noncurrentVersionDays?: number;
  /** Folder built by `npm run bundle` (dist/host-bundle). */
  readonly bundleDir: string;
  /** PEM file of the client-CA trust bundle. */
  readonly trustBundleFile: string;
  /** Folder of static files, published under `public/`. */
  readonly publicDir?: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.csv': 'text/csv; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.pem': 'application/x-pem-file',
};

const SAFE_KEY_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A PEM private key block (header, then base64): code that merely names the header does not match. */
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{16,}/;

/** The named files (relative to `root`) that hold a private key: they must never be published. */
function filesWithPrivateKeys(root: string, files: readonly string[]): string[] {
  return files.filter((rel) => PEM_PRIVATE_KEY.test(fs.readFileSync(path.join(root, rel), 'latin1'))).map((rel) => path.join(root, rel));
}

export class Storage extends Construct {
  readonly bucket: S3Bucket;
  /** S3 key of the zipped host bundle: `bundles/<hash>.zip`. */
  readonly bundleKey: string;
  readonly bundleHash: string;
  readonly trustBundleKey = BUCKET_LAYOUT.trustBundleKey;
  readonly trustHash: string;
  /**
   * Constant: datasets are not Terraform objects. They reach `shared_data/` with
   * `provider-host publish` (tools/publish) and the host picks them up by itself
   * (contract/release-manifest.ts); a deploy never re-syncs them.
   */
  readonly dataHash = 'published-releases';
  readonly publicHash: string;
  /** The zipped host bundle object. */
  readonly bundleObject: S3Object;
  /** Every object the stack uploads (the host must not run before they exist). */
  readonly objects: S3Object[] = [];
  /** The default encryption and bucket policy (set by `protect()`). */
  protection?: BucketProtection;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const { retainOnDestroy = true, noncurrentVersionDays = 90 } = props;

    this.bucket = new S3Bucket(this, 'bucket', {
      bucketPrefix: `${props.namePrefix}-`,
      forceDestroy: false,
      lifecycle: { preventDestroy: retainOnDestroy },
    });
    // Stateful: the logical id must survive refactors (a new id = a new, empty bucket).
    this.bucket.overrideLogicalId('data_bucket');

    new S3BucketPublicAccessBlock(this, 'public-access-block', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      bucket: this.bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketVersioningA(this, 'versioning', {
      bucket: this.bucket.id,
      versioningConfiguration: { status: 'Enabled' },
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket: this.bucket.id,
      rule: [
        {
          id: 'expire-superseded-versions',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          noncurrentVersionExpiration: [{ noncurrentDays: noncurrentVersionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    const leaks = [
      ...filesWithPrivateKeys(props.bundleDir, listFiles(props.bundleDir)),
      ...filesWithPrivateKeys(path.dirname(props.trustBundleFile), [path.basename(props.trustBundleFile)]),
      ...(props.publicDir !== undefined ? filesWithPrivateKeys(props.publicDir, listFiles(props.publicDir)) : []),
    ];
    if (leaks.length > 0) {
      throw new InputError(`refusing to publish private keys: ${leaks.join(', ')}. Keys belong in SSM SecureString parameters, never in the bucket`);
    }

    // The host bundle: one zip per content hash, so a release folder on the host is
    // immutable and the previous zip stays until the new one exists.
    this.bundleHash = hashDirectory(props.bundleDir);
    const bundle = new TerraformAsset(this, 'bundle-asset', { path: props.bundleDir, type: AssetType.ARCHIVE, assetHash: this.bundleHash });
    this.bundleKey = `${PREFIXES.bundles}${this.bundleHash}.zip`;
    this.bundleObject = this.upload('bundle', this.bundleKey, bundle, 'application/zip', { createBeforeDestroy: true });

    this.trustHash = hashFile(props.trustBundleFile);
    const trust = new TerraformAsset(this, 'trust-asset', { path: props.trustBundleFile, type: AssetType.FILE, assetHash: this.trustHash });
    this.upload('trust-bundle', this.trustBundleKey, trust, CONTENT_TYPES['.pem']);

    this.publicHash = props.publicDir !== undefined ? this.publishFolder('public', props.publicDir, PREFIXES.public) : 'none';
  }

  /**
   * The bucket's default encryption and its policy, once the key and the roles exist
   * (the key policy names the instance role, whose own policy names the bucket). Call
   * once. The construct ids stay `encryption` and `policy`: their logical ids must not
   * change (a removed bucket policy resource would delete the live policy).
   */
  protect(props: BucketProtectionProps): BucketProtection {
    if (this.protection !== undefined) throw new Error('Storage.protect() called twice');
    const encryption = new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }],
    });
    // Everything the stack uploads is encrypted with the key from the first deploy.
    for (const object of this.objects) object.dependsOn = [...(object.dependsOn ?? []), dependable(encryption)];

    const objects = (prefix: string): string => `${this.bucket.arn}/${prefix}*`;
    const anyone = [{ type: '*', identifiers: ['*'] }];
    const document = new DataAwsIamPolicyDocument(this, 'bucket-policy', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: anyone,
          actions: ['s3:*'],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
        {
          // aws:PrincipalArn is the role's ARN for every session of the role (the session's
          // own ARN is arn:aws:sts::<account>:assumed-role/<role>/<session>).
          sid: 'DenyPrivatePrefixToOthers',
          effect: 'Deny',
          principals: anyone,
          actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
          resources: [objects(props.privatePrefix)],
          condition: [{ test: 'ArnNotEquals', variable: 'aws:PrincipalArn', values: [...props.privateReaderArns] }],
        },
        {
          // A request naming another key (or SSE-S3) is refused; one naming none gets the
          // bucket's default, this key. (The policy is evaluated before default encryption.)
          sid: 'DenyPrivatePrefixOtherKey',
          effect: 'Deny',
          principals: anyone,
          actions: ['s3:PutObject'],
          resources: [objects(props.privatePrefix)],
          condition: [{ test: 'StringNotEqualsIfExists', variable: 's3:x-amz-server-side-encryption-aws-kms-key-id', values: [props.kmsKeyArn] }],
        },
        {
          sid: 'DenyPrivatePrefixOtherEncryption',
          effect: 'Deny',
          principals: anyone,
          actions: ['s3:PutObject'],
          resources: [objects(props.privatePrefix)],
          condition: [{ test: 'StringNotEqualsIfExists', variable: 's3:x-amz-server-side-encryption', values: ['aws:kms'] }],
        },
        {
          // "aws:kms" without a key id would use the AWS managed aws/s3 key.
          sid: 'DenyPrivatePrefixKmsWithoutKey',
          effect: 'Deny',
          principals: anyone,
          actions: ['s3:PutObject'],
          resources: [objects(props.privatePrefix)],
          condition: [
            { test: 'Null', variable: 's3:x-amz-server-side-encryption', values: ['false'] },
            { test: 'Null', variable: 's3:x-amz-server-side-encryption-aws-kms-key-id', values: ['true'] },
          ],
        },
      ],
    });
    const policy = new S3BucketPolicy(this, 'policy', { bucket: this.bucket.id, policy: document.json });
    this.protection = { encryption, policy, policyDocument: document };
    return this.protection;
  }

  /** Uploads every file of `dir` under `prefix`; returns the folder's content hash. */
  private publishFolder(kind: string, dir: string, prefix: string): string {
    const files = listFiles(dir);
    for (const rel of files) {
      const bad = rel.split('/').find((segment) => !SAFE_KEY_SEGMENT.test(segment));
      if (bad !== undefined) {
        throw new InputError(`${path.join(dir, rel)}: file name segment ${JSON.stringify(bad)} is not publishable; use letters, digits, ".", "_" and "-" (not starting with "." or "-")`);
      }
      const id = `${kind}-${rel.replace(/\//g, '__')}`;
      const asset = new TerraformAsset(this, `${id}-asset`, { path: path.join(dir, rel), type: AssetType.FILE, assetHash: hashFile(path.join(dir, rel)) });
      this.upload(id, `${prefix}${rel}`, asset, CONTENT_TYPES[path.extname(rel).toLowerCase()] ?? 'application/octet-stream');
    }
    return hashFiles(dir, files);
  }

  private upload(id: string, key: string, asset: TerraformAsset, contentType: string, lifecycle?: { createBeforeDestroy: boolean }): S3Object {
    const object = new S3Object(this, id, {
      bucket: this.bucket.id,
      key,
      source: asset.path,
      sourceHash: asset.assetHash,
      contentType,
      ...(lifecycle ? { lifecycle } : {}),
    });
    this.objects.push(object);
    return object;
  }
}
