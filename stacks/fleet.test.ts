/**
 * Fleet mode (docs/fleet.md), attribute by attribute on the synthesized JSON: the zones,
 * the load balancer passing TLS through, the health check, the security groups letting
 * the hosts accept only the load balancer, the launch template's hardening, the rolling
 * replacement, the alias records, the host's DNS-01 permission and its conditions, the
 * outputs; the config rules of `mode` and `fleet`; and single mode left as it was.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EnvironmentError, parseEnvironment } from '../config/load';
import { PROJECT_ROOT } from '../lib/project-paths';
import { TerraformStack, Testing } from 'cdktf';
import { FleetGroup, HEALTH_CHECK_GRACE_SECONDS } from './constructs/fleet/group';
import { FleetLaunchTemplate } from './constructs/fleet/launch-template';
import { elbNameProblem, fleetNameProblems } from './constructs/fleet/names';
import { SETUP_SECONDS } from '../contract/host-timing';
import { BUCKET_LAYOUT } from '../contract/bucket-layout';
import { decodeHostEnv } from '../contract/host-settings';
import { exampleConfig, only, removeTempDirs, resources, synthStack, type Synthesized, type TerraformJson } from '../testing/synth';

const FLEET_FILE = path.join(PROJECT_ROOT, 'config', 'environments', 'fleet-example.yaml');

afterAll(removeTempDirs);

function fleetDocument(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const doc = parseYaml(fs.readFileSync(FLEET_FILE, 'utf8')) as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    const current = doc[key];
    doc[key] = value !== null && typeof value === 'object' && !Array.isArray(value) && current !== null && typeof current === 'object'
      ? { ...(current as object), ...(value as object) }
      : value;
  }
  return doc;
}

const fleetConfig = (overrides: Record<string, unknown> = {}) => parseEnvironment(fleetDocument(overrides), FLEET_FILE);

/** The problems the loader reports for a fleet document with these overrides. */
function problems(overrides: Record<string, unknown>, base: () => Record<string, unknown> = () => fleetDocument()): string[] {
  const doc = { ...base(), ...overrides };
  try {
    parseEnvironment(doc, FLEET_FILE);
  } catch (error) {
    if (error instanceof EnvironmentError) return [...error.problems];
    throw error;
  }
  return [];
}

const strip = <T extends Record<string, unknown>>(r: T): T => Object.fromEntries(Object.entries(r).filter(([k]) => k !== '//')) as T;
const one = (doc: TerraformJson, type: string): Record<string, unknown> => strip(only(doc, type));

interface Statement { sid?: string; effect?: string; actions?: string[]; resources?: string[]; condition?: { test: string; variable: string; values: string[] }[] }
const hostStatements = (doc: TerraformJson): Statement[] => {
  const policy = Object.entries(doc.data.aws_iam_policy_document).find(([id]) => id.startsWith('access_host-policy'));
  return (policy![1] as { statement: Statement[] }).statement;
};

describe('fleet mode (fleet-example)', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthStack(fleetConfig());
  });

  it('synthesizes with no tag AWS would refuse, no Elastic IP and no single instance', () => {
    expect(synth.stack.awsRuleProblems()).toEqual([]);
    expect(resources(synth.doc, 'aws_eip')).toEqual({});
    expect(resources(synth.doc, 'aws_instance')).toEqual({});
    expect(() => synth.stack.host).toThrow(/fleet mode/);
  });

  describe('zones', () => {
    it('places the group and the load balancer in the default VPC\'s default subnets, and stops the plan below two zones', () => {
      const subnets = Object.values(synth.doc.data.aws_subnets)[0] as { filter: { name: string; values: string[] }[]; lifecycle: { postcondition: { condition: string; error_message: string }[] } };
      expect(subnets.filter.map((f) => f.name)).toEqual(['vpc-id', 'default-for-az']);
      expect(subnets.filter[1]!.values).toEqual(['true']);
      expect(subnets.lifecycle.postcondition).toEqual([{ condition: '${length(self.ids) >= 2}', error_message: expect.stringMatching(/fewer than 2 of the chosen availability zones/) }]);
      const ids = `\${data.aws_subnets.${Object.keys(synth.doc.data.aws_subnets)[0]}.ids}`;
      expect(one(synth.doc, 'aws_lb').subnets).toBe(ids);
      expect(one(synth.doc, 'aws_autoscaling_group').vpc_zone_identifier).toBe(ids);
    });

    it('narrows the default subnets to the configured zones', () => {
      const { doc } = synthStack(fleetConfig({ fleet: { availabilityZones: ['eu-west-2a', 'eu-west-2b'] } }));
      const subnets = Object.values(doc.data.aws_subnets)[0] as { filter: { name: string; values: string[] }[] };
      expect(subnets.filter[2]).toEqual({ name: 'availability-zone', values: ['eu-west-2a', 'eu-west-2b'] });
    });

    it('with configured subnets: every one looked up, and the load balancer refuses one zone or two VPCs at plan time', () => {
      const { doc } = synthStack(fleetConfig({ fleet: { subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'] } }));
      expect(Object.values(doc.data.aws_subnet).map((s) => (s as { id: string }).id)).toEqual(['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']);
      expect(doc.data.aws_subnets).toBeUndefined();
      const lb = one(doc, 'aws_lb') as { subnets: string[]; lifecycle: { precondition: { condition: string; error_message: string }[] } };
      expect(lb.subnets).toEqual(['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']);
      const [zones, vpcs] = lb.lifecycle.precondition;
      expect(zones!.condition).toMatch(/^\$\{\(length\(distinct\(\[data\.aws_subnet\.\S+\.availability_zone, data\.aws_subnet\.\S+\.availability_zone\]\)\) >= 2\)\}$/);
      expect(zones!.error_message).toMatch(/at least 2 availability zones/);
      expect(vpcs!.condition).toMatch(/^\$\{\(length\(distinct\(\[data\.aws_subnet\.\S+\.vpc_id, data\.aws_subnet\.\S+\.vpc_id\]\)\) == 1\)\}$/);
    });
  });

  describe('the Network Load Balancer passes TLS through', () => {
    it('is internet-facing, IPv4 (dual-stack with ipv6), cross-zone, with its own security group', () => {
      const lb = one(synth.doc, 'aws_lb');
      expect(lb).toMatchObject({ load_balancer_type: 'network', internal: false, ip_address_type: 'ipv4', enable_cross_zone_load_balancing: true, name: 'provider-fleet-example-nlb' });
      const groupId = Object.keys(resources(synth.doc, 'aws_security_group')).find((id) => id.includes('load-balancer'));
      expect(lb.security_groups).toEqual([`\${aws_security_group.${groupId}.id}`]);
      expect(one(synthStack(fleetConfig({ instance: { ipv6: true } })).doc, 'aws_lb').ip_address_type).toBe('dualstack');
    });

    it('listens with TCP (never TLS or HTTP) on 443 and 80, forwarding to the target group of the same port', () => {
      const listeners = Object.values(resources(synth.doc, 'aws_lb_listener')) as { port: number; protocol: string; certificate_arn?: string; default_action: { type: string; target_group_arn: string }[] }[];
      expect(listeners.map((l) => [l.port, l.protocol]).sort()).toEqual([[443, 'TCP'], [80, 'TCP']].sort());
      const groups = resources(synth.doc, 'aws_lb_target_group');
      for (const listener of listeners) {
        expect(listener.certificate_arn).toBeUndefined();
        expect(listener.default_action).toHaveLength(1);
        expect(listener.default_action[0]!.type).toBe('forward');
        const target = Object.entries(groups).find(([id]) => listener.default_action[0]!.target_group_arn === `\${aws_lb_target_group.${id}.arn}`);
        expect(target![1].port).toBe(listener.port);
      }
    });

    it('health-checks every host with HTTPS GET /ping on 443 and the configured thresholds, preserving client addresses', () => {
      const groups = Object.values(resources(synth.doc, 'aws_lb_target_group'));
      expect(groups).toHaveLength(2);
      for (const group of groups) {
        expect(group).toMatchObject({
          protocol: 'TCP', target_type: 'instance', preserve_client_ip: 'true', deregistration_delay: '60',
          health_check: { enabled: true, protocol: 'HTTPS', port: '443', path: '/ping', matcher: '200', interval: 10, timeout: 5, healthy_threshold: 3, unhealthy_threshold: 2 },
        });
      }
      const tuned = synthStack(fleetConfig({ fleet: { healthCheck: { intervalSeconds: 30, timeoutSeconds: 10, healthyThreshold: 5, unhealthyThreshold: 3 }, deregistrationDelaySeconds: 15 } }));
      expect(Object.values(resources(tuned.doc, 'aws_lb_target_group'))[0]).toMatchObject({
        deregistration_delay: '15', health_check: { interval: 30, timeout: 10, healthy_threshold: 5, unhealthy_threshold: 3 },
      });
    });

    it('names the target groups within AWS\'s rules', () => {
      for (const group of Object.values(resources(synth.doc, 'aws_lb_target_group'))) expect(elbNameProblem('target group', group.name as string)).toBeUndefined();
    });
  });

  describe('security groups: the hosts accept only the load balancer', () => {
    interface Rule { id: string; security_group_id?: string; from_port?: number; cidr_ipv4?: string; cidr_ipv6?: string; referenced_security_group_id?: string }
    const rules = (doc: TerraformJson, kind: 'ingress' | 'egress'): Rule[] => Object.entries(resources(doc, `aws_vpc_security_group_${kind}_rule`)).map(([id, r]) => ({ id, ...(r as Omit<Rule, 'id'>) }));
    const groupIdOf = (doc: TerraformJson, part: string) => `\${aws_security_group.${Object.keys(resources(doc, 'aws_security_group')).find((id) => id.includes(part))}.id}`;

    it('the hosts take 80 and 443 from the load balancer\'s group only, from no address range', () => {
      const hosts = groupIdOf(synth.doc, 'network');
      const toHosts = rules(synth.doc, 'ingress').filter((r) => r.security_group_id === hosts);
      expect(toHosts.map((r) => [r.from_port, r.referenced_security_group_id]).sort()).toEqual([[443, groupIdOf(synth.doc, 'load-balancer')], [80, groupIdOf(synth.doc, 'load-balancer')]].sort());
      for (const rule of toHosts) {
        expect(rule.cidr_ipv4).toBeUndefined();
        expect(rule.cidr_ipv6).toBeUndefined();
      }
    });

    it('the load balancer takes 80 and 443 from anywhere (IPv6 too when on) and sends only to the hosts', () => {
      const lb = groupIdOf(synth.doc, 'load-balancer');
      const inbound = rules(synth.doc, 'ingress').filter((r) => r.security_group_id === lb);
      expect(inbound.map((r) => [r.from_port, r.cidr_ipv4]).sort()).toEqual([[443, '0.0.0.0/0'], [80, '0.0.0.0/0']].sort());
      const outbound = rules(synth.doc, 'egress').filter((r) => r.security_group_id === lb);
      expect(outbound.map((r) => [r.from_port, r.referenced_security_group_id]).sort()).toEqual([[443, groupIdOf(synth.doc, 'network')], [80, groupIdOf(synth.doc, 'network')]].sort());
      const dual = synthStack(fleetConfig({ instance: { ipv6: true } })).doc;
      expect(rules(dual, 'ingress').filter((r) => r.security_group_id === groupIdOf(dual, 'load-balancer') && r.cidr_ipv6 === '::/0')).toHaveLength(2);
    });
  });

  describe('launch template and group', () => {
    it('launches with IMDSv2 required (hop limit 1), an encrypted gp3 root, the instance profile and the single host\'s user data', () => {
      const template = one(synth.doc, 'aws_launch_template');
      expect(template.metadata_options).toEqual({ http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 });
      expect(template.block_device_mappings).toEqual([{ device_name: '/dev/xvda', ebs: { volume_type: 'gp3', volume_size: 20, encrypted: 'true', delete_on_termination: 'true' } }]);
      expect(template.iam_instance_profile).toEqual({ name: `\${aws_iam_instance_profile.${Object.keys(resources(synth.doc, 'aws_iam_instance_profile'))[0]}.name}` });
      expect(template.image_id).toBe('resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64');
      expect(Buffer.from(template.user_data as string, 'base64').toString('utf8')).toBe(synth.stack.userData);
      const single = synthStack(exampleConfig());
      expect(synth.stack.userData.replace(/fleet-example/g, 'example')).toBe(single.stack.userData);
    });

    it('is an Auto Scaling group of 2..4 hosts, health type ELB with a grace period covering a whole setup, in both target groups', () => {
      const group = one(synth.doc, 'aws_autoscaling_group');
      expect(group).toMatchObject({ min_size: 2, max_size: 4, desired_capacity: 2, health_check_type: 'ELB', health_check_grace_period: SETUP_SECONDS });
      expect(HEALTH_CHECK_GRACE_SECONDS).toBe(SETUP_SECONDS);
      expect((group.target_group_arns as string[]).sort()).toEqual(Object.keys(resources(synth.doc, 'aws_lb_target_group')).map((id) => `\${aws_lb_target_group.${id}.arn}`).sort());
      const template = Object.keys(resources(synth.doc, 'aws_launch_template'))[0];
      expect(group.launch_template).toEqual({ id: `\${aws_launch_template.${template}.id}`, version: `\${aws_launch_template.${template}.latest_version}` });
    });

    it('launches hosts only after what their first boot reads and writes exists (grants, data key, bucket policy, egress)', () => {
      const dependsOn = one(synth.doc, 'aws_autoscaling_group').depends_on as string[];
      for (const prefix of ['aws_ssm_parameter.host-config', 'aws_s3_object.storage_bundle', 'aws_iam_role_policy.access_host-policy', 'aws_iam_role_policy.data-key_instance-use', 'aws_s3_bucket_server_side_encryption_configuration.', 'aws_s3_bucket_policy.', 'aws_vpc_security_group_egress_rule.fleet_network_out-443-ipv4']) {
        expect(dependsOn.some((d) => d.startsWith(prefix))).toBe(true);
      }
    });

    it('carries no private key: not in the JSON, not in the launch template\'s user data', () => {
      const marker = ['PRIVATE', 'KEY-----'].join(' ');
      expect(synth.json).not.toContain(marker);
      expect(Buffer.from(one(synth.doc, 'aws_launch_template').user_data as string, 'base64').toString('utf8')).not.toContain(marker);
    });

    it('rolls on a launch template change: Rolling, min healthy 100, max healthy 200, skip matching, the warmup', () => {
      expect(one(synth.doc, 'aws_autoscaling_group').instance_refresh).toEqual({
        strategy: 'Rolling',
        preferences: { min_healthy_percentage: 100, max_healthy_percentage: 200, skip_matching: true, instance_warmup: '120' },
      });
      expect(synth.doc.output.roll_command!.value).toBe(
        'aws autoscaling start-instance-refresh --auto-scaling-group-name provider-fleet-example-fleet --strategy Rolling --preferences \'{"MinHealthyPercentage":100,"MaxHealthyPercentage":200,"InstanceWarmup":120,"SkipMatching":false}\' --region eu-west-2',
      );
    });

    it('deploys in place and patches one host at a time, finding the hosts by their fleet tag', () => {
      const associations = Object.values(resources(synth.doc, 'aws_ssm_association')) as { name: string; targets: unknown; max_concurrency?: string; max_errors?: string }[];
      expect(associations).toHaveLength(2);
      for (const association of associations) {
        expect(association.targets).toEqual([{ key: 'tag:ProviderHostFleet', values: ['provider-fleet-example'] }]);
        expect(association).toMatchObject({ max_concurrency: '1', max_errors: '0' });
      }
      const template = one(synth.doc, 'aws_launch_template') as { tag_specifications: { resource_type: string; tags: Record<string, string> }[] };
      expect(template.tag_specifications.find((t) => t.resource_type === 'instance')!.tags).toMatchObject({ ProviderHostFleet: 'provider-fleet-example', Environment: 'fleet-example' });
    });
  });

  describe('DNS', () => {
    it('publishes A (and AAAA with ipv6) as aliases of the load balancer, evaluating its health', () => {
      const lbId = Object.keys(resources(synth.doc, 'aws_lb'))[0];
      const alias = { name: `\${aws_lb.${lbId}.dns_name}`, zone_id: `\${aws_lb.${lbId}.zone_id}`, evaluate_target_health: true };
      expect(resources(synth.doc, 'aws_route53_record').dns_a).toMatchObject({ type: 'A', alias });
      expect(resources(synth.doc, 'aws_route53_record').dns_a!.records).toBeUndefined();
      expect(resources(synth.doc, 'aws_route53_record').dns_aaaa).toBeUndefined();
      const dual = synthStack(fleetConfig({ instance: { ipv6: true } })).doc;
      expect(resources(dual, 'aws_route53_record').dns_aaaa).toMatchObject({ type: 'AAAA', alias });
    });

    it('lets the CAA record\'s account binding allow dns-01, the fleet\'s challenge', () => {
      const { doc } = synthStack(fleetConfig({ acme: { email: 'ops@example.org', staging: true, caaAccountUri: 'https://acme-staging-v02.api.letsencrypt.org/acme/acct/1' } }));
      expect((resources(doc, 'aws_route53_record').dns_caa!.records as string[])[0]).toBe('0 issue "letsencrypt.org; accounturi=https://acme-staging-v02.api.letsencrypt.org/acme/acct/1; validationmethods=dns-01"');
    });
  });

  describe('the host\'s permissions and settings in fleet mode', () => {
    it('may change only the _acme-challenge TXT record of the domain, in exactly the hosted zone, and read change status', () => {
      const zone = '${data.aws_route53_zone.fleet-zone.zone_id}';
      const write = hostStatements(synth.doc).find((s) => s.sid === 'WriteAcmeChallengeRecord')!;
      expect(write).toMatchObject({ effect: 'Allow', actions: ['route53:ChangeResourceRecordSets'], resources: [`arn:\${data.aws_partition.partition.partition}:route53:::hostedzone/${zone}`] });
      const byVariable = (variable: string) => write.condition!.filter((c) => c.variable === variable).map((c) => [c.test, c.values]);
      expect(byVariable('route53:ChangeResourceRecordSetsNormalizedRecordNames')).toEqual([['ForAllValues:StringEquals', ['_acme-challenge.fleet-example.energydata.org.uk']], ['Null', ['false']]]);
      expect(byVariable('route53:ChangeResourceRecordSetsRecordTypes')).toEqual([['ForAllValues:StringEquals', ['TXT']], ['Null', ['false']]]);
      expect(byVariable('route53:ChangeResourceRecordSetsActions')).toEqual([['ForAllValues:StringEquals', ['UPSERT', 'DELETE']], ['Null', ['false']]]);
      expect(hostStatements(synth.doc).find((s) => s.sid === 'ReadChallengeChangeStatus')).toMatchObject({ actions: ['route53:GetChange'], resources: ['arn:${data.aws_partition.partition.partition}:route53:::change/*'] });
      expect(hostStatements(synth.doc).flatMap((s) => s.actions ?? []).filter((a) => a.startsWith('route53:')).sort()).toEqual(['route53:ChangeResourceRecordSets', 'route53:GetChange']);
    });

    it('may write the certificate backup and take and release the renewal lock, nothing more', () => {
      const bucket = '${aws_s3_bucket.data_bucket.arn}';
      const statements = hostStatements(synth.doc);
      expect(statements.find((s) => s.sid === 'WriteCertificateBackup')!.resources).toContain(`${bucket}/${BUCKET_LAYOUT.letsencryptLockKey}`);
      expect(statements.find((s) => s.sid === 'ReleaseRenewalLock')).toMatchObject({ actions: ['s3:DeleteObject'], resources: [`${bucket}/${BUCKET_LAYOUT.letsencryptLockKey}`] });
    });

    it('tells the host it is one of a fleet and which zone holds its challenge record', () => {
      const value = (one(synth.doc, 'aws_ssm_parameter').value as string)
        .replace('${aws_s3_bucket.data_bucket.bucket}', 'provider-fleet-example-bucket')
        .replace('${data.aws_route53_zone.fleet-zone.zone_id}', 'Z0123456789ABCDEFGHIJ');
      const settings = decodeHostEnv(value);
      expect(settings.fleet).toBe(true);
      expect(settings.hostedZoneId).toBe('Z0123456789ABCDEFGHIJ');
    });

    it('alarms when fewer than minSize hosts pass the health check, and has no per-instance alarm', () => {
      const alarms = Object.values(resources(synth.doc, 'aws_cloudwatch_metric_alarm')) as { alarm_name: string; namespace: string; dimensions?: Record<string, string>; threshold: number; comparison_operator: string; metric_name: string }[];
      expect(alarms.find((a) => a.alarm_name === 'provider-fleet-example-fleet-healthy-hosts')).toMatchObject({ namespace: 'AWS/NetworkELB', metric_name: 'HealthyHostCount', threshold: 2, comparison_operator: 'LessThanThreshold' });
      expect(alarms.filter((a) => a.dimensions?.InstanceId !== undefined)).toEqual([]);
    });

    it('the fleet alarm\'s runbook exists in docs/fleet.md', () => {
      const alarm = Object.values(resources(synth.doc, 'aws_cloudwatch_metric_alarm')).find((a) => a.alarm_name === 'provider-fleet-example-fleet-healthy-hosts') as { alarm_description: string };
      const anchor = /Runbook: docs\/fleet\.md#([a-z-]+)$/.exec(alarm.alarm_description)![1]!;
      expect(fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'fleet.md'), 'utf8')).toMatch(new RegExp(`^#+ ${anchor}$`, 'm'));
    });
  });

  it('outputs the load balancer, the group and the roll command', () => {
    expect(Object.keys(synth.doc.output)).toEqual(expect.arrayContaining(['load_balancer_name', 'load_balancer_dns_name', 'autoscaling_group_name', 'roll_command', 'list_hosts_command']));
    expect(synth.doc.output).not.toHaveProperty('public_ip');
    expect(synth.doc.output.autoscaling_group_name!.value).toMatch(/^\$\{aws_autoscaling_group\./);
  });
});

describe('single mode is left as it was', () => {
  it('has no fleet resource, no Route53 permission, no fleet host setting', () => {
    const { doc } = synthStack(exampleConfig());
    for (const type of ['aws_lb', 'aws_lb_target_group', 'aws_lb_listener', 'aws_autoscaling_group', 'aws_launch_template']) expect(resources(doc, type)).toEqual({});
    expect(Object.keys(resources(doc, 'aws_eip'))).toEqual(['public_ip']);
    expect(hostStatements(doc).flatMap((s) => s.actions ?? []).filter((a) => a.startsWith('route53:'))).toEqual([]);
    expect(one(doc, 'aws_ssm_parameter').value).not.toMatch(/PH_FLEET|PH_HOSTED_ZONE_ID/);
    expect((resources(doc, 'aws_route53_record').dns_a as { records: string[] }).records).toEqual(['${aws_eip.public_ip.public_ip}']);
  });
});

describe('config: mode and fleet', () => {
  it('defaults to single mode with no fleet; fleet mode fills every default', () => {
    const single = exampleConfig();
    expect(single.mode).toBe('single');
    expect(single.fleet).toBeUndefined();
    const fleet = fleetConfig({ fleet: {} });
    expect(fleet.fleet).toEqual({
      minSize: 2, maxSize: 4, desiredCapacity: 2, deregistrationDelaySeconds: 60,
      healthCheck: { intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
      instanceRefresh: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmupSeconds: 120 },
    });
    expect(parseEnvironment({ ...fleetDocument(), fleet: undefined }, FLEET_FILE).fleet?.minSize).toBe(2);
  });

  it.each([
    [{ fleet: { minSize: 1 } }, 'fleet.minSize: 1 is too low; use an integer from 2 to 100'],
    [{ fleet: { minSize: 3, maxSize: 2 } }, 'fleet.maxSize: 2 is below minSize (3); use at least 3'],
    [{ fleet: { desiredCapacity: 5 } }, 'fleet.desiredCapacity: 5 is outside minSize..maxSize (2..4); use a number in that range or omit it'],
    [{ fleet: { subnetIds: ['subnet-0123456789abcdef0'] } }, expect.stringMatching(/^fleet\.subnetIds: needs at least two subnets, in two different availability zones/)],
    [{ fleet: { subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef0'] } }, expect.stringMatching(/^fleet\.subnetIds.*"subnet-0123456789abcdef0" is listed twice/)],
    [{ fleet: { subnetIds: ['subnet-1', 'subnet-0123456789abcdef0'] } }, expect.stringMatching(/^fleet\.subnetIds\[0\]: "subnet-1" is not a subnet id/)],
    [{ fleet: { availabilityZones: ['eu-west-2a', 'us-east-1b'] } }, 'fleet.availabilityZones[1]: "us-east-1b" is a zone of us-east-1, but region is "eu-west-2"; use zones of eu-west-2 (e.g. "eu-west-2a")'],
    [{ fleet: { availabilityZones: ['eu-west-2a', 'eu-west-2b'], subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'] } }, 'fleet.availabilityZones: is for the default VPC\'s subnets; with subnetIds the subnets choose the zones: remove one of the two (got ["eu-west-2a","eu-west-2b"])'],
    [{ fleet: { healthCheck: { intervalSeconds: 5, timeoutSeconds: 6 } } }, 'fleet.healthCheck.timeoutSeconds: 6 s is longer than intervalSeconds (5 s): a check would still be waiting when the next starts; use at most 5'],
    [{ fleet: { healthCheck: { unhealthyThreshold: 11 } } }, 'fleet.healthCheck.unhealthyThreshold: 11 is too high; use an integer from 2 to 10'],
    [{ fleet: { instanceRefresh: { minHealthyPercentage: 50, maxHealthyPercentage: 200 } } }, 'fleet.instanceRefresh.maxHealthyPercentage: 200 is more than 100 above minHealthyPercentage (50), which Auto Scaling refuses; use at most 150'],
    [{ fleet: { instanceRefresh: { maxHealthyPercentage: 100 } } }, expect.stringMatching(/^fleet\.instanceRefresh\.maxHealthyPercentage: is 100 with minHealthyPercentage 100/)],
    [{ fleet: { deregistrationDelaySeconds: 3601 } }, 'fleet.deregistrationDelaySeconds: 3601 is too high; use an integer from 0 to 3600'],
    [{ fleet: { size: 2 } }, expect.stringMatching(/^fleet: .*"size"/)],
    [{ mode: 'cluster' }, 'mode: "cluster" is not a mode; use "single" (one host, the default) or "fleet" (an Auto Scaling group behind a Network Load Balancer)'],
    [{ instance: { type: 't4g.small', subnetId: 'subnet-0123456789abcdef0' } }, 'instance.subnetId: places the single host; in fleet mode give the subnets (at least two zones) as fleet.subnetIds and remove instance.subnetId (got "subnet-0123456789abcdef0")'],
    [{ operations: { notify: { emails: ['ops@example.com'] }, report: { enabled: true } } }, expect.stringMatching(/^operations\.report\.enabled: is not available in fleet mode yet: each host would mail a report of its own logs only/)],
    [{ namePrefix: 'internal-api' }, expect.stringMatching(/^namePrefix: load balancer name "internal-api-nlb" may not begin with "internal-"/)],
  ])('refuses %j, naming the field and the fix', (override, message) => {
    expect(problems(override as Record<string, unknown>)).toEqual([message]);
  });

  it('refuses a fleet block in single mode', () => {
    expect(problems({ mode: 'single' })).toEqual(['mode: is "single" but a fleet block is given; set mode: fleet to run a fleet, or remove the fleet block']);
    const { mode: _mode, ...withoutMode } = fleetDocument();
    expect(problems({}, () => withoutMode)).toEqual(['mode: is "single" but a fleet block is given; set mode: fleet to run a fleet, or remove the fleet block']);
  });

  it('the launch template and the group refuse tags their services would refuse, even without the config schema', () => {
    const stack = new TerraformStack(Testing.app(), 'guards');
    const common = { namePrefix: 'provider-x', instanceType: 't4g.small', architecture: 'arm64' as const, rootVolumeGiB: 20, ipv6: false, securityGroupId: 'sg-1', instanceProfileName: 'p', userDataBase64: '' };
    expect(() => new FleetLaunchTemplate(stack, 'lt', { ...common, name: 'provider-x-host', tags: { Owner: 'x'.repeat(256) } })).toThrow(/tag "Owner" = "x+" is 256 characters long; a tag value may have at most 255 on EC2/);
    const group = { name: 'provider-x-fleet', namePrefix: 'provider-x', launchTemplateId: 'lt-1', launchTemplateVersion: 1, subnetIds: ['s1', 's2'], targetGroupArns: [], fleet: fleetConfig().fleet!, deployHashes: { bundle: 'a', data: 'b', public: 'c', trust: 'd' }, deployDependsOn: [], bootDependsOn: [] };
    expect(() => new FleetGroup(stack, 'group', { ...group, tags: { 'Cost(centre)': 'x' } })).toThrow(/tag key "Cost\(centre\)" is not a valid tag key: "\(" and "\)" are not allowed/);
    expect(() => new FleetGroup(stack, 'group-ok', { ...group, tags: { Owner: 'data-team' } })).not.toThrow();
  });

  it('checks every fleet name against ELB\'s rules (32 characters, letters, digits, hyphens, no "internal-")', () => {
    expect(elbNameProblem('load balancer', 'a'.repeat(33))).toMatch(/33 characters; AWS allows 1-32/);
    expect(elbNameProblem('target group', 'a_b')).toMatch(/only letters, digits and hyphens/);
    expect(elbNameProblem('target group', 'ab-')).toMatch(/begin or end with a hyphen/);
    expect(elbNameProblem('target group', 'internal-ok')).toBeUndefined();
    expect(fleetNameProblems('provider-a-very-long-name')).toEqual([]);
    expect(fleetNameProblems('internal-x')).toEqual(['load balancer name "internal-x-nlb" may not begin with "internal-" (AWS reserves it for internal load balancers\' DNS names)']);
  });
});
