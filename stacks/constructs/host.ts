/**
 * The EC2 host: AL2023 for the instance's architecture (public SSM parameter, read
 * once; `ignore_changes = [ami]` so a new AMI release never replaces a running host),
 * IMDSv2 only, encrypted gp3 root, static user data; an Elastic IP; and the SSM
 * association that applies each deploy in place.
 */
import { DataResource, Fn } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { EipAssociation } from '@cdktf/provider-aws/lib/eip-association';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { SsmAssociation } from '@cdktf/provider-aws/lib/ssm-association';
import type { ITerraformDependable } from 'cdktf';
import type { Architecture } from '../../config/instance-architecture';
import { ASSOCIATION_TIMEOUT_SECONDS, CLOUD_INIT_WAIT_SECONDS } from '../../contract/host-timing';

export const AMI_PARAMETER_PREFIX = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-';
export const BOOTSTRAP_PATH = '/usr/local/sbin/provider-host-bootstrap';

/**
 * What every provider host is launched with, the single host and each fleet host alike
 * (stacks/constructs/fleet/launch-template.ts): one definition, so the two cannot drift.
 */
export const amiParameterName = (architecture: Architecture): string => `${AMI_PARAMETER_PREFIX}${architecture}`;
/** IMDSv2 only, one hop: a container or a forwarded request on the host cannot reach the metadata service. */
export const HOST_METADATA_OPTIONS = { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 } as const;
/** The encrypted gp3 root volume. */
export const hostRootVolume = (sizeGiB: number) => ({ volumeType: 'gp3', volumeSize: sizeGiB, encrypted: true, deleteOnTermination: true }) as const;
/** The Name tag of a host. */
export const hostName = (namePrefix: string): string => `${namePrefix}-host`;
/** The deploy association's name (one per environment, whichever the mode). */
export const deployAssociationName = (namePrefix: string): string => `${namePrefix}-deploy`;

export interface DeployHashes {
  readonly bundle: string;
  readonly data: string;
  readonly public: string;
  readonly trust: string;
}

export interface HostProps {
  readonly namePrefix: string;
  readonly instanceType: string;
  readonly architecture: Architecture;
  readonly rootVolumeGiB: number;
  /** Omitted: the default VPC's default subnet. */
  readonly subnetId?: string;
  readonly ipv6: boolean;
  readonly sshKeyName?: string;
  readonly securityGroupId: string;
  readonly instanceProfileName: string;
  /** Rendered cloud-config, base64. Static: changing it replaces the instance. */
  readonly userDataBase64: string;
  /** Hashes of what a deploy ships; a change re-runs the association on the host. */
  readonly deployHashes: DeployHashes;
  /** What must exist before the association runs (uploads, host config). */
  readonly deployDependsOn: ITerraformDependable[];
  /** What the first boot reads (host config, bundle, role policy): created before the instance. */
  readonly bootDependsOn: ITerraformDependable[];
}

/**
 * The association's shell command: waits (bounded) for first boot, then updates in place,
 * or runs the setup when first boot did not complete. SSM stops it after
 * ASSOCIATION_TIMEOUT_SECONDS, which covers the worst case of these waits.
 */
export function updateCommand(hashes: DeployHashes): string {
  return [
    `timeout ${CLOUD_INIT_WAIT_SECONDS} cloud-init status --wait >/dev/null 2>&1 || true`,
    `${BOOTSTRAP_PATH} update --bundle-hash ${hashes.bundle} --data-hash ${hashes.data} --public-hash ${hashes.public} --trust-hash ${hashes.trust}`,
  ].join('\n');
}

export class Host extends Construct {
  readonly instance: Instance;
  readonly eip: Eip;
  readonly association: SsmAssociation;

  constructor(scope: Construct, id: string, props: HostProps) {
    super(scope, id);
    const ami = new DataAwsSsmParameter(this, 'ami', { name: amiParameterName(props.architecture) });
    // `ami` is ignored after creation (the parameter moves with every AL2023 release), so an
    // instance type of another architecture would be applied in place to an image that
    // cannot boot on it: a change of architecture replaces the instance instead.
    const architecture = new DataResource(this, 'architecture', { triggersReplace: { architecture: props.architecture } });
    architecture.overrideLogicalId('host_architecture');

    this.instance = new Instance(this, 'instance', {
      ami: ami.insecureValue,
      instanceType: props.instanceType,
      ...(props.subnetId !== undefined ? { subnetId: props.subnetId } : {}),
      ...(props.ipv6 ? { ipv6AddressCount: 1 } : {}),
      ...(props.sshKeyName !== undefined ? { keyName: props.sshKeyName } : {}),
      vpcSecurityGroupIds: [props.securityGroupId],
      iamInstanceProfile: props.instanceProfileName,
      metadataOptions: { ...HOST_METADATA_OPTIONS },
      rootBlockDevice: { ...hostRootVolume(props.rootVolumeGiB) },
      userDataBase64: props.userDataBase64,
      // cloud-init runs once per instance: a changed user data only takes effect on a new one.
      userDataReplaceOnChange: true,
      tags: { Name: hostName(props.namePrefix) },
      lifecycle: {
        ignoreChanges: ['ami'],
        // A plain address: cdktf would write a dependable as "${...}", which Terraform
        // rejects here (hashicorp/terraform-cdk#3196).
        replaceTriggeredBy: [`${DataResource.tfResourceType}.${architecture.friendlyUniqueId}`],
      },
      dependsOn: props.bootDependsOn,
    });

    this.eip = new Eip(this, 'eip', { domain: 'vpc', tags: { Name: `${props.namePrefix}-host` } });
    // Stateful: the address is published in DNS and in consumers' allow-lists.
    this.eip.overrideLogicalId('public_ip');
    new EipAssociation(this, 'eip-association', { allocationId: this.eip.allocationId, instanceId: this.instance.id });

    this.association = new SsmAssociation(this, 'deploy', {
      name: 'AWS-RunShellScript',
      associationName: deployAssociationName(props.namePrefix),
      targets: [{ key: 'InstanceIds', values: [this.instance.id] }],
      parameters: { commands: updateCommand(props.deployHashes), executionTimeout: String(ASSOCIATION_TIMEOUT_SECONDS) },
      dependsOn: props.deployDependsOn,
    });
  }

  /** The instance's first IPv6 address (only when ipv6 is on). */
  get ipv6Address(): string {
    return Fn.element(this.instance.ipv6Addresses, 0);
  }
}
