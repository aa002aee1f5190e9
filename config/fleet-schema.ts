/**
 * Fleet mode (docs/fleet.md): the same host on an Auto Scaling group across at least two
 * availability zones behind a Network Load Balancer that passes TLS through to each
 * host's nginx. `mode` chooses; the `fleet:` block sizes the group, places it, and tunes
 * the health check and the rolling replacement. Validated here once; the constructs in
 * stacks/constructs/fleet/ take the typed result.
 *
 * Ranges are AWS's own (Elastic Load Balancing CreateTargetGroup / ModifyTargetGroupAttributes,
 * Auto Scaling StartInstanceRefresh RefreshPreferences), so a value `terraform plan` accepts
 * but the API would refuse half-way through an apply is refused here with its field.
 */
import { z } from 'zod';
import { count, show } from '../contract/rules';
import { fleetNameProblems } from '../stacks/constructs/fleet/names';

export const MODES = ['single', 'fleet'] as const;
export type Mode = (typeof MODES)[number];

export const mode = z
  .enum(MODES, { error: (i) => `${show(i.input)} is not a mode; use "single" (one host, the default) or "fleet" (an Auto Scaling group behind a Network Load Balancer)` })
  .default('single')
  .describe('"single": one EC2 host with an Elastic IP (the default). "fleet": an Auto Scaling group across at least two availability zones behind a Network Load Balancer passing TLS through to each host\'s nginx (docs/fleet.md); configured by `fleet`.');

export const FLEET_DEFAULTS = {
  minSize: 2,
  healthCheck: { intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
  deregistrationDelaySeconds: 60,
  instanceRefresh: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmupSeconds: 120 },
} as const;

const SUBNET_ID_RE = /^subnet-[0-9a-f]{8,17}$/;
/** An availability zone name: its region's code and one letter (eu-west-2a). */
export const AZ_NAME_RE = /^([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d)[a-z]$/;

const unique = (field: string) => (values: readonly string[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) ctx.addIssue({ code: 'custom', input: value, message: `${show(value)} is listed twice; give each ${field} once` });
    seen.add(value);
  }
};

const healthCheck = z
  .strictObject({
    intervalSeconds: count('seconds', 5, 300)
      .default(FLEET_DEFAULTS.healthCheck.intervalSeconds)
      .describe('Seconds between two health checks of one host (HTTPS GET /ping on port 443, which nginx answers without a client certificate). With `unhealthyThreshold` it bounds how long a dead host keeps receiving new connections.'),
    timeoutSeconds: count('seconds', 2, 120)
      .default(FLEET_DEFAULTS.healthCheck.timeoutSeconds)
      .describe('Seconds without an answer after which one check fails; at most `intervalSeconds`.'),
    healthyThreshold: count('checks', 2, 10)
      .default(FLEET_DEFAULTS.healthCheck.healthyThreshold)
      .describe('Consecutive passed checks before a host receives traffic (a new host, or one that recovered).'),
    unhealthyThreshold: count('checks', 2, 10)
      .default(FLEET_DEFAULTS.healthCheck.unhealthyThreshold)
      .describe('Consecutive failed checks before a host stops receiving new connections and the group replaces it.'),
  })
  .prefault({})
  .superRefine((value, ctx) => {
    if (value.timeoutSeconds > value.intervalSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeoutSeconds'],
        input: value.timeoutSeconds,
        message: `${value.timeoutSeconds} s is longer than intervalSeconds (${value.intervalSeconds} s): a check would still be waiting when the next starts; use at most ${value.intervalSeconds}`,
      });
    }
  })
  .describe("The load balancer's health check of each host.");

const instanceRefresh = z
  .strictObject({
    minHealthyPercentage: count('percent', 0, 100)
      .default(FLEET_DEFAULTS.instanceRefresh.minHealthyPercentage)
      .describe('Share of the desired capacity that stays in service during a rolling replacement. 100 (default): a new host is launched and healthy before an old one is terminated, so capacity never drops.'),
    maxHealthyPercentage: count('percent', 100, 200)
      .default(FLEET_DEFAULTS.instanceRefresh.maxHealthyPercentage)
      .describe('How far above the desired capacity the group may go while replacing (100-200, at most 100 above minHealthyPercentage). 200 (default): it may double during a roll.'),
    instanceWarmupSeconds: count('seconds', 0, 3600)
      .default(FLEET_DEFAULTS.instanceRefresh.instanceWarmupSeconds)
      .describe('After a new host passes its health check, seconds the roll waits before counting it and moving on to the next host.'),
  })
  .prefault({})
  .superRefine((value, ctx) => {
    if (value.maxHealthyPercentage - value.minHealthyPercentage > 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxHealthyPercentage'],
        input: value.maxHealthyPercentage,
        message: `${value.maxHealthyPercentage} is more than 100 above minHealthyPercentage (${value.minHealthyPercentage}), which Auto Scaling refuses; use at most ${value.minHealthyPercentage + 100}`,
      });
    }
    if (value.minHealthyPercentage === 100 && value.maxHealthyPercentage === 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxHealthyPercentage'],
        input: value.maxHealthyPercentage,
        message: 'is 100 with minHealthyPercentage 100: the roll could neither launch a host first nor terminate one; use 200 (launch before terminating, the default) or lower minHealthyPercentage',
      });
    }
  })
  .describe('Rolling replacement (EC2 Auto Scaling instance refresh) when the launch template changes, or on the roll command.');

export const fleetSchema = z
  .strictObject({
    minSize: count('hosts', 2, 100)
      .default(FLEET_DEFAULTS.minSize)
      .describe('Fewest hosts in the group: at least 2, so that one host failing or being replaced never leaves the provider without one.'),
    maxSize: count('hosts', 2, 200)
      .optional()
      .describe('Most hosts in the group. Default: twice `minSize`.'),
    desiredCapacity: count('hosts', 2, 200)
      .optional()
      .describe('Hosts the group keeps running, from `minSize` to `maxSize`. Default: `minSize`.'),
    subnetIds: z
      .array(
        z.string().regex(SUBNET_ID_RE, { error: (i) => `${show(i.input)} is not a subnet id; use e.g. "subnet-0123456789abcdef0"` }),
        { error: (i) => `${show(i.input)} is not a list; use e.g. ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]` },
      )
      .min(2, { error: 'needs at least two subnets, in two different availability zones (the plan checks the zones); or omit it for the default VPC\'s subnets' })
      .superRefine(unique('subnet'))
      .optional()
      .describe('Public subnets of one VPC, in at least two availability zones (checked when Terraform plans), for the load balancer and the hosts. Omitted: the default VPC\'s default subnets (one per zone, looked up at plan time), narrowed to `availabilityZones` when given.'),
    availabilityZones: z
      .array(
        z.string().regex(AZ_NAME_RE, { error: (i) => `${show(i.input)} is not an availability zone name; use e.g. "eu-west-2a"` }),
        { error: (i) => `${show(i.input)} is not a list; use e.g. ["eu-west-2a", "eu-west-2b"]` },
      )
      .min(2, { error: 'needs at least two availability zones; e.g. ["eu-west-2a", "eu-west-2b"], or omit it for every zone of the region' })
      .superRefine(unique('availability zone'))
      .optional()
      .describe('With the default VPC: the zones to use (at least two), e.g. ["eu-west-2a", "eu-west-2b"]. Omitted: every zone with a default subnet.'),
    healthCheck,
    deregistrationDelaySeconds: count('seconds', 0, 3600)
      .default(FLEET_DEFAULTS.deregistrationDelaySeconds)
      .describe('Seconds a host leaving the group (scale-in, roll, replacement) keeps its open connections before the load balancer closes them.'),
    instanceRefresh,
  })
  .superRefine((value, ctx) => {
    if (value.subnetIds !== undefined && value.availabilityZones !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['availabilityZones'], input: value.availabilityZones, message: 'is for the default VPC\'s subnets; with subnetIds the subnets choose the zones: remove one of the two' });
    }
    const maxSize = value.maxSize ?? value.minSize * 2;
    if (maxSize < value.minSize) {
      ctx.addIssue({ code: 'custom', path: ['maxSize'], input: value.maxSize, message: `${maxSize} is below minSize (${value.minSize}); use at least ${value.minSize}` });
    }
    const desired = value.desiredCapacity ?? value.minSize;
    if (maxSize >= value.minSize && (desired < value.minSize || desired > maxSize)) {
      ctx.addIssue({ code: 'custom', path: ['desiredCapacity'], input: value.desiredCapacity, message: `${desired} is outside minSize..maxSize (${value.minSize}..${maxSize}); use a number in that range or omit it` });
    }
  })
  .transform((value) => {
    const maxSize = value.maxSize ?? value.minSize * 2;
    return { ...value, maxSize, desiredCapacity: value.desiredCapacity ?? value.minSize };
  })
  .describe('Fleet mode only (`mode: fleet`): the Auto Scaling group, where it runs, its health check and its rolling replacement (docs/fleet.md).');

export type FleetConfig = z.output<typeof fleetSchema>;

/** What fleet mode adds to the environment's cross-field checks (config/schema.ts calls it). */
export interface FleetEnvironmentView {
  readonly mode: Mode;
  readonly fleet?: { readonly availabilityZones?: readonly string[] | undefined } | undefined;
  readonly region: string;
  readonly instance: { readonly subnetId?: string | undefined };
  /** As written (undefined: derived from `name`). */
  readonly namePrefix?: string | undefined;
  readonly operations?: { readonly report?: { readonly enabled?: boolean | undefined } | undefined } | undefined;
}

export interface FleetIssue {
  readonly path: (string | number)[];
  readonly input: unknown;
  readonly message: string;
}

/**
 * The checks between `mode`, `fleet` and the rest of the file: a fleet block in single
 * mode, a single-host subnet in fleet mode, zones of another region, load balancer names
 * AWS would refuse.
 */
export function fleetEnvironmentIssues(value: FleetEnvironmentView, resolvedNamePrefix: string): FleetIssue[] {
  const issues: FleetIssue[] = [];
  if (value.mode === 'single') {
    if (value.fleet !== undefined) {
      issues.push({ path: ['mode'], input: value.mode, message: 'is "single" but a fleet block is given; set mode: fleet to run a fleet, or remove the fleet block' });
    }
    return issues;
  }
  if (value.instance.subnetId !== undefined) {
    issues.push({
      path: ['instance', 'subnetId'],
      input: value.instance.subnetId,
      message: 'places the single host; in fleet mode give the subnets (at least two zones) as fleet.subnetIds and remove instance.subnetId',
    });
  }
  for (const [index, zone] of (value.fleet?.availabilityZones ?? []).entries()) {
    const zoneRegion = AZ_NAME_RE.exec(zone)?.[1];
    if (zoneRegion !== undefined && zoneRegion !== value.region) {
      issues.push({ path: ['fleet', 'availabilityZones', index], input: zone, message: `${show(zone)} is a zone of ${zoneRegion}, but region is ${show(value.region)}; use zones of ${value.region} (e.g. "${value.region}a")` });
    }
  }
  // The daily report is built from one host's own logs: each host of a fleet would mail a
  // report of only its share of the traffic, and overwrite the others' in the bucket.
  if (value.operations?.report?.enabled === true) {
    issues.push({
      path: ['operations', 'report', 'enabled'],
      input: true,
      message: "is not available in fleet mode yet: each host would mail a report of its own logs only; use the CloudWatch Logs Insights queries of docs/operations.md for the fleet's traffic, or set it to false",
    });
  }
  for (const problem of fleetNameProblems(resolvedNamePrefix)) {
    issues.push({
      path: [value.namePrefix !== undefined ? 'namePrefix' : 'name'],
      input: resolvedNamePrefix,
      message: `${problem}: the fleet's names are "<namePrefix>-nlb", "-https", "-http", "-fleet"; choose a namePrefix that gives valid ones`,
    });
  }
  return issues;
}

/** The fleet configuration of a validated environment: defaults in fleet mode, none in single mode. */
export function resolveFleet(value: { readonly mode: Mode; readonly fleet?: FleetConfig | undefined }): FleetConfig | undefined {
  if (value.mode !== 'fleet') return undefined;
  return value.fleet ?? fleetSchema.parse({});
}
