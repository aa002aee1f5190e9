/**
 * Where the fleet runs: the configured subnets, or the default VPC's default subnets (one
 * per availability zone, optionally narrowed to named zones), looked up when Terraform
 * plans, never at synthesis. "At least two zones" can only be checked then: it is a
 * Terraform condition, so a plan in a VPC with one zone stops before creating anything.
 */
import { Fn, Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsSubnet } from '@cdktf/provider-aws/lib/data-aws-subnet';
import { DataAwsSubnets } from '@cdktf/provider-aws/lib/data-aws-subnets';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';

export const MIN_AVAILABILITY_ZONES = 2;

export interface FleetSubnetsProps {
  /** Configured subnets (at least two); omitted: the default VPC's default subnets. */
  readonly subnetIds?: readonly string[];
  /** With the default VPC: only these zones. */
  readonly availabilityZones?: readonly string[];
}

/** A Terraform condition (precondition or postcondition) as cdktf takes it. */
export interface FleetCondition {
  readonly condition: string;
  readonly errorMessage: string;
}

export class FleetSubnets extends Construct {
  readonly vpcId: string;
  readonly subnetIds: string[];
  /**
   * What the first resource placed in these subnets must check before it is created (the
   * load balancer): configured subnets span two zones of one VPC. A resource cannot name
   * itself in its own condition, so these cannot live on the look-ups.
   */
  readonly preconditions: FleetCondition[] = [];

  constructor(scope: Construct, id: string, props: FleetSubnetsProps) {
    super(scope, id);
    if (props.subnetIds !== undefined) {
      const subnets = props.subnetIds.map((subnetId, index) => new DataAwsSubnet(this, `subnet-${index}`, { id: subnetId }));
      this.subnetIds = [...props.subnetIds];
      this.vpcId = subnets[0]!.vpcId;
      const zones = Fn.distinct(subnets.map((s) => s.availabilityZone));
      const vpcs = Fn.distinct(subnets.map((s) => s.vpcId));
      this.preconditions.push(
        {
          condition: Token.asString(Op.gte(Fn.lengthOf(zones), MIN_AVAILABILITY_ZONES)),
          errorMessage: `fleet.subnetIds must lie in at least ${MIN_AVAILABILITY_ZONES} availability zones (a zone outage must leave a host); add a subnet of another zone`,
        },
        {
          condition: Token.asString(Op.eq(Fn.lengthOf(vpcs), 1)),
          errorMessage: 'fleet.subnetIds must all belong to one VPC (the load balancer, its targets and their security groups live in one); use subnets of one VPC',
        },
      );
    } else {
      this.vpcId = new DataAwsVpc(this, 'default-vpc', { default: true }).id;
      const defaults = new DataAwsSubnets(this, 'default-subnets', {
        filter: [
          { name: 'vpc-id', values: [this.vpcId] },
          { name: 'default-for-az', values: ['true'] },
          ...(props.availabilityZones !== undefined ? [{ name: 'availability-zone', values: [...props.availabilityZones] }] : []),
        ],
      });
      // A default subnet is one per zone: two subnets are two zones. A postcondition names
      // its own data source as `self` (a plain string: cdktf would write the full address).
      defaults.addOverride('lifecycle.postcondition', [
        {
          condition: `\${length(self.ids) >= ${MIN_AVAILABILITY_ZONES}}`,
          error_message: `the default VPC has default subnets in fewer than ${MIN_AVAILABILITY_ZONES} of the chosen availability zones; create them (aws ec2 create-default-subnet --availability-zone <zone>) or set fleet.subnetIds`,
        },
      ]);
      this.subnetIds = defaults.ids;
    }
  }
}
