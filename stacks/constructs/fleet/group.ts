/**
 * The Auto Scaling group: minSize..maxSize hosts from the launch template across the
 * fleet's subnets (at least two zones), registered in both target groups, replaced when
 * the load balancer's health check fails (type ELB) after a grace period that covers a
 * whole bounded setup, and rolled (instance refresh: launch before terminate, capacity
 * never below minHealthyPercentage) whenever the launch template changes.
 *
 * The deploy association targets the group's hosts by tag, so a deploy that changes only
 * the bundle or the data updates every host in place, one at a time, as on a single host.
 */
import { Token } from 'cdktf';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { SsmAssociation } from '@cdktf/provider-aws/lib/ssm-association';
import type { FleetConfig } from '../../../config/fleet-schema';
import { ASSOCIATION_TIMEOUT_SECONDS, SETUP_SECONDS } from '../../../contract/host-timing';
import { InputError } from '../../../lib/input-error';
import { deployAssociationName, updateCommand, type DeployHashes } from '../host';
import { autoScalingGroupNameProblem } from './names';
import { TAG_RULES, tagSetProblems } from '../../lib/aws-tag-rules';

/** The tag every fleet host carries (launch template), by which associations find them. */
export const FLEET_TAG_KEY = 'ProviderHostFleet';

/** A new host must finish its bounded setup (packages, certificate, release) before the group judges it. */
export const HEALTH_CHECK_GRACE_SECONDS = SETUP_SECONDS;

export interface FleetGroupProps {
  readonly name: string;
  readonly namePrefix: string;
  readonly launchTemplateId: string;
  /** The template's latest version: a new one (a changed template) starts a roll. */
  readonly launchTemplateVersion: number;
  readonly subnetIds: string[];
  readonly targetGroupArns: string[];
  readonly fleet: FleetConfig;
  readonly tags: Readonly<Record<string, string>>;
  readonly deployHashes: DeployHashes;
  readonly deployDependsOn: ITerraformDependable[];
  readonly bootDependsOn: ITerraformDependable[];
}

export class FleetGroup extends Construct {
  readonly group: AutoscalingGroup;
  readonly association: SsmAssociation;

  constructor(scope: Construct, id: string, props: FleetGroupProps) {
    super(scope, id);
    const { fleet } = props;
    const tags = { ...props.tags, Name: `${props.namePrefix}-fleet` };
    // Auto Scaling takes tags as blocks, which the synthesized stack's tag check does not read.
    const problems = [autoScalingGroupNameProblem(props.name), ...tagSetProblems(tags, TAG_RULES.other, 'the Auto Scaling group\'s tags')].filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new InputError(`FleetGroup ${this.node.path}: ${problems.join('; ')}`);

    this.group = new AutoscalingGroup(this, 'group', {
      name: props.name,
      minSize: fleet.minSize,
      maxSize: fleet.maxSize,
      desiredCapacity: fleet.desiredCapacity,
      vpcZoneIdentifier: props.subnetIds,
      targetGroupArns: props.targetGroupArns,
      healthCheckType: 'ELB',
      healthCheckGracePeriod: HEALTH_CHECK_GRACE_SECONDS,
      launchTemplate: { id: props.launchTemplateId, version: Token.asString(props.launchTemplateVersion) },
      instanceRefresh: {
        strategy: 'Rolling',
        preferences: {
          minHealthyPercentage: fleet.instanceRefresh.minHealthyPercentage,
          maxHealthyPercentage: fleet.instanceRefresh.maxHealthyPercentage,
          instanceWarmup: String(fleet.instanceRefresh.instanceWarmupSeconds),
          // Hosts already on the new template are not replaced again.
          skipMatching: true,
        },
      },
      // Auto Scaling groups take tags one by one; the hosts get theirs from the launch template.
      tag: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
      dependsOn: props.bootDependsOn,
    });

    this.association = new SsmAssociation(this, 'deploy', {
      name: 'AWS-RunShellScript',
      associationName: deployAssociationName(props.namePrefix),
      targets: [{ key: `tag:${FLEET_TAG_KEY}`, values: [props.namePrefix] }],
      parameters: { commands: updateCommand(props.deployHashes), executionTimeout: String(ASSOCIATION_TIMEOUT_SECONDS) },
      // One host at a time: the others keep serving while one reloads.
      maxConcurrency: '1',
      maxErrors: '0',
      dependsOn: [...props.deployDependsOn, this.group],
    });
  }

}

/**
 * The command that rolls every host by hand, keeping capacity: for a new AL2023 release
 * (the template resolves the AMI at launch, so it does not change) or a host-level change.
 * SkipMatching is off here: every host is replaced, even those on the current template.
 */
export function rollCommand(groupName: string, region: string, refresh: FleetConfig['instanceRefresh']): string {
  const preferences = JSON.stringify({
    MinHealthyPercentage: refresh.minHealthyPercentage,
    MaxHealthyPercentage: refresh.maxHealthyPercentage,
    InstanceWarmup: refresh.instanceWarmupSeconds,
    SkipMatching: false,
  });
  return `aws autoscaling start-instance-refresh --auto-scaling-group-name ${groupName} --strategy Rolling --preferences '${preferences}' --region ${region}`;
}
