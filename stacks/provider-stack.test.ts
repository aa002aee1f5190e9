/**
 * The example environment's stack, attribute by attribute (cdktf Testing matchers on
 * the synthesized JSON; subset matches, arrays equal in length).
 */
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { EipAssociation } from '@cdktf/provider-aws/lib/eip-association';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SsmAssociation } from '@cdktf/provider-aws/lib/ssm-association';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import * as path from 'node:path';
import { InputError } from '../lib/input-error';
import { ASSOCIATION_TIMEOUT_SECONDS, CLOUD_INIT_WAIT_SECONDS } from '../contract/host-timing';
import { stackTags } from './provider-stack';
import { exampleConfig, folderWith, only, removeTempDirs, resources, synthStack, type Synthesized } from '../testing/synth';

Testing.setupJest();

const BUCKET_ARN = '${aws_s3_bucket.data_bucket.arn}';

describe('ProviderStack (example environment)', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthStack();
  });
  afterAll(removeTempDirs);

  /** The deploy association (another one patches on a schedule). */
  const deployAssociation = (): Record<string, unknown> => resources(synth.doc, 'aws_ssm_association')[synth.stack.host.association.friendlyUniqueId];

  const policyStatements = (sid: string): Record<string, unknown> => {
    const docs = Object.values(synth.doc.data.aws_iam_policy_document) as { statement: { sid?: string }[] }[];
    const found = docs.flatMap((d) => d.statement).find((s) => s.sid === sid);
    if (!found) throw new Error(`no statement ${sid}`);
    return found as Record<string, unknown>;
  };

  describe('provider', () => {
    it('targets the configured region and tags everything', () => {
      expect(synth.json).toHaveProviderWithProperties(AwsProvider, {
        region: 'eu-west-2',
        default_tags: [{ tags: { Project: 'provider-host', Owner: 'data-team', Environment: 'example', ManagedBy: 'provider-host/cdktf' } }],
      });
    });

    it('requires a Terraform that has what the JSON uses, so an older one stops at init', () => {
      expect(synth.doc.terraform.required_version).toBe('>= 1.5.0');
    });
  });

  describe("AWS's tag rules, checked at synthesis", () => {
    it('the example stack has no tag AWS would refuse', () => {
      expect(synth.stack.awsRuleProblems()).toEqual([]);
    });

    it("a default tag IAM and SSM refuse (the old 'ManagedBy: provider-host (cdktf)') stops synthesis, naming each resource and the rule", () => {
      const stack = synthStack().stack;
      const aws = stack.node.findChild('aws') as AwsProvider;
      aws.defaultTags = [{ tags: { ...stackTags(exampleConfig()), ManagedBy: 'provider-host (cdktf)' } }];
      const problems = stack.awsRuleProblems();
      const iamRole = Object.keys(resources(synth.doc, 'aws_iam_role'))[0];
      expect(problems).toContain(
        `aws_iam_role.${iamRole}: tag "ManagedBy" = "provider-host (cdktf)" is not a valid tag value: "(" and ")" are not allowed by IAM; use letters (any script), digits, spaces and _ . : / = + - @`,
      );
      expect(problems.some((p) => p.startsWith('aws_ssm_parameter.') && p.includes('not allowed by SSM'))).toBe(true);
      // Resources Terraform does not tag are not reported.
      expect(problems.some((p) => /^aws_(eip_association|iam_role_policy|route53_record)\./.test(p))).toBe(false);
      expect(() => stack.checkAwsRules()).toThrow(InputError);
      expect(() => stack.checkAwsRules()).toThrow(/^Stack example would be refused by AWS at apply:\n  - aws_/);
    });

    it("a resource's own tags count too, with its service's limits (EC2: values of at most 255 characters)", () => {
      const stack = synthStack().stack;
      stack.host.instance.tags = { Name: 'x'.repeat(256) };
      const instance = Object.keys(resources(synth.doc, 'aws_instance'))[0];
      expect(stack.awsRuleProblems()).toEqual([`aws_instance.${instance}: tag "Name" = "${'x'.repeat(256)}" is 256 characters long; a tag value may have at most 255 on EC2`]);
    });
  });

  describe('state backend', () => {
    it('keeps local state in the project root by default, by a portable relative path', () => {
      expect(synth.doc.terraform.backend).toEqual({ local: { path: '../../../terraform.example.tfstate' } });
    });

    it('uses the configured S3 backend, encrypted', () => {
      const { doc } = synthStack(exampleConfig({ backend: { s3: { bucket: 'acme-tf-state', key: 'provider-host/example.tfstate', dynamodbTable: 'tf-locks' } } }));
      expect(doc.terraform.backend).toEqual({
        s3: { bucket: 'acme-tf-state', key: 'provider-host/example.tfstate', region: 'eu-west-2', encrypt: true, dynamodb_table: 'tf-locks' },
      });
    });
  });

  describe('instance', () => {
    it('reads the AL2023 AMI for the type\'s architecture from the public SSM parameter', () => {
      expect(synth.json).toHaveDataSourceWithProperties(DataAwsSsmParameter, { name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64' });
      const ami = Object.keys(synth.doc.data.aws_ssm_parameter)[0];
      expect(only(synth.doc, 'aws_instance').ami).toBe(`\${data.aws_ssm_parameter.${ami}.insecure_value}`);
    });

    it('takes the x86_64 AMI for an x86 type, and replaces the host when the architecture changes', () => {
      const x86 = synthStack(exampleConfig({ instance: { type: 't3.small' } }));
      expect(x86.json).toHaveDataSourceWithProperties(DataAwsSsmParameter, { name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' });
      for (const [doc, architecture] of [[synth.doc, 'arm64'], [x86.doc, 'x86_64']] as const) {
        expect(doc.resource.terraform_data).toEqual({ host_architecture: { triggers_replace: { architecture } } });
        // A plain address: Terraform refuses an interpolation ("${...}") in replace_triggered_by.
        expect(only(doc, 'aws_instance').lifecycle).toEqual({ ignore_changes: ['ami'], replace_triggered_by: ['terraform_data.host_architecture'] });
      }
    });

    it('never replaces the host for a new AMI release, but does for new user data', () => {
      expect(synth.json).toHaveResourceWithProperties(Instance, { lifecycle: expect.objectContaining({ ignore_changes: ['ami'] }), user_data_replace_on_change: true });
    });

    it('requires IMDSv2 and encrypts a gp3 root volume of the configured size', () => {
      expect(synth.json).toHaveResourceWithProperties(Instance, {
        instance_type: 't4g.small',
        metadata_options: { http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 },
        root_block_device: { volume_type: 'gp3', volume_size: 20, encrypted: true, delete_on_termination: true },
      });
    });

    it('uses the instance profile and the security group, with no SSH key by default', () => {
      const instance = only(synth.doc, 'aws_instance');
      expect(instance.iam_instance_profile).toMatch(/^\$\{aws_iam_instance_profile\.[^.]+\.name\}$/);
      expect(instance.vpc_security_group_ids).toEqual([expect.stringMatching(/^\$\{aws_security_group\.[^.]+\.id\}$/)]);
      expect(instance).not.toHaveProperty('key_name');
      expect(instance).not.toHaveProperty('subnet_id');
      expect(instance).not.toHaveProperty('user_data');
    });

    it('boots only after its host config, bundle and permissions exist', () => {
      const dependsOn = only(synth.doc, 'aws_instance').depends_on as string[];
      expect(dependsOn).toEqual(expect.arrayContaining([
        expect.stringMatching(/^aws_ssm_parameter\./),
        expect.stringMatching(/^aws_s3_object\.storage_bundle_/),
        expect.stringMatching(/^aws_iam_role_policy\./),
        expect.stringMatching(/^aws_iam_role_policy_attachment\./),
      ]));
    });

    it('gets an Elastic IP in the VPC, associated with the instance', () => {
      expect(synth.json).toHaveResourceWithProperties(Eip, { domain: 'vpc' });
      expect(synth.json).toHaveResourceWithProperties(EipAssociation, {
        allocation_id: '${aws_eip.public_ip.allocation_id}',
        instance_id: expect.stringMatching(/^\$\{aws_instance\.[^.]+\.id\}$/),
      });
    });

    it('launches in the default VPC unless a subnet is configured', () => {
      expect(synth.json).toHaveDataSourceWithProperties(DataAwsVpc, { default: true });
    });
  });

  describe('security group', () => {
    it('lives in the VPC and has one rule per port and address family', () => {
      expect(synth.json).toHaveResourceWithProperties(SecurityGroup, { name: 'provider-example-host', vpc_id: expect.stringMatching(/data\.aws_vpc\./) });
      expect(Object.keys(resources(synth.doc, 'aws_vpc_security_group_ingress_rule'))).toHaveLength(4);
      expect(Object.keys(resources(synth.doc, 'aws_vpc_security_group_egress_rule'))).toHaveLength(4);
    });

    it.each([80, 443])('opens %i to the world over IPv4 and IPv6, in and out', (port) => {
      for (const Rule of [VpcSecurityGroupIngressRule, VpcSecurityGroupEgressRule]) {
        expect(synth.json).toHaveResourceWithProperties(Rule, { ip_protocol: 'tcp', from_port: port, to_port: port, cidr_ipv4: '0.0.0.0/0' });
        expect(synth.json).toHaveResourceWithProperties(Rule, { ip_protocol: 'tcp', from_port: port, to_port: port, cidr_ipv6: '::/0' });
      }
    });

    it('opens 22 only to the configured ranges, by family', () => {
      const { doc } = synthStack(exampleConfig({ admin: { sshKeyName: 'ops', sshCidrs: ['203.0.113.0/24', '2001:db8::/48'] } }));
      const ssh = Object.values(resources(doc, 'aws_vpc_security_group_ingress_rule')).filter((r) => r.from_port === 22);
      expect(ssh.map((r) => [r.to_port, r.cidr_ipv4, r.cidr_ipv6])).toEqual([[22, '203.0.113.0/24', undefined], [22, undefined, '2001:db8::/48']]);
      expect(only(doc, 'aws_instance').key_name).toBe('ops');
    });
  });

  describe('bucket', () => {
    it('is named from the prefix and cannot be destroyed with its contents', () => {
      expect(synth.json).toHaveResourceWithProperties(S3Bucket, { bucket_prefix: 'provider-example-', force_destroy: false, lifecycle: { prevent_destroy: true } });
    });

    it('can drop prevent_destroy by config, never force_destroy', () => {
      const { json } = synthStack(exampleConfig({ storage: { retainOnDestroy: false } }));
      expect(json).toHaveResourceWithProperties(S3Bucket, { force_destroy: false, lifecycle: { prevent_destroy: false } });
    });

    it('blocks every kind of public access and disables ACLs', () => {
      expect(synth.json).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
        bucket: '${aws_s3_bucket.data_bucket.id}', block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
      });
      expect(synth.json).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: 'BucketOwnerEnforced' } });
    });

    it('is versioned and encrypted, and expires superseded versions', () => {
      expect(synth.json).toHaveResourceWithProperties(S3BucketVersioningA, { bucket: '${aws_s3_bucket.data_bucket.id}', versioning_configuration: { status: 'Enabled' } });
      expect(synth.json).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
        rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: '${aws_kms_key.data_key.arn}' }, bucket_key_enabled: true }],
      });
      expect(synth.json).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
        rule: [expect.objectContaining({ status: 'Enabled', noncurrent_version_expiration: [{ noncurrent_days: 90 }] })],
      });
    });

    it('denies every request that is not over TLS', () => {
      expect(policyStatements('DenyInsecureTransport')).toEqual({
        sid: 'DenyInsecureTransport',
        effect: 'Deny',
        principals: [{ type: '*', identifiers: ['*'] }],
        actions: ['s3:*'],
        resources: [BUCKET_ARN, `${BUCKET_ARN}/*`],
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      });
      const policy = only(synth.doc, 'aws_s3_bucket_policy');
      expect(policy.bucket).toBe('${aws_s3_bucket.data_bucket.id}');
      expect(policy.policy).toMatch(/^\$\{data\.aws_iam_policy_document\.storage_bucket-policy_[0-9A-F]+\.json\}$/);
    });

    it('holds the bundle (zip asset), the trust bundle and each public file (datasets are published, not deployed)', () => {
      const keys = Object.values(resources(synth.doc, 'aws_s3_object')).map((o) => o.key).sort();
      expect(keys).toEqual([
        `bundles/${synth.stack.storage.bundleHash}.zip`,
        'public/index.html',
        'trust/client-ca-bundle.pem',
      ]);
      expect(synth.json).toHaveResourceWithProperties(S3Object, {
        key: `bundles/${synth.stack.storage.bundleHash}.zip`,
        source: expect.stringMatching(/^assets\/storage_bundle-asset_[0-9A-F]+\/[0-9a-f]{32}\/archive\.zip$/),
        source_hash: synth.stack.storage.bundleHash,
        content_type: 'application/zip',
        lifecycle: { create_before_destroy: true },
      });
      expect(synth.json).toHaveResourceWithProperties(S3Object, { key: 'public/index.html', content_type: 'text/html; charset=utf-8' });
    });
  });

  describe('published file names', () => {
    it('refuses a name that would make an awkward S3 key, naming the file and the rule', () => {
      const dir = folderWith('odd-names', { 'my data.csv': 'a\n' });
      expect(() => synthStack(exampleConfig({ content: { publicDir: dir } }))).toThrow(
        new InputError(`${path.join(dir, 'my data.csv')}: file name segment "my data.csv" is not publishable; use letters, digits, ".", "_" and "-" (not starting with "." or "-")`),
      );
    });

    it('publishes nested folders under their relative path and skips dot-files', () => {
      const dir = folderWith('nested', { 'region/north.csv': 'a\n', '.DS_Store': 'x' });
      const { doc } = synthStack(exampleConfig({ content: { publicDir: dir } }));
      const keys = Object.values(resources(doc, 'aws_s3_object')).map((o) => o.key).filter((k) => String(k).startsWith('public/'));
      expect(keys).toEqual(['public/region/north.csv']);
    });
  });

  describe('IAM', () => {
    it('lets EC2 assume the role and gives it Session Manager', () => {
      expect(synth.json).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
        statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }] }],
      });
      expect(synth.json).toHaveResourceWithProperties(IamRolePolicyAttachment, {
        policy_arn: expect.stringMatching(/^arn:\$\{data\.aws_partition\.partition\.partition\}:iam::aws:policy\/AmazonSSMManagedInstanceCore$/),
      });
      expect(synth.json).toHaveResourceWithProperties(IamInstanceProfile, { name: 'provider-example-host' });
    });

    it('reads exactly the bucket prefixes the host needs', () => {
      expect(policyStatements('ReadHostObjects')).toEqual({
        sid: 'ReadHostObjects',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: ['bundles', 'trust', 'shared_data', 'public', 'letsencrypt', 'revocation'].map((p) => `${BUCKET_ARN}/${p}/*`),
      });
      expect(policyStatements('ListHostPrefixes')).toMatchObject({
        actions: ['s3:ListBucket'],
        resources: [BUCKET_ARN],
        condition: [{ test: 'StringLike', variable: 's3:prefix', values: expect.arrayContaining(['shared_data/*', 'letsencrypt/*']) }],
      });
    });

    it('writes only the certificate backup object and its data release and revocation status', () => {
      expect(policyStatements('WriteCertificateBackup')).toEqual({
        sid: 'WriteCertificateBackup', effect: 'Allow', actions: ['s3:PutObject'], resources: [`${BUCKET_ARN}/letsencrypt/letsencrypt.tar.gz`, `${BUCKET_ARN}/host-status/release.json`, `${BUCKET_ARN}/host-status/revocation.json`],
      });
      const statements = (Object.values(synth.doc.data.aws_iam_policy_document) as { statement: { effect: string; actions: string[] }[] }[]).flatMap((d) => d.statement);
      const writers = statements.filter((s) => s.effect === 'Allow' && s.actions.some((a) => /^s3:(Put|Delete)|^s3:\*$/.test(a)));
      expect(writers).toHaveLength(1);
    });

    it('reads exactly the two secret parameters and the host config', () => {
      const arn = (name: string) => `arn:\${data.aws_partition.partition.partition}:ssm:eu-west-2:\${data.aws_caller_identity.caller.account_id}:parameter${name}`;
      expect(policyStatements('ReadHostParameters')).toEqual({
        sid: 'ReadHostParameters',
        effect: 'Allow',
        actions: ['ssm:GetParameter'],
        resources: [arn('/provider-host/example/transport-cert'), arn('/provider-host/example/transport-key'), expect.stringMatching(/^\$\{aws_ssm_parameter\.[^.]+\.arn\}$/)],
      });
    });

    it('denies every other parameter, which the Session Manager managed policy would allow ("*")', () => {
      const allowed = policyStatements('ReadHostParameters').resources;
      expect(policyStatements('NoOtherParameters')).toEqual({
        sid: 'NoOtherParameters',
        effect: 'Deny',
        actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:GetParameterHistory'],
        not_resources: allowed,
      });
    });

    it('decrypts only through SSM, only for those two parameters', () => {
      expect(policyStatements('DecryptSecretParametersViaSsm')).toMatchObject({
        actions: ['kms:Decrypt'],
        resources: ['arn:${data.aws_partition.partition.partition}:kms:eu-west-2:${data.aws_caller_identity.caller.account_id}:key/*'],
        condition: [
          { test: 'StringEquals', variable: 'kms:ViaService', values: ['ssm.eu-west-2.amazonaws.com'] },
          { test: 'StringEquals', variable: 'kms:EncryptionContext:PARAMETER_ARN', values: [expect.stringMatching(/transport-cert$/), expect.stringMatching(/transport-key$/)] },
        ],
      });
    });

    it('scopes decryption to the configured customer managed key', () => {
      const key = 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      const { json } = synthStack(exampleConfig({ secrets: { kmsKeyArn: key } }));
      expect(json).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
        statement: expect.arrayContaining([expect.objectContaining({ sid: 'DecryptSecretParametersViaSsm', resources: [key] })]),
      });
    });
  });

  describe('host config and deploys', () => {
    it('stores the host config as a String (not secret) in the env-file format', () => {
      expect(synth.json).toHaveResourceWithProperties(SsmParameter, { name: '/provider-host/example/host-config', type: 'String' });
      const value = only(synth.doc, 'aws_ssm_parameter').value as string;
      expect(value.split('\n')).toEqual([
        'PH_DOMAIN=example.energydata.org.uk',
        'PH_REGION=eu-west-2',
        'PH_ENVIRONMENT=example',
        'PH_BUCKET=${aws_s3_bucket.data_bucket.bucket}',
        `PH_BUNDLE_KEY=bundles/${synth.stack.storage.bundleHash}.zip`,
        'PH_TRUST_BUNDLE_KEY=trust/client-ca-bundle.pem',
        'PH_DATA_PREFIX=shared_data/',
        'PH_PUBLIC_PREFIX=public/',
        'PH_LE_BACKUP_PREFIX=letsencrypt/',
        'PH_ACME_EMAIL=ops@example.org',
        'PH_ACME_STAGING=true',
        'PH_ISSUER=https://matls-auth.directory.energydata.org.uk/',
        'PH_CLIENT_ID=example-provider-client-id',
        'PH_SCOPE=energydata',
        'PH_TLS_CERT_PARAM=/provider-host/example/transport-cert',
        'PH_TLS_KEY_PARAM=/provider-host/example/transport-key',
        'PH_APP_INSTANCES=2',
        'PH_AUTHZ_CACHE_SECONDS=1',
        'PH_REVOCATION=true',
        'PH_CRL_URLS=http://crl.example.energydata.org.uk/example-root-ca.crl',
        'PH_CRL_FROM_BUNDLE=true',
        'PH_CRL_REFRESH_MINUTES=15',
        'PH_CRL_WARN_HOURS=24',
        'PH_DENY_LIST_KEY=revocation/deny-list.json',
        'PH_DNS_WAIT_SECONDS=1800',
        'PH_HOST_CONFIG_PARAM=/provider-host/example/host-config',
        '',
      ]);
    });

    it('runs the bootstrap update on the instance through an SSM association carrying the hashes', () => {
      const { bundleHash, dataHash, publicHash, trustHash } = synth.stack.storage;
      expect(synth.json).toHaveResourceWithProperties(SsmAssociation, {
        name: 'AWS-RunShellScript',
        association_name: 'provider-example-deploy',
        targets: [{ key: 'InstanceIds', values: [expect.stringMatching(/^\$\{aws_instance\.[^.]+\.id\}$/)] }],
        parameters: {
          commands: `timeout ${CLOUD_INIT_WAIT_SECONDS} cloud-init status --wait >/dev/null 2>&1 || true\n/usr/local/sbin/provider-host-bootstrap update --bundle-hash ${bundleHash} --data-hash ${dataHash} --public-hash ${publicHash} --trust-hash ${trustHash}`,
          executionTimeout: String(ASSOCIATION_TIMEOUT_SECONDS),
        },
      });
      // The bundle, the trust bundle, the public file, the host config (datasets are published, not deployed).
      expect((deployAssociation().depends_on as string[]).length).toBe(4);
    });

    it("gives the association time for the worst case: cloud-init's first setup, another run's lock, and a setup of its own with its DNS wait", () => {
      const association = deployAssociation().parameters as { commands: string; executionTimeout: string };
      const cloudInitWait = Number(/^timeout (\d+) cloud-init status --wait/.exec(association.commands)?.[1]);
      const hostEnv = Object.fromEntries((only(synth.doc, 'aws_ssm_parameter').value as string).trim().split('\n').map((l) => l.split('=')));
      const bootstrapEnv = Object.fromEntries(
        (/PH_REGION=[\s\S]*?\n(?=  - path)/.exec(synth.stack.userData)?.[0] ?? '').trim().split('\n').map((l) => l.trim().split('=')),
      );
      const dnsWait = Number(hostEnv.PH_DNS_WAIT_SECONDS);
      const lockWait = Number(bootstrapEnv.PH_LOCK_WAIT_SECONDS);
      expect(dnsWait).toBe(1800);
      expect(cloudInitWait).toBeGreaterThan(dnsWait);
      expect(lockWait).toBeGreaterThan(dnsWait);
      // Two setups (the first boot's, then the association's own), each with a DNS wait, plus the lock.
      expect(Number(association.executionTimeout)).toBeGreaterThanOrEqual(cloudInitWait + lockWait + dnsWait + 300);
      // AWS-RunShellScript's executionTimeout allows at most 172800 s.
      expect(Number(association.executionTimeout)).toBeLessThanOrEqual(172800);
    });

    it('creates the instance only after its egress rules: a new group has no egress until they exist', () => {
      const dependsOn = only(synth.doc, 'aws_instance').depends_on as string[];
      const egress = Object.keys(resources(synth.doc, 'aws_vpc_security_group_egress_rule')).map((id) => `aws_vpc_security_group_egress_rule.${id}`);
      expect(egress).toHaveLength(4);
      for (const rule of egress) expect(dependsOn).toContain(rule);
    });
  });

  describe('DNS', () => {
    it('publishes an A record for the Elastic IP in the zone looked up by name', () => {
      expect(synth.json).toHaveDataSourceWithProperties(DataAwsRoute53Zone, { name: 'energydata.org.uk', private_zone: false });
      expect(synth.json).toHaveResourceWithProperties(Route53Record, {
        name: 'example.energydata.org.uk', type: 'A', ttl: 300, records: ['${aws_eip.public_ip.public_ip}'],
        zone_id: expect.stringMatching(/^\$\{data\.aws_route53_zone\.[^.]+\.zone_id\}$/),
      });
      expect(Object.keys(resources(synth.doc, 'aws_route53_record')).sort()).toEqual(['dns_a', 'dns_caa']);
      // An existing record for the name stops the deploy instead of being silently replaced.
      expect(resources(synth.doc, 'aws_route53_record').dns_a.allow_overwrite).toBe(false);
    });

    it('takes over an existing record only when hostedZone.allowOverwrite says so', () => {
      const { doc } = synthStack(exampleConfig({ hostedZone: { name: 'energydata.org.uk', allowOverwrite: true }, instance: { ipv6: true } }));
      for (const record of Object.values(resources(doc, 'aws_route53_record'))) expect(record.allow_overwrite).toBe(true);
    });

    it('uses a zone id directly and adds AAAA when IPv6 is on', () => {
      const { json, doc } = synthStack(exampleConfig({ hostedZone: { id: 'Z0123456789ABCDEFGHIJ', name: undefined }, instance: { ipv6: true } }));
      expect(doc.data.aws_route53_zone).toBeUndefined();
      expect(json).toHaveResourceWithProperties(Route53Record, { type: 'A', zone_id: 'Z0123456789ABCDEFGHIJ' });
      expect(json).toHaveResourceWithProperties(Route53Record, { type: 'AAAA', zone_id: 'Z0123456789ABCDEFGHIJ', records: [expect.stringMatching(/^\$\{element\(aws_instance\.[^.]+\.ipv6_addresses, 0\)\}$/)] });
      expect(json).toHaveResourceWithProperties(Instance, { ipv6_address_count: 1 });
    });
  });

  describe('outputs', () => {
    it('gives the URL, IP, instance id, bucket and the Session Manager command', () => {
      const out = synth.doc.output;
      const instance = Object.keys(resources(synth.doc, 'aws_instance'))[0];
      expect(out.url.value).toBe('https://example.energydata.org.uk/');
      expect(out.public_ip.value).toBe('${aws_eip.public_ip.public_ip}');
      expect(out.instance_id.value).toBe(`\${aws_instance.${instance}.id}`);
      expect(out.bucket.value).toBe('${aws_s3_bucket.data_bucket.bucket}');
      expect(out.ssm_session_command.value).toBe(`aws ssm start-session --target \${aws_instance.${instance}.id} --region eu-west-2`);
      const association = synth.stack.host.association.friendlyUniqueId;
      expect(out.rerun_setup_command.value).toBe(`aws ssm start-associations-once --association-ids \${aws_ssm_association.${association}.association_id} --region eu-west-2`);
      for (const o of Object.values(out)) expect(o.description).toEqual(expect.any(String));
    });
  });
});
