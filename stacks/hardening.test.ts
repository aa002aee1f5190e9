/**
 * The "Hardening" issue, one property per test: the instance role's narrow write, the
 * data bucket's customer managed key and policy, scheduled patching, the CAA record.
 * GIVEN an environment, WHEN it is synthesized, THEN the JSON says exactly this.
 */
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { SsmAssociation } from '@cdktf/provider-aws/lib/ssm-association';
import { EnvironmentError } from '../config/load';
import { exampleConfig, only, removeTempDirs, resources, synthStack, type Synthesized, type TerraformJson } from '../testing/synth';
import { BUCKET_LAYOUT } from '../contract/bucket-layout';
import { ssmScheduleProblem } from './lib/aws-name-rules';

Testing.setupJest();
afterAll(removeTempDirs);

const BUCKET_ARN = '${aws_s3_bucket.data_bucket.arn}';
const KEY_ARN = '${aws_kms_key.data_key.arn}';
const ROLE_ARN = '${aws_iam_role.access_role_545049AB.arn}';
const ROOT = 'arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.caller.account_id}:root';
const OPERATOR = 'arn:aws:iam::123456789012:role/ops/ProviderOperator';
const VIA_S3 = { test: 'StringEquals', variable: 'kms:ViaService', values: ['s3.eu-west-2.amazonaws.com'] };

interface Statement { sid?: string; effect: string; actions: string[]; resources?: string[]; principals?: unknown; condition?: unknown[] }

/** The statements of the policy document a resource's attribute refers to. */
function documentOf(doc: TerraformJson, reference: unknown): Statement[] {
  const id = /^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/.exec(String(reference))?.[1];
  if (id === undefined) throw new Error(`not a policy document reference: ${String(reference)}`);
  return (doc.data.aws_iam_policy_document[id] as { statement: Statement[] }).statement;
}
const bySid = (statements: Statement[], sid: string): Statement => {
  const found = statements.find((s) => s.sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${statements.map((s) => s.sid).join(', ')}`);
  return found;
};
const keyPolicy = (s: Synthesized) => documentOf(s.doc, only(s.doc, 'aws_kms_key').policy);
const bucketPolicy = (s: Synthesized) => documentOf(s.doc, only(s.doc, 'aws_s3_bucket_policy').policy);
const hostPolicy = (s: Synthesized) => documentOf(s.doc, resources(s.doc, 'aws_iam_role_policy')['access_host-policy-attachment_4C8E02C3'].policy);

/** The configuration problems of an example environment with overrides (fails if it parses). */
function problems(overrides: Record<string, unknown>): string[] {
  try {
    exampleConfig(overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return [...(error as EnvironmentError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe('hardening', () => {
  let synth: Synthesized;
  let withOperator: Synthesized;
  beforeAll(() => {
    synth = synthStack();
    withOperator = synthStack(exampleConfig({ security: { operatorRoleArn: OPERATOR } }));
  });

  describe('instance role: narrow write', () => {
    it('the instance role may write only the backup object and its release and revocation status (never a release or the deny list)', () => {
      const writes = hostPolicy(synth).filter((s) => s.effect === 'Allow' && s.actions.some((a) => /^s3:(Put|Delete|\*)/.test(a)));
      expect(writes).toEqual([{ sid: 'WriteCertificateBackup', effect: 'Allow', actions: ['s3:PutObject'], resources: [`${BUCKET_ARN}/${BUCKET_LAYOUT.letsencryptBackupKey}`, `${BUCKET_ARN}/host-status/release.json`, `${BUCKET_ARN}/${BUCKET_LAYOUT.revocationStatusKey}`] }]);
      expect(BUCKET_LAYOUT.letsencryptBackupKey).toBe('letsencrypt/letsencrypt.tar.gz');
    });

    it('the instance role may use the data key through S3 only, by its ARN', () => {
      const policies = Object.values(resources(synth.doc, 'aws_iam_role_policy'));
      const dataKeyPolicy = policies.find((p) => p.name === 'provider-host-data-key');
      expect(dataKeyPolicy?.role).toBe('${aws_iam_role.access_role_545049AB.id}');
      expect(documentOf(synth.doc, dataKeyPolicy?.policy)).toEqual([
        { sid: 'UseDataKeyThroughS3', effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [KEY_ARN], condition: [VIA_S3] },
      ]);
    });

    it('the instance boots only after the data key grant, the bucket key and the bucket policy exist', () => {
      const dependsOn = only(synth.doc, 'aws_instance').depends_on as string[];
      expect(dependsOn).toEqual(expect.arrayContaining([
        expect.stringMatching(/^aws_iam_role_policy\.data-key_instance-use-policy_[0-9A-F]+$/),
        'aws_s3_bucket_server_side_encryption_configuration.storage_encryption_D90D7E74',
        'aws_s3_bucket_policy.storage_policy_79A6A166',
      ]));
    });
  });

  describe('data KMS key', () => {
    it('rotates yearly, keeps a 30-day deletion window and follows the bucket\'s prevent_destroy', () => {
      expect(synth.json).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true, deletion_window_in_days: 30, lifecycle: { prevent_destroy: true } });
      const { json } = synthStack(exampleConfig({ storage: { retainOnDestroy: false } }));
      expect(json).toHaveResourceWithProperties(KmsKey, { lifecycle: { prevent_destroy: false } });
    });

    it('has the alias alias/<namePrefix>-data', () => {
      expect(synth.json).toHaveResourceWithProperties(KmsAlias, { name: 'alias/provider-example-data', target_key_id: '${aws_kms_key.data_key.key_id}' });
    });

    it('the account root administers the key but uses it only through S3', () => {
      const policy = keyPolicy(synth);
      const admin = bySid(policy, 'AccountAdministersKey');
      expect(admin.principals).toEqual([{ type: 'AWS', identifiers: [ROOT] }]);
      expect(admin.actions).toEqual(expect.arrayContaining(['kms:Put*', 'kms:ScheduleKeyDeletion', 'kms:Describe*']));
      expect(admin.actions.filter((a) => /Decrypt|Encrypt|GenerateDataKey|^kms:\*$/.test(a))).toEqual([]);
      const use = bySid(policy, 'AccountUsesKeyThroughS3');
      expect(use.principals).toEqual([{ type: 'AWS', identifiers: [ROOT] }]);
      expect(use.condition).toEqual([VIA_S3, { test: 'StringEquals', variable: 'kms:CallerAccount', values: ['${data.aws_caller_identity.caller.account_id}'] }]);
    });

    it('the instance role may Encrypt, Decrypt and GenerateDataKey through S3', () => {
      expect(bySid(keyPolicy(synth), 'InstanceRoleUsesKeyThroughS3')).toEqual({
        sid: 'InstanceRoleUsesKeyThroughS3', effect: 'Allow', principals: [{ type: 'AWS', identifiers: [ROLE_ARN] }],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], resources: ['*'], condition: [VIA_S3],
      });
    });

    it('without an operator role, only the account root and the instance role are named', () => {
      const principals = keyPolicy(synth).flatMap((s) => (s.principals as { identifiers: string[] }[]).flatMap((p) => p.identifiers));
      expect([...new Set(principals)].sort()).toEqual([ROLE_ARN, ROOT].sort());
    });

    it('the operator role, when configured, may use the key through S3', () => {
      expect(bySid(keyPolicy(withOperator), 'OperatorRoleUsesKeyThroughS3')).toMatchObject({
        effect: 'Allow', principals: [{ type: 'AWS', identifiers: [OPERATOR] }], condition: [VIA_S3],
        actions: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']),
      });
    });

    it('is the bucket\'s default encryption, with a bucket key', () => {
      const encryption = only(synth.doc, 'aws_s3_bucket_server_side_encryption_configuration');
      expect(encryption.rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: KEY_ARN }, bucket_key_enabled: true }]);
    });

    it('everything the stack uploads waits for the bucket key, so it is encrypted with it', () => {
      for (const object of Object.values(resources(synth.doc, 'aws_s3_object'))) {
        expect(object.depends_on).toContain('aws_s3_bucket_server_side_encryption_configuration.storage_encryption_D90D7E74');
      }
    });
  });

  describe('bucket policy', () => {
    it('other principals are denied the backup prefix', () => {
      expect(bySid(bucketPolicy(synth), 'DenyPrivatePrefixToOthers')).toEqual({
        sid: 'DenyPrivatePrefixToOthers', effect: 'Deny', principals: [{ type: '*', identifiers: ['*'] }],
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
        resources: [`${BUCKET_ARN}/letsencrypt/*`],
        condition: [{ test: 'ArnNotEquals', variable: 'aws:PrincipalArn', values: [ROLE_ARN] }],
      });
    });

    it('the operator role is excepted from that Deny too (by role ARN, as aws:PrincipalArn gives it)', () => {
      expect(bySid(bucketPolicy(withOperator), 'DenyPrivatePrefixToOthers').condition).toEqual([
        { test: 'ArnNotEquals', variable: 'aws:PrincipalArn', values: [ROLE_ARN, OPERATOR] },
      ]);
    });

    it('non-TLS requests denied', () => {
      expect(bySid(bucketPolicy(synth), 'DenyInsecureTransport')).toMatchObject({
        effect: 'Deny', actions: ['s3:*'], resources: [BUCKET_ARN, `${BUCKET_ARN}/*`],
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      });
    });

    it('a backup put naming another KMS key, another encryption, or aws:kms without the key is denied', () => {
      const policy = bucketPolicy(synth);
      const put = { effect: 'Deny', principals: [{ type: '*', identifiers: ['*'] }], actions: ['s3:PutObject'], resources: [`${BUCKET_ARN}/letsencrypt/*`] };
      expect(bySid(policy, 'DenyPrivatePrefixOtherKey')).toMatchObject({
        ...put, condition: [{ test: 'StringNotEqualsIfExists', variable: 's3:x-amz-server-side-encryption-aws-kms-key-id', values: [KEY_ARN] }],
      });
      expect(bySid(policy, 'DenyPrivatePrefixOtherEncryption')).toMatchObject({
        ...put, condition: [{ test: 'StringNotEqualsIfExists', variable: 's3:x-amz-server-side-encryption', values: ['aws:kms'] }],
      });
      expect(bySid(policy, 'DenyPrivatePrefixKmsWithoutKey')).toMatchObject({
        ...put,
        condition: [
          { test: 'Null', variable: 's3:x-amz-server-side-encryption', values: ['false'] },
          { test: 'Null', variable: 's3:x-amz-server-side-encryption-aws-kms-key-id', values: ['true'] },
        ],
      });
    });
  });

  describe('patching', () => {
    it('patch association runs weekly with RebootIfNeeded', () => {
      expect(synth.json).toHaveResourceWithProperties(SsmAssociation, {
        name: 'AWS-RunPatchBaseline',
        association_name: 'provider-example-patch',
        schedule_expression: 'cron(0 4 ? * SUN *)',
        apply_only_at_cron_interval: true,
        parameters: { Operation: 'Install', RebootOption: 'RebootIfNeeded' },
        targets: [{ key: 'InstanceIds', values: [expect.stringMatching(/^\$\{aws_instance\.host_instance_[0-9A-F]+\.id\}$/)] }],
      });
    });

    it('takes the schedule and NoReboot from config; a rate runs at creation too', () => {
      const { doc } = synthStack(exampleConfig({ patching: { schedule: 'rate(7 days)', rebootOption: 'NoReboot' } }));
      expect(resources(doc, 'aws_ssm_association').patch_association).toMatchObject({
        schedule_expression: 'rate(7 days)', apply_only_at_cron_interval: false, parameters: { Operation: 'Install', RebootOption: 'NoReboot' },
      });
    });

    it('an invalid cron expression is refused naming the field', () => {
      expect(problems({ patching: { schedule: 'cron(0 4 * * SUN)' } })).toEqual([
        'patching.schedule: "cron(0 4 * * SUN)" does not have the six fields of an SSM cron expression; use e.g. "cron(0 4 ? * SUN *)" (cron: minutes hours day-of-month month day-of-week year, in UTC) or "rate(7 days)"',
      ]);
      expect(problems({ patching: { schedule: 'cron(0 4 * * SUN *)' } })).toEqual([
        'patching.schedule: "cron(0 4 * * SUN *)" must have "?" in exactly one of day-of-month and day-of-week; use e.g. "cron(0 4 ? * SUN *)" (cron: minutes hours day-of-month month day-of-week year, in UTC) or "rate(7 days)"',
      ]);
      expect(problems({ patching: { schedule: 'rate(5 minutes)' } })[0]).toMatch(/^patching\.schedule: "rate\(5 minutes\)" runs more often than every 30 minutes/);
      expect(problems({ patching: { rebootOption: 'RebootNow' } })).toEqual(['patching.rebootOption: "RebootNow" is not a reboot option; use "RebootIfNeeded" or "NoReboot"']);
    });

    it('accepts the SSM expressions an operator would write', () => {
      for (const ok of ['cron(0 4 ? * SUN *)', 'cron(30 2 ? * MON-FRI *)', 'cron(0 3 1 * ? *)', 'cron(0 4 ? * SUN#2 *)', 'rate(1 day)', 'rate(12 hours)', 'rate(30 minutes)']) {
        expect({ ok, problem: ssmScheduleProblem(ok) }).toEqual({ ok, problem: undefined });
      }
      for (const bad of ['cron(61 4 ? * SUN *)', 'cron(0 25 ? * SUN *)', 'cron(*/5 * ? * * *)', 'rate(1 days)', 'weekly', 'cron(0 4 ? * SUN *) ']) {
        expect({ bad, refused: ssmScheduleProblem(bad) !== undefined }).toEqual({ bad, refused: true });
      }
    });
  });

  describe('CAA', () => {
    const caa = (s: Synthesized) => resources(s.doc, 'aws_route53_record').dns_caa;

    it("CAA allows only Let's Encrypt", () => {
      expect(synth.json).toHaveResourceWithProperties(Route53Record, {
        name: 'example.energydata.org.uk', type: 'CAA', ttl: 300, allow_overwrite: false,
        records: ['0 issue "letsencrypt.org"', '0 issuewild ";"'],
        zone_id: expect.stringMatching(/^\$\{data\.aws_route53_zone\.[^.]+\.zone_id\}$/),
      });
    });

    it('names the ACME account and http-01 (RFC 8657) when acme.caaAccountUri is set', () => {
      const account = 'https://acme-staging-v02.api.letsencrypt.org/acme/acct/123456789';
      expect(caa(synthStack(exampleConfig({ acme: { caaAccountUri: account } }))).records).toEqual([
        `0 issue "letsencrypt.org; accounturi=${account}; validationmethods=http-01"`, '0 issuewild ";"',
      ]);
    });

    it('takes over an existing CAA record only with hostedZone.allowOverwrite', () => {
      expect(caa(synthStack(exampleConfig({ hostedZone: { name: 'energydata.org.uk', allowOverwrite: true } }))).allow_overwrite).toBe(true);
    });

    it('another ACME server needs acme.caaIssuer, which the record then allows', () => {
      expect(problems({ acme: { server: 'https://acme.sectigo.com/v2/DV' } })).toEqual([
        'acme.caaIssuer: is required: acme.server "https://acme.sectigo.com/v2/DV" is not Let\'s Encrypt, so the CAA record needs that CA\'s CAA identifier; set acme.caaIssuer (e.g. "sectigo.com", from the CA\'s documentation)',
      ]);
      const other = synthStack(exampleConfig({ acme: { server: 'https://acme.sectigo.com/v2/DV', caaIssuer: 'sectigo.com' } }));
      expect(caa(other).records).toEqual(['0 issue "sectigo.com"', '0 issuewild ";"']);
    });

    it("refuses a CAA issuer that would forbid Let's Encrypt, and an account of another server", () => {
      expect(problems({ acme: { caaIssuer: 'sectigo.com' } })).toEqual([
        'acme.caaIssuer: "sectigo.com" would forbid Let\'s Encrypt, which issues the certificate ("https://acme-staging-v02.api.letsencrypt.org/directory"); use "letsencrypt.org" or omit it',
      ]);
      expect(problems({ acme: { caaAccountUri: 'https://acme-v02.api.letsencrypt.org/acme/acct/1' } })[0]).toMatch(
        /^acme\.caaAccountUri: "https:\/\/acme-v02\.api\.letsencrypt\.org\/acme\/acct\/1" is an account at acme-v02\.api\.letsencrypt\.org, but certificates come from "https:\/\/acme-staging-v02/,
      );
      expect(problems({ acme: { caaAccountUri: 'https://x.org/acct; evil' } })[0]).toMatch(/^acme\.caaAccountUri: "https:\/\/x\.org\/acct; evil" is not an https URL/);
    });
  });

  describe('security.operatorRoleArn', () => {
    it('is an IAM role ARN; a role session or a user is refused naming the field', () => {
      expect(exampleConfig({ security: { operatorRoleArn: OPERATOR } }).security.operatorRoleArn).toBe(OPERATOR);
      expect(problems({ security: { operatorRoleArn: 'arn:aws:sts::123456789012:assumed-role/Ops/alice' } })).toEqual([
        'security.operatorRoleArn: "arn:aws:sts::123456789012:assumed-role/Ops/alice" is a role session, not a role; use the role\'s ARN, "arn:aws:iam::<account>:role/<name>"',
      ]);
      expect(problems({ security: { operatorRoleArn: 'arn:aws:iam::123456789012:user/alice' } })).toEqual([
        'security.operatorRoleArn: "arn:aws:iam::123456789012:user/alice" is not an IAM role ARN; use "arn:aws:iam::<account>:role/<name>" (with its path, if any)',
      ]);
    });
  });
});
