import { DescribeSubnetsCommand, DescribeVpcsCommand, type EC2Client, type Subnet, type Vpc } from '@aws-sdk/client-ec2';
import { awsErrorName, describeAwsFailure } from './aws-errors';
import { fail, pass, type CheckResult } from './check-result';

const NAME = 'network';

export interface NetworkSettings {
  readonly region: string;
  /** `instance.subnetId`; absent: the default VPC. */
  readonly subnetId?: string;
  /** `instance.ipv6`: the subnet (or default VPC) needs an IPv6 CIDR. */
  readonly ipv6: boolean;
}

const associatedIpv6 = (sets: ReadonlyArray<{ Ipv6CidrBlock?: string; Ipv6CidrBlockState?: { State?: string } }> | undefined): string[] =>
  (sets ?? []).filter((s) => s.Ipv6CidrBlock && (s.Ipv6CidrBlockState?.State ?? 'associated') === 'associated').map((s) => s.Ipv6CidrBlock as string);

/** The host's network exists: the named subnet, or else a default VPC; with an IPv6 CIDR when `ipv6`. */
export async function checkNetwork(ec2: EC2Client, settings: NetworkSettings): Promise<CheckResult> {
  return settings.subnetId === undefined ? checkDefaultVpc(ec2, settings) : checkSubnet(ec2, settings.subnetId, settings);
}

async function checkDefaultVpc(ec2: EC2Client, { region, ipv6 }: NetworkSettings): Promise<CheckResult> {
  let vpc: Vpc | undefined;
  try {
    const answer = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }));
    vpc = answer.Vpcs?.[0];
  } catch (error) {
    return fail(NAME, `cannot look up the default VPC: ${describeAwsFailure(error, 'ec2:DescribeVpcs')}`);
  }
  if (!vpc?.VpcId) {
    return fail(NAME, `no default VPC in ${region}; create one ("aws ec2 create-default-vpc --region ${region}") or set instance.subnetId to a public subnet`);
  }
  if (!ipv6) return pass(NAME, `default VPC ${vpc.VpcId} in ${region}`);
  const cidrs = associatedIpv6(vpc.Ipv6CidrBlockAssociationSet);
  if (cidrs.length === 0) {
    return fail(
      NAME,
      `default VPC ${vpc.VpcId} in ${region} has no IPv6 CIDR, which instance.ipv6: true needs; add one ("aws ec2 associate-vpc-cidr-block --vpc-id ${vpc.VpcId} --amazon-provided-ipv6-cidr-block --region ${region}", then one per subnet), set instance.subnetId to a subnet with IPv6, or set instance.ipv6: false`,
    );
  }
  return pass(NAME, `default VPC ${vpc.VpcId} in ${region}, IPv6 ${cidrs.join(', ')}`);
}

async function checkSubnet(ec2: EC2Client, subnetId: string, { region, ipv6 }: NetworkSettings): Promise<CheckResult> {
  let subnet: Subnet | undefined;
  try {
    const answer = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
    subnet = answer.Subnets?.[0];
  } catch (error) {
    if (awsErrorName(error) !== 'InvalidSubnetID.NotFound') {
      return fail(NAME, `cannot look up subnet ${subnetId}: ${describeAwsFailure(error, 'ec2:DescribeSubnets')}`);
    }
  }
  if (!subnet) {
    return fail(NAME, `subnet ${subnetId} does not exist in ${region}; check instance.subnetId and region ("aws ec2 describe-subnets --region ${region}"), or omit instance.subnetId for the default VPC`);
  }
  const where = `subnet ${subnetId} in ${subnet.VpcId ?? '(unknown VPC)'} (${subnet.AvailabilityZone ?? region})`;
  if (!ipv6) return pass(NAME, where);
  const cidrs = associatedIpv6(subnet.Ipv6CidrBlockAssociationSet);
  if (cidrs.length === 0) {
    return fail(
      NAME,
      `${where} has no IPv6 CIDR, which instance.ipv6: true needs; add one ("aws ec2 associate-subnet-cidr-block --subnet-id ${subnetId} --ipv6-cidr-block <a /64 of the VPC's range> --region ${region}") or set instance.ipv6: false`,
    );
  }
  return pass(NAME, `${where}, IPv6 ${cidrs.join(', ')}`);
}
