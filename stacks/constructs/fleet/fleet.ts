/**
 * Fleet mode, composed (docs/fleet.md): where it runs (subnets in at least two zones), the
 * Network Load Balancer passing TLS through, the hosts' security group open to that load
 * balancer only (network.ts), the launch template (the single host's settings and user
 * data) and the Auto Scaling group that rolls on every template change. No Elastic IP: the
 * name is an alias of the load balancer (dns.ts).
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone';
import type { FleetConfig } from '../../../config/fleet-schema';
import type { Architecture } from '../../../config/instance-architecture';
import { InputError } from '../../../lib/input-error';
import { operationsNameProblem } from '../../lib/aws-name-rules';
import type { DeployHashes } from '../host';
import { Network } from '../network';
import { FLEET_TAG_KEY, FleetGroup, rollCommand } from './group';
import { FleetLaunchTemplate } from './launch-template';
import { FleetLoadBalancer } from './load-balancer';
import { fleetNames, type FleetNames } from './names';
import { FleetSubnets } from './subnets';

/**
 * The hosted zone's id: given, or looked up by name at plan time. Fleet mode needs it
 * before the records exist (the hosts' DNS-01 permission and host config name it).
 */
export function fleetZoneId(scope: Construct, zone: { readonly id?: string | undefined; readonly name?: string | undefined }): string {
  if (zone.id !== undefined) return zone.id;
  return new DataAwsRoute53Zone(scope, 'fleet-zone', { name: zone.name as string, privateZone: false }).zoneId;
}

export interface FleetProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly fleet: FleetConfig;
  readonly instanceType: string;
  readonly architecture: Architecture;
  readonly rootVolumeGiB: number;
  readonly ipv6: boolean;
  readonly sshKeyName?: string;
  readonly sshCidrs: readonly string[];
  readonly instanceProfileName: string;
  readonly userDataBase64: string;
  /** The stack's default tags: Auto Scaling does not apply the provider's to what it launches. */
  readonly tags: Readonly<Record<string, string>>;
  readonly deployHashes: DeployHashes;
  readonly deployDependsOn: ITerraformDependable[];
  readonly bootDependsOn: ITerraformDependable[];
}

export class Fleet extends Construct {
  readonly names: FleetNames;
  readonly subnets: FleetSubnets;
  readonly loadBalancer: FleetLoadBalancer;
  readonly network: Network;
  readonly launchTemplate: FleetLaunchTemplate;
  readonly group: FleetGroup;
  readonly rollCommand: string;
  private readonly props: FleetProps;

  constructor(scope: Construct, id: string, props: FleetProps) {
    super(scope, id);
    this.props = props;
    this.names = fleetNames(props.namePrefix);
    const { fleet } = props;

    this.subnets = new FleetSubnets(this, 'subnets', {
      ...(fleet.subnetIds !== undefined ? { subnetIds: fleet.subnetIds } : {}),
      ...(fleet.availabilityZones !== undefined ? { availabilityZones: fleet.availabilityZones } : {}),
    });
    this.loadBalancer = new FleetLoadBalancer(this, 'load-balancer', {
      names: this.names,
      vpcId: this.subnets.vpcId,
      subnetIds: this.subnets.subnetIds,
      ipv6: props.ipv6,
      healthCheck: fleet.healthCheck,
      deregistrationDelaySeconds: fleet.deregistrationDelaySeconds,
      preconditions: this.subnets.preconditions,
    });
    this.network = new Network(this, 'network', {
      namePrefix: props.namePrefix,
      vpcId: this.subnets.vpcId,
      sshCidrs: props.sshCidrs,
      webIngressFromGroupId: this.loadBalancer.securityGroup.id,
    });
    this.loadBalancer.allowTo(this.network.securityGroup.id);

    this.launchTemplate = new FleetLaunchTemplate(this, 'launch-template', {
      name: this.names.launchTemplate,
      namePrefix: props.namePrefix,
      instanceType: props.instanceType,
      architecture: props.architecture,
      rootVolumeGiB: props.rootVolumeGiB,
      ipv6: props.ipv6,
      ...(props.sshKeyName !== undefined ? { sshKeyName: props.sshKeyName } : {}),
      securityGroupId: this.network.securityGroup.id,
      instanceProfileName: props.instanceProfileName,
      userDataBase64: props.userDataBase64,
      tags: { ...props.tags, [FLEET_TAG_KEY]: props.namePrefix },
    });

    this.group = new FleetGroup(this, 'group', {
      name: this.names.autoScalingGroup,
      namePrefix: props.namePrefix,
      launchTemplateId: this.launchTemplate.template.id,
      launchTemplateVersion: this.launchTemplate.template.latestVersion,
      subnetIds: this.subnets.subnetIds,
      targetGroupArns: Object.values(this.loadBalancer.targetGroups).map((group) => group.arn),
      fleet,
      tags: props.tags,
      deployHashes: props.deployHashes,
      deployDependsOn: props.deployDependsOn,
      // The hosts reach dnf, S3 and SSM only once the egress rules exist.
      bootDependsOn: [...props.bootDependsOn, ...this.network.egressRules],
    });
    this.rollCommand = rollCommand(this.names.autoScalingGroup, props.region, fleet.instanceRefresh);
  }

  /** The tag by which associations (deploy, patching) find the fleet's hosts. */
  get hostTag(): { readonly key: string; readonly value: string } {
    return { key: FLEET_TAG_KEY, value: this.props.namePrefix };
  }

  /**
   * Alarms when fewer hosts than minSize pass the load balancer's health check for five
   * minutes: the group is failing to replace them (setup failing, capacity, quota).
   */
  alarmOn(topicArn: string): CloudwatchMetricAlarm {
    const alarmName = `${this.props.namePrefix}-fleet-healthy-hosts`;
    const problem = operationsNameProblem('CloudWatch alarm name', alarmName);
    if (problem !== undefined) throw new InputError(`Fleet ${this.node.path}: ${problem}`);
    return new CloudwatchMetricAlarm(this, 'healthy-hosts', {
      alarmName,
      alarmDescription: `Fewer than ${this.props.fleet.minSize} hosts passed the load balancer's health check for five minutes. Runbook: docs/fleet.md#fleet-healthy-hosts`,
      namespace: 'AWS/NetworkELB',
      metricName: 'HealthyHostCount',
      dimensions: { LoadBalancer: this.loadBalancer.loadBalancer.arnSuffix, TargetGroup: this.loadBalancer.targetGroups[443].arnSuffix },
      statistic: 'Minimum',
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparisonOperator: 'LessThanThreshold',
      threshold: this.props.fleet.minSize,
      treatMissingData: 'breaching',
      alarmActions: [topicArn],
      okActions: [topicArn],
    });
  }
}
