/**
 * One environment's deployment: a single host, or a fleet (docs/fleet.md). Composes the
 * constructs; all decisions about values were made by the config schema, all about
 * resources by the constructs.
 */
import * as path from 'node:path';
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsSubnet } from '@cdktf/provider-aws/lib/data-aws-subnet';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import type { EnvironmentConfig } from '../config/load';
import { PROJECT_ROOT } from '../lib/project-paths';
import { Access } from './constructs/access';
import { DataKey } from './constructs/data-key';
import { caaRecordValues, Dns } from './constructs/dns';
import { Host } from './constructs/host';
import { Fleet, fleetZoneId } from './constructs/fleet/fleet';
import { acmeChallengeRecordName } from './constructs/access';
import { HostConfig } from './constructs/host-config';
import { trustFrameworkHostSettings } from '../config/trust-framework';
import { Network } from './constructs/network';
import { Patching } from './constructs/patching';
import { Operations } from './constructs/operations';
import { reportHostSettings } from './constructs/report-mail';
import { resolveReport } from '../config/operations-schema';
import { Storage } from './constructs/storage';
import { BUCKET_LAYOUT } from '../contract/bucket-layout';
import { RELEASE_LAYOUT } from '../contract/release-manifest';
import { renderUserData } from './user-data';
import { synthesizedTagProblems } from './lib/aws-tag-rules';
import { InputError } from '../lib/input-error';
import { REQUIRED_TERRAFORM_VERSION } from './lib/terraform-version';
import { HOST_TIMING } from '../contract/host-timing';

/** Who manages the resources, as a tag value AWS accepts on every service (no parentheses). */
export const MANAGED_BY = 'provider-host/cdktf';

/** The provider's default tags: the configured ones plus Environment and ManagedBy. */
export function stackTags(config: EnvironmentConfig): Record<string, string> {
  return { ...config.tags, Environment: config.name, ManagedBy: MANAGED_BY };
}

export interface HostFiles {
  /** @default <project>/host/cloud-init.yaml */
  readonly cloudInitTemplate: string;
  /** @default <project>/host/bootstrap.sh */
  readonly bootstrapScript: string;
  /** @default <project>/host/systemd */
  readonly systemdDir: string;
}

export interface ProviderStackProps {
  readonly config: EnvironmentConfig;
  /** The host bundle folder (`npm run bundle` → dist/host-bundle). */
  readonly bundleDir: string;
  readonly hostFiles?: HostFiles;
}

export const DEFAULT_HOST_FILES: HostFiles = {
  cloudInitTemplate: path.join(PROJECT_ROOT, 'host', 'cloud-init.yaml'),
  bootstrapScript: path.join(PROJECT_ROOT, 'host', 'bootstrap.sh'),
  systemdDir: path.join(PROJECT_ROOT, 'host', 'systemd'),
};

export class ProviderStack extends TerraformStack {
  readonly storage: Storage;
  private readonly singleHost?: Host;
  /** Fleet mode (docs/fleet.md): the load balancer, the Auto Scaling group and their parts. */
  readonly fleet?: Fleet;
  readonly hostConfig: HostConfig;
  readonly dataKey: DataKey;
  readonly patching: Patching;
  readonly userData: string;
  /** Alerts, logs, alarms, outside check, dashboard (docs/operations.md). */
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props: ProviderStackProps) {
    super(scope, id);
    const { config, bundleDir, hostFiles = DEFAULT_HOST_FILES } = props;

    new AwsProvider(this, 'aws', { region: config.region, defaultTags: [{ tags: stackTags(config) }] });
    // An older binary stops at `init` instead of half-way through an apply.
    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM_VERSION);
    // Tag characters and lengths are checked by each AWS API at apply, not by plan.
    this.node.addValidation({ validate: () => this.awsRuleProblems() });
    if (config.backend?.s3) {
      const s3 = config.backend.s3;
      new S3Backend(this, {
        bucket: s3.bucket,
        key: s3.key,
        region: s3.region ?? config.region,
        encrypt: true,
        ...(s3.dynamodbTable !== undefined ? { dynamodbTable: s3.dynamodbTable } : {}),
      });
    } else {
      // Relative to the stack's working directory (cdktf.out/stacks/<name>), where both
      // `cdktf deploy` and a plain `terraform apply` run: the state lands in the project
      // root and the JSON carries no machine-specific path.
      new LocalBackend(this, { path: `../../../terraform.${config.name}.tfstate` });
    }

    const partition = new DataAwsPartition(this, 'partition').partition;
    const accountId = new DataAwsCallerIdentity(this, 'caller').accountId;
    const parameterArn = (name: string): string => `arn:${partition}:ssm:${config.region}:${accountId}:parameter${name}`;

    this.storage = new Storage(this, 'storage', {
      namePrefix: config.namePrefix,
      retainOnDestroy: config.storage.retainOnDestroy,
      noncurrentVersionDays: config.storage.noncurrentVersionDays,
      bundleDir,
      trustBundleFile: config.content.trustBundleFile,
      ...(config.content.publicDir !== undefined ? { publicDir: config.content.publicDir } : {}),
    });

    // Fleet mode: the hosts obtain the shared certificate by DNS-01 in this zone.
    const fleetZone = config.fleet !== undefined ? fleetZoneId(this, config.hostedZone) : undefined;
    const hostConfigParameter = `${config.ssmPrefix}/host-config`;
    this.hostConfig = new HostConfig(this, 'host-config', {
      parameterName: hostConfigParameter,
      settings: {
        domain: config.domain,
        region: config.region,
        environment: config.name,
        bucket: this.storage.bucket.bucket,
        bundleKey: this.storage.bundleKey,
        trustBundleKey: BUCKET_LAYOUT.trustBundleKey,
        dataPrefix: BUCKET_LAYOUT.data,
        publicPrefix: BUCKET_LAYOUT.public,
        leBackupPrefix: BUCKET_LAYOUT.letsencrypt,
        acmeEmail: config.acme.email,
        acmeStaging: config.acme.staging,
        acmeServer: config.acme.server,
        issuer: config.oauth.issuer,
        clientId: config.oauth.clientId,
        scope: config.oauth.scope,
        tlsCertParam: config.secrets.tlsCertParameter,
        tlsKeyParam: config.secrets.tlsKeyParameter,
        appInstances: config.app.instances,
        authzCacheSeconds: config.app.authzCacheSeconds,
        dnsWaitSeconds: HOST_TIMING.dnsWaitSeconds,
        revocation: config.revocation.enabled,
        ...(config.revocation.crlUrls.length > 0 ? { crlUrls: config.revocation.crlUrls.join(',') } : {}),
        crlFromBundle: config.revocation.fromTrustBundle,
        crlRefreshMinutes: config.revocation.refreshMinutes,
        crlWarnHours: config.revocation.warnHours,
        denyListKey: BUCKET_LAYOUT.denyListKey,
        ...reportHostSettings(resolveReport(config.operations, config.domain)),
        ...trustFrameworkHostSettings(config.trustFramework),
        hostConfigParam: hostConfigParameter,
        ...(fleetZone !== undefined ? { fleet: true, hostedZoneId: fleetZone } : {}),
      },
    });

    const secretArns = [parameterArn(config.secrets.tlsCertParameter), parameterArn(config.secrets.tlsKeyParameter)];
    const access = new Access(this, 'access', {
      namePrefix: config.namePrefix,
      partition,
      region: config.region,
      accountId,
      bucketArn: this.storage.bucket.arn,
      readPrefixes: [BUCKET_LAYOUT.bundles, BUCKET_LAYOUT.trust, BUCKET_LAYOUT.data, BUCKET_LAYOUT.public, BUCKET_LAYOUT.letsencrypt, BUCKET_LAYOUT.revocation],
      // The certificate backup, and the status of the data release and of revocation on
      // the host; the host reads releases (shared_data/) and the deny list (revocation/)
      // and can never write either.
      writeKeys: [BUCKET_LAYOUT.letsencryptBackupKey, RELEASE_LAYOUT.hostStatusKey, BUCKET_LAYOUT.revocationStatusKey, ...(fleetZone !== undefined ? [BUCKET_LAYOUT.letsencryptLockKey] : [])],
      // Fleet mode: the renewal lock (taken and released), and the DNS-01 record only.
      ...(fleetZone !== undefined
        ? { deleteKeys: [BUCKET_LAYOUT.letsencryptLockKey], dnsChallenge: { zoneId: fleetZone, recordName: acmeChallengeRecordName(config.domain) } }
        : {}),
      parameterArns: [...secretArns, this.hostConfig.parameter.arn],
      secretParameterArns: secretArns,
      ...(config.secrets.kmsKeyArn !== undefined ? { kmsKeyArn: config.secrets.kmsKeyArn } : {}),
    });

    // The bucket's own key; the backup prefix closed to all but the instance and operator roles.
    this.dataKey = new DataKey(this, 'data-key', {
      namePrefix: config.namePrefix,
      partition,
      region: config.region,
      accountId,
      instanceRoleArn: access.role.arn,
      retainOnDestroy: config.storage.retainOnDestroy,
      ...(config.security.operatorRoleArn !== undefined ? { operatorRoleArn: config.security.operatorRoleArn } : {}),
    });
    const dataKeyGrant = this.dataKey.grantUseThroughS3(access.role.id);
    const protection = this.storage.protect({
      kmsKeyArn: this.dataKey.key.arn,
      privatePrefix: BUCKET_LAYOUT.letsencrypt,
      privateReaderArns: [access.role.arn, ...(config.security.operatorRoleArn !== undefined ? [config.security.operatorRoleArn] : [])],
    });

    this.userData = renderUserData({
      templateFile: hostFiles.cloudInitTemplate,
      bootstrapFile: hostFiles.bootstrapScript,
      systemdDir: hostFiles.systemdDir,
      region: config.region,
      hostConfigParameter,
      nodeMajor: config.app.nodeMajor,
      pm2Version: config.app.pm2Version,
    });

    const deployHashes = {
      bundle: this.storage.bundleHash,
      data: this.storage.dataHash,
      public: this.storage.publicHash,
      trust: this.storage.trustHash,
    };
    const deployDependsOn = [...this.storage.objects, this.hostConfig.parameter];
    const bootDependsOn = [
      this.hostConfig.parameter, this.storage.bundleObject, ...access.grants, dataKeyGrant,
      // The first certificate backup is written under the bucket's key and policy.
      protection.encryption, protection.policy,
    ];

    if (config.fleet === undefined) {
      const vpcId = config.instance.subnetId !== undefined
        ? new DataAwsSubnet(this, 'subnet', { id: config.instance.subnetId }).vpcId
        : new DataAwsVpc(this, 'default-vpc', { default: true }).id;
      const network = new Network(this, 'network', { namePrefix: config.namePrefix, vpcId, sshCidrs: config.admin.sshCidrs });

      this.singleHost = new Host(this, 'host', {
        namePrefix: config.namePrefix,
        instanceType: config.instance.type,
        architecture: config.instance.architecture,
        rootVolumeGiB: config.instance.rootVolumeGiB,
        ipv6: config.instance.ipv6,
        ...(config.instance.subnetId !== undefined ? { subnetId: config.instance.subnetId } : {}),
        ...(config.admin.sshKeyName !== undefined ? { sshKeyName: config.admin.sshKeyName } : {}),
        securityGroupId: network.securityGroup.id,
        instanceProfileName: access.instanceProfile.name,
        userDataBase64: Buffer.from(this.userData, 'utf8').toString('base64'),
        deployHashes,
        deployDependsOn,
        bootDependsOn: [...bootDependsOn, ...network.egressRules],
      });

      this.patching = new Patching(this, 'patching', {
        namePrefix: config.namePrefix,
        instanceId: this.singleHost.instance.id,
        schedule: config.patching.schedule,
        rebootOption: config.patching.rebootOption,
      });
    } else {
      this.fleet = new Fleet(this, 'fleet', {
        namePrefix: config.namePrefix,
        region: config.region,
        fleet: config.fleet,
        instanceType: config.instance.type,
        architecture: config.instance.architecture,
        rootVolumeGiB: config.instance.rootVolumeGiB,
        ipv6: config.instance.ipv6,
        ...(config.admin.sshKeyName !== undefined ? { sshKeyName: config.admin.sshKeyName } : {}),
        sshCidrs: config.admin.sshCidrs,
        instanceProfileName: access.instanceProfile.name,
        userDataBase64: Buffer.from(this.userData, 'utf8').toString('base64'),
        tags: stackTags(config),
        deployHashes,
        deployDependsOn,
        bootDependsOn,
      });
      this.patching = new Patching(this, 'patching', {
        namePrefix: config.namePrefix,
        targetTag: this.fleet.hostTag,
        schedule: config.patching.schedule,
        rebootOption: config.patching.rebootOption,
      });
    }

    // --- Operations (stacks/constructs/operations.ts, docs/operations.md) ---
    this.operations = new Operations(this, 'operations', {
      environment: config.name,
      namePrefix: config.namePrefix,
      domain: config.domain,
      partition,
      region: config.region,
      accountId,
      ...(this.singleHost !== undefined ? { instanceId: this.singleHost.instance.id } : {}),
      instanceRoleId: access.role.id,
      defaultTags: stackTags(config),
      config: config.operations,
    });
    // --- end Operations ---
    this.fleet?.alarmOn(this.operations.alertsTopicArn);

    const dns = new Dns(this, 'dns', {
      domain: config.domain,
      zone: fleetZone !== undefined ? { id: fleetZone } : config.hostedZone.id !== undefined ? { id: config.hostedZone.id } : { name: config.hostedZone.name as string },
      allowOverwrite: config.hostedZone.allowOverwrite,
      caaRecords: caaRecordValues({ issuer: config.acme.caaIssuer, accountUri: config.acme.caaAccountUri, ...(this.fleet !== undefined ? { validationMethod: 'dns-01' as const } : {}) }),
      ...(this.singleHost !== undefined
        ? { ipv4Address: this.singleHost.eip.publicIp, ...(config.instance.ipv6 ? { ipv6Address: this.singleHost.ipv6Address } : {}) }
        : { alias: { dnsName: this.fleet!.loadBalancer.loadBalancer.dnsName, zoneId: this.fleet!.loadBalancer.loadBalancer.zoneId }, aliasIpv6: config.instance.ipv6 }),
    });
    // The daily access report's SES identity signs with DKIM records in the same zone.
    this.operations.mailReports({ domain: config.domain, zoneId: dns.zoneId, roleId: access.role.id, bucketArn: this.storage.bucket.arn });

    const output = (name: string, value: string, description: string): void => {
      new TerraformOutput(this, name, { value, description });
    };
    output('url', `https://${config.domain}/`, 'The provider\'s base URL (mutual TLS)');
    if (this.singleHost !== undefined) {
      output('public_ip', this.singleHost.eip.publicIp, 'Elastic IP of the host');
      output('instance_id', this.singleHost.instance.id, 'EC2 instance id');
    }
    if (this.fleet !== undefined) this.fleetOutputs(this.fleet, config.region);
    output('bucket', this.storage.bucket.bucket, 'Data bucket (bundle, trust bundle, shared_data/, public/, letsencrypt/)');
    output('host_config_parameter', hostConfigParameter, 'SSM parameter holding the host configuration');
    output(
      'rerun_setup_command',
      `aws ssm start-associations-once --association-ids ${(this.singleHost?.association ?? this.fleet!.group.association).associationId} --region ${config.region}`,
      `Runs the host setup again now (after fixing what stopped it: a secret, DNS); the host also retries by itself every ${HOST_TIMING.setupRetrySeconds / 60} minutes`,
    );
    if (this.singleHost !== undefined) output('ssm_session_command', `aws ssm start-session --target ${this.singleHost.instance.id} --region ${config.region}`, 'Shell on the host via SSM Session Manager');
    output('alerts_topic_arn', this.operations.alertsTopicArn, 'SNS topic every alarm notifies (subscribe more endpoints to it; e-mail subscriptions must be confirmed)');
    if (this.operations.dashboard !== undefined) output('dashboard_url', this.operations.dashboard.url, 'CloudWatch dashboard of this environment');
  }

  /** The single host (single mode only). */
  get host(): Host {
    if (this.singleHost === undefined) throw new Error(`stack ${this.node.id} is in fleet mode: it has no single host (see .fleet)`);
    return this.singleHost;
  }

  private fleetOutputs(fleet: Fleet, region: string): void {
    const output = (name: string, value: string, description: string): void => {
      new TerraformOutput(this, name, { value, description });
    };
    output('load_balancer_name', fleet.loadBalancer.loadBalancer.name, 'Network Load Balancer in front of the hosts (TCP 443/80 passed through to nginx)');
    output('load_balancer_dns_name', fleet.loadBalancer.loadBalancer.dnsName, 'The load balancer\'s own DNS name (the domain is an alias of it)');
    output('autoscaling_group_name', fleet.group.group.name, 'Auto Scaling group of the hosts');
    output('roll_command', fleet.rollCommand, 'Replaces every host, launching each new one before terminating an old one (a new AL2023 release, a host-level change); docs/fleet.md "Rolling"');
    output(
      'list_hosts_command',
      `aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names ${fleet.names.autoScalingGroup} --query 'AutoScalingGroups[0].Instances[].[InstanceId,AvailabilityZone,LifecycleState,HealthStatus]' --output table --region ${region}`,
      'The hosts, their zones and health; a shell on one: aws ssm start-session --target <instance id>',
    );
  }

  /** What AWS would refuse at apply in this stack's JSON (tags), one line each; [] when none. */
  awsRuleProblems(): string[] {
    return synthesizedTagProblems(this.toTerraform() as Parameters<typeof synthesizedTagProblems>[0]);
  }

  /** Throws an InputError listing every such problem. */
  checkAwsRules(): void {
    const problems = this.awsRuleProblems();
    if (problems.length > 0) {
      throw new InputError(`Stack ${this.node.id} would be refused by AWS at apply:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
  }
}
