/**
 * The fleet's names, derived from the environment's namePrefix, and AWS's rules for them,
 * checked at synthesis (the config schema reports a bad one with its field; the
 * constructs refuse one as well): `terraform plan` accepts any string, the API refuses
 * it after the security groups and the launch template already exist.
 *
 * Sources (API references):
 *   Elastic Load Balancing CreateLoadBalancer Name: at most 32 characters, alphanumerics
 *     and hyphens, not beginning or ending with a hyphen, not beginning with "internal-".
 *   CreateTargetGroup Name: at most 32 characters, alphanumerics and hyphens, not
 *     beginning or ending with a hyphen.
 *   Auto Scaling CreateAutoScalingGroup AutoScalingGroupName: 1-255 characters, no control
 *     characters; EC2 CreateLaunchTemplate LaunchTemplateName: 3-128 of [a-zA-Z0-9().\-/_].
 */

export const ELB_NAME_MAX = 32;

export type ElbNameKind = 'load balancer' | 'target group';

/** What is wrong with a load balancer or target group name; undefined when AWS accepts it. */
export function elbNameProblem(kind: ElbNameKind, name: string): string | undefined {
  const what = `${kind} name ${JSON.stringify(name)}`;
  if (name.length < 1 || name.length > ELB_NAME_MAX) return `${what} has ${name.length} characters; AWS allows 1-${ELB_NAME_MAX}`;
  if (!/^[A-Za-z0-9-]+$/.test(name)) return `${what} may hold only letters, digits and hyphens`;
  if (name.startsWith('-') || name.endsWith('-')) return `${what} may not begin or end with a hyphen`;
  if (kind === 'load balancer' && /^internal-/i.test(name)) return `${what} may not begin with "internal-" (AWS reserves it for internal load balancers' DNS names)`;
  return undefined;
}

export function autoScalingGroupNameProblem(name: string): string | undefined {
  return /^[^\p{Cc}]{1,255}$/u.test(name) ? undefined : `Auto Scaling group name ${JSON.stringify(name)} is not valid: use 1-255 characters, no control characters`;
}

export function launchTemplateNameProblem(name: string): string | undefined {
  return /^[a-zA-Z0-9().\-/_]{3,128}$/.test(name) ? undefined : `launch template name ${JSON.stringify(name)} is not valid: use 3-128 letters, digits and ( ) . - / _`;
}

export interface FleetNames {
  readonly loadBalancer: string;
  readonly httpsTargetGroup: string;
  readonly httpTargetGroup: string;
  readonly autoScalingGroup: string;
  readonly launchTemplate: string;
  /** The load balancer's security group (the hosts keep `<namePrefix>-host`). */
  readonly loadBalancerSecurityGroup: string;
}

export function fleetNames(namePrefix: string): FleetNames {
  return {
    loadBalancer: `${namePrefix}-nlb`,
    httpsTargetGroup: `${namePrefix}-https`,
    httpTargetGroup: `${namePrefix}-http`,
    autoScalingGroup: `${namePrefix}-fleet`,
    launchTemplate: `${namePrefix}-host`,
    loadBalancerSecurityGroup: `${namePrefix}-nlb`,
  };
}

/** Every problem with the names a namePrefix gives the fleet, each naming the name and the rule; [] when valid. */
export function fleetNameProblems(namePrefix: string): string[] {
  const names = fleetNames(namePrefix);
  return [
    elbNameProblem('load balancer', names.loadBalancer),
    elbNameProblem('target group', names.httpsTargetGroup),
    elbNameProblem('target group', names.httpTargetGroup),
    autoScalingGroupNameProblem(names.autoScalingGroup),
    launchTemplateNameProblem(names.launchTemplate),
  ].filter((p): p is string => p !== undefined);
}
