/**
 * The security group: HTTP (ACME challenges, redirect) and HTTPS from anywhere over
 * IPv4 and IPv6 (fleet mode: from the load balancer's group only); SSH only from
 * configured CIDRs (none by default: use SSM); egress only HTTP/HTTPS (packages, npm,
 * Let's Encrypt, S3/SSM endpoints, the authorization server). The VPC DNS resolver and
 * the time service are not filtered by groups.
 */
import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';

export interface NetworkProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** CIDRs allowed on port 22. @default [] (closed) */
  readonly sshCidrs?: readonly string[];
  /**
   * Fleet mode: HTTP and HTTPS only from this security group (the load balancer's, which
   * also carries its health checks), not from anywhere. @default from anywhere (single host)
   */
  readonly webIngressFromGroupId?: string;
}

const ANYWHERE = [
  { suffix: 'ipv4', cidrIpv4: '0.0.0.0/0' },
  { suffix: 'ipv6', cidrIpv6: '::/0' },
] as const;

export class Network extends Construct {
  readonly securityGroup: SecurityGroup;
  /**
   * Creating a group removes AWS's default allow-all egress, so until these exist the
   * host cannot reach dnf, S3 or SSM: the instance must depend on them.
   */
  readonly egressRules: VpcSecurityGroupEgressRule[] = [];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { sshCidrs = [] } = props;
    if (sshCidrs.some((c) => /\/0$/.test(c))) {
      throw new Error(`Network: SSH from ${sshCidrs.join(', ')} would include the whole internet; refused`);
    }
    this.securityGroup = new SecurityGroup(this, 'group', {
      name: `${props.namePrefix}-host`,
      description: props.webIngressFromGroupId === undefined
        ? 'Provider Host: HTTP/HTTPS in, SSH only from configured ranges'
        : 'Provider Host: HTTP/HTTPS from the load balancer only, SSH only from configured ranges',
      vpcId: props.vpcId,
    });
    const groupId = this.securityGroup.id;

    for (const port of [80, 443]) {
      if (props.webIngressFromGroupId !== undefined) {
        new VpcSecurityGroupIngressRule(this, `in-${port}-load-balancer`, {
          securityGroupId: groupId, ipProtocol: 'tcp', fromPort: port, toPort: port, referencedSecurityGroupId: props.webIngressFromGroupId,
          description: port === 80 ? 'HTTP from the load balancer only: redirect to HTTPS' : 'HTTPS from the load balancer only: mutual TLS API and health checks',
        });
      }
      for (const source of ANYWHERE) {
        const { suffix, ...cidr } = source;
        if (props.webIngressFromGroupId === undefined) {
          new VpcSecurityGroupIngressRule(this, `in-${port}-${suffix}`, {
            securityGroupId: groupId, ipProtocol: 'tcp', fromPort: port, toPort: port, ...cidr,
            description: port === 80 ? 'HTTP: ACME challenges and redirect to HTTPS' : 'HTTPS: mutual TLS API',
          });
        }
        this.egressRules.push(new VpcSecurityGroupEgressRule(this, `out-${port}-${suffix}`, {
          securityGroupId: groupId, ipProtocol: 'tcp', fromPort: port, toPort: port, ...cidr,
          description: port === 80 ? 'HTTP out: package mirrors, OCSP/CRL' : 'HTTPS out: AWS APIs, npm, ACME, authorization server',
        }));
      }
    }
    sshCidrs.forEach((cidr, index) => {
      new VpcSecurityGroupIngressRule(this, `in-22-${index}`, {
        securityGroupId: groupId, ipProtocol: 'tcp', fromPort: 22, toPort: 22,
        ...(cidr.includes(':') ? { cidrIpv6: cidr } : { cidrIpv4: cidr }),
        description: 'SSH from an operator range',
      });
    });
  }
}
