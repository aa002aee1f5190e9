/**
 * The Network Load Balancer in front of the fleet, passing TLS through: TCP listeners on
 * 443 and 80 forward the client's bytes to a host's nginx, which terminates TLS, verifies
 * the client certificate, checks revocation and the deny list, and overwrites the
 * forged-header defence exactly as the single host does. Nothing here reads a request.
 *
 * - Health check: HTTPS GET /ping on 443 (nginx answers it without a client certificate),
 *   for both target groups, so a host whose TLS site is down stops receiving port 80 too.
 * - Client IP preservation on: nginx's per-address limits and logs see the client's IPv4
 *   address (an IPv6 client of a dual-stack load balancer reaches IPv4 targets translated:
 *   docs/fleet.md).
 * - Its own security group: in from anywhere on 443/80, out only to the hosts' group; the
 *   hosts accept 443/80 from this group only (network.ts `webIngressFromGroupId`).
 */
import { Construct } from 'constructs';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import type { FleetConfig } from '../../../config/fleet-schema';
import { InputError } from '../../../lib/input-error';
import { elbNameProblem, type FleetNames } from './names';
import type { FleetCondition } from './subnets';

/** nginx answers it on the TLS site without a client certificate (nginx/templates). */
export const HEALTH_CHECK_PATH = '/ping';
export const HEALTH_CHECK_PORT = 443;
export const LISTENER_PORTS = [443, 80] as const;

export interface FleetLoadBalancerProps {
  readonly names: FleetNames;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** Dual-stack (A and AAAA); the subnets must have IPv6 CIDRs. */
  readonly ipv6: boolean;
  readonly healthCheck: FleetConfig['healthCheck'];
  readonly deregistrationDelaySeconds: number;
  /** Checked before the load balancer is created (the subnets' zones and VPC). */
  readonly preconditions?: readonly FleetCondition[];
}

export class FleetLoadBalancer extends Construct {
  readonly loadBalancer: Lb;
  readonly securityGroup: SecurityGroup;
  readonly targetGroups: Record<(typeof LISTENER_PORTS)[number], LbTargetGroup>;
  readonly listeners: LbListener[] = [];

  constructor(scope: Construct, id: string, props: FleetLoadBalancerProps) {
    super(scope, id);
    const { names } = props;
    const problems = [
      elbNameProblem('load balancer', names.loadBalancer),
      elbNameProblem('target group', names.httpsTargetGroup),
      elbNameProblem('target group', names.httpTargetGroup),
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new InputError(`FleetLoadBalancer ${this.node.path}: ${problems.join('; ')}`);

    this.securityGroup = new SecurityGroup(this, 'group', {
      name: names.loadBalancerSecurityGroup,
      description: 'Provider Host load balancer: HTTP/HTTPS in from anywhere, out to the hosts only',
      vpcId: props.vpcId,
    });
    const sources = [{ suffix: 'ipv4', cidrIpv4: '0.0.0.0/0' }, ...(props.ipv6 ? [{ suffix: 'ipv6', cidrIpv6: '::/0' }] : [])];
    for (const port of LISTENER_PORTS) {
      for (const { suffix, ...cidr } of sources) {
        new VpcSecurityGroupIngressRule(this, `in-${port}-${suffix}`, {
          securityGroupId: this.securityGroup.id, ipProtocol: 'tcp', fromPort: port, toPort: port, ...cidr,
          description: port === 443 ? 'HTTPS: mutual TLS API, passed through to the hosts' : 'HTTP: redirect to HTTPS, passed through to the hosts',
        });
      }
    }

    this.loadBalancer = new Lb(this, 'nlb', {
      name: names.loadBalancer,
      loadBalancerType: 'network',
      internal: false,
      ipAddressType: props.ipv6 ? 'dualstack' : 'ipv4',
      subnets: props.subnetIds,
      securityGroups: [this.securityGroup.id],
      // Every load balancer node sends to every healthy host, whatever its zone: a zone
      // with its only host down still answers.
      enableCrossZoneLoadBalancing: true,
      ...(props.preconditions !== undefined && props.preconditions.length > 0 ? { lifecycle: { precondition: [...props.preconditions] } } : {}),
    });

    const targetGroup = (port: (typeof LISTENER_PORTS)[number], name: string) => new LbTargetGroup(this, `targets-${port}`, {
      name,
      port,
      protocol: 'TCP',
      targetType: 'instance',
      vpcId: props.vpcId,
      preserveClientIp: 'true',
      deregistrationDelay: String(props.deregistrationDelaySeconds),
      healthCheck: {
        enabled: true,
        protocol: 'HTTPS',
        port: String(HEALTH_CHECK_PORT),
        path: HEALTH_CHECK_PATH,
        matcher: '200',
        interval: props.healthCheck.intervalSeconds,
        timeout: props.healthCheck.timeoutSeconds,
        healthyThreshold: props.healthCheck.healthyThreshold,
        unhealthyThreshold: props.healthCheck.unhealthyThreshold,
      },
    });
    this.targetGroups = { 443: targetGroup(443, names.httpsTargetGroup), 80: targetGroup(80, names.httpTargetGroup) };

    for (const port of LISTENER_PORTS) {
      this.listeners.push(new LbListener(this, `listener-${port}`, {
        loadBalancerArn: this.loadBalancer.arn,
        port,
        // TCP, not TLS: the load balancer never holds the certificate nor sees the request.
        protocol: 'TCP',
        defaultAction: [{ type: 'forward', targetGroupArn: this.targetGroups[port].arn }],
      }));
    }
  }

  /** Lets the load balancer reach the hosts (traffic and health checks) and nothing else. */
  allowTo(hostGroupId: string): void {
    for (const port of LISTENER_PORTS) {
      new VpcSecurityGroupEgressRule(this, `out-${port}-hosts`, {
        securityGroupId: this.securityGroup.id, ipProtocol: 'tcp', fromPort: port, toPort: port, referencedSecurityGroupId: hostGroupId,
        description: port === 443 ? 'HTTPS and health checks to the hosts' : 'HTTP to the hosts',
      });
    }
  }
}
