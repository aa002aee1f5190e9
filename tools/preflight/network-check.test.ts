import { createEnvironmentFolder, createPki, goodAccount, runPreflight, type EnvironmentFolder, type FakeAccount, type Pki } from '../../testing/preflight-account';

describe('preflight: network', () => {
  let pki: Pki;
  let folder: EnvironmentFolder;
  let account: FakeAccount;
  beforeAll(() => {
    pki = createPki();
    folder = createEnvironmentFolder(pki);
  });
  afterAll(() => folder.remove());
  beforeEach(() => {
    account = goodAccount(pki);
  });
  const run = (instance: Record<string, unknown> = {}) => runPreflight(account, ['--config', folder.write({ instance: { type: 't4g.small', ...instance } })], pki);

  it('GIVEN no default VPC THEN ✘ with the two fixes', async () => {
    account.vpcs = [];
    const result = await run();
    expect(result.line('network')).toBe(
      '✘ network                    no default VPC in eu-west-2; create one ("aws ec2 create-default-vpc --region eu-west-2") or set instance.subnetId to a public subnet',
    );
    expect(result.code).toBe(1);
  });

  it('GIVEN ipv6 and a default VPC without an IPv6 CIDR THEN ✘', async () => {
    const result = await run({ ipv6: true });
    expect(result.line('network')).toBe(
      '✘ network                    default VPC vpc-0abc1234def567890 in eu-west-2 has no IPv6 CIDR, which instance.ipv6: true needs; add one ("aws ec2 associate-vpc-cidr-block --vpc-id vpc-0abc1234def567890 --amazon-provided-ipv6-cidr-block --region eu-west-2", then one per subnet), set instance.subnetId to a subnet with IPv6, or set instance.ipv6: false',
    );
  });

  it('GIVEN a subnetId that exists THEN ✔ naming it and its VPC', async () => {
    account.subnets = [{ SubnetId: 'subnet-0123456789abcdef0', VpcId: 'vpc-0fff', AvailabilityZone: 'eu-west-2a' }];
    const result = await run({ subnetId: 'subnet-0123456789abcdef0' });
    expect(result.line('network')).toBe('✔ network                    subnet subnet-0123456789abcdef0 in vpc-0fff (eu-west-2a)');
    expect(result.code).toBe(0);
  });

  it('GIVEN a subnetId that does not exist THEN ✘ with the fix', async () => {
    const result = await run({ subnetId: 'subnet-0123456789abcdef0' });
    expect(result.line('network')).toBe(
      '✘ network                    subnet subnet-0123456789abcdef0 does not exist in eu-west-2; check instance.subnetId and region ("aws ec2 describe-subnets --region eu-west-2"), or omit instance.subnetId for the default VPC',
    );
    expect(result.code).toBe(1);
  });

  it('GIVEN ipv6 and a subnet without an IPv6 CIDR THEN ✘; with one THEN ✔ naming it', async () => {
    account.subnets = [{ SubnetId: 'subnet-0123456789abcdef0', VpcId: 'vpc-0fff', AvailabilityZone: 'eu-west-2a' }];
    const without = await run({ subnetId: 'subnet-0123456789abcdef0', ipv6: true });
    expect(without.line('network')).toBe(
      '✘ network                    subnet subnet-0123456789abcdef0 in vpc-0fff (eu-west-2a) has no IPv6 CIDR, which instance.ipv6: true needs; add one ("aws ec2 associate-subnet-cidr-block --subnet-id subnet-0123456789abcdef0 --ipv6-cidr-block <a /64 of the VPC\'s range> --region eu-west-2") or set instance.ipv6: false',
    );
    account.subnets = [
      {
        SubnetId: 'subnet-0123456789abcdef0',
        VpcId: 'vpc-0fff',
        AvailabilityZone: 'eu-west-2a',
        Ipv6CidrBlockAssociationSet: [{ Ipv6CidrBlock: '2a05:d01c:1:2::/64', Ipv6CidrBlockState: { State: 'associated' } }],
      },
    ];
    const withIpv6 = await run({ subnetId: 'subnet-0123456789abcdef0', ipv6: true });
    expect(withIpv6.line('network')).toBe('✔ network                    subnet subnet-0123456789abcdef0 in vpc-0fff (eu-west-2a), IPv6 2a05:d01c:1:2::/64');
  });

  it('GIVEN the caller may not describe VPCs THEN ✘ naming the permission', async () => {
    account.failing = {
      DescribeVpcs: Object.assign(new Error('You are not authorized to perform this operation. Encoded authorization failure message: AbC'), { name: 'UnauthorizedOperation' }),
    };
    const result = await run();
    expect(result.line('network')).toBe(
      "✘ network                    cannot look up the default VPC: access denied (UnauthorizedOperation): the credentials lack ec2:DescribeVpcs; add it to the operator's IAM policy",
    );
  });
});
