/**
 * The fleet's launch template: what the single host is launched with (host.ts exports the
 * AMI parameter, IMDSv2, the root volume and the Name tag; the user data is the same
 * rendered cloud-config), for every host the Auto Scaling group starts.
 *
 * The AMI is `resolve:ssm:<the AL2023 parameter>`: EC2 resolves it at each launch, so the
 * template does not change (and roll the fleet) with every AL2023 release, while each new
 * host, and every host of a roll (docs/fleet.md "Rolling"), starts from the current image.
 */
import { Construct } from 'constructs';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import type { Architecture } from '../../../config/instance-architecture';
import { amiParameterName, HOST_METADATA_OPTIONS, hostName, hostRootVolume } from '../host';
import { InputError } from '../../../lib/input-error';
import { launchTemplateNameProblem } from './names';
import { TAG_RULES, tagSetProblems } from '../../lib/aws-tag-rules';

/** AL2023's root device. */
export const ROOT_DEVICE_NAME = '/dev/xvda';

export interface FleetLaunchTemplateProps {
  readonly name: string;
  readonly namePrefix: string;
  readonly instanceType: string;
  readonly architecture: Architecture;
  readonly rootVolumeGiB: number;
  /** One IPv6 address per host (the subnets must have IPv6 CIDRs). */
  readonly ipv6: boolean;
  readonly sshKeyName?: string;
  readonly securityGroupId: string;
  readonly instanceProfileName: string;
  /** The rendered cloud-config, base64: the single host's, unchanged. */
  readonly userDataBase64: string;
  /** Tags of the hosts and their volumes (the provider's default tags do not reach what Auto Scaling launches). */
  readonly tags: Readonly<Record<string, string>>;
}

export class FleetLaunchTemplate extends Construct {
  readonly template: LaunchTemplate;

  constructor(scope: Construct, id: string, props: FleetLaunchTemplateProps) {
    super(scope, id);
    const root = hostRootVolume(props.rootVolumeGiB);
    const tags = { ...props.tags, Name: hostName(props.namePrefix) };
    // The launch's tags are not the resource's `tags`: the synthesized stack's tag check
    // (aws-tag-rules.ts) does not see them, so they are checked here, by EC2's rule.
    const problems = [launchTemplateNameProblem(props.name), ...tagSetProblems(tags, TAG_RULES.ec2, 'the hosts\' launch tags')].filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new InputError(`FleetLaunchTemplate ${this.node.path}: ${problems.join('; ')}`);

    this.template = new LaunchTemplate(this, 'template', {
      name: props.name,
      description: 'Provider Host fleet host (same user data and hardening as the single host)',
      imageId: `resolve:ssm:${amiParameterName(props.architecture)}`,
      instanceType: props.instanceType,
      ...(props.sshKeyName !== undefined ? { keyName: props.sshKeyName } : {}),
      iamInstanceProfile: { name: props.instanceProfileName },
      metadataOptions: { ...HOST_METADATA_OPTIONS },
      blockDeviceMappings: [{
        deviceName: ROOT_DEVICE_NAME,
        ebs: { volumeType: root.volumeType, volumeSize: root.volumeSize, encrypted: String(root.encrypted), deleteOnTermination: String(root.deleteOnTermination) },
      }],
      // A public address for egress (packages, S3, SSM, ACME) without a NAT gateway; inbound
      // is closed to all but the load balancer by the security group.
      networkInterfaces: [{
        deviceIndex: 0,
        associatePublicIpAddress: 'true',
        deleteOnTermination: 'true',
        securityGroups: [props.securityGroupId],
        ...(props.ipv6 ? { ipv6AddressCount: 1 } : {}),
      }],
      userData: props.userDataBase64,
      tagSpecifications: ['instance', 'volume', 'network-interface'].map((resourceType) => ({ resourceType, tags })),
      tags: { Name: hostName(props.namePrefix) },
    });
  }
}
