/**
 * AWS's tag rules, per service, and the check of a synthesized stack against them.
 *
 * `terraform plan` does not check tag characters or lengths; an apply does, one API at a
 * time, so a bad default tag lets the security group and the Elastic IP be created and
 * then stops at the IAM role. Checking every resource's effective tags (the provider's
 * default_tags merged with its own) at synthesis turns that into one error before
 * anything is created.
 *
 * Sources (API reference, "Tag" data type of each service):
 *   IAM  Key 1-128 `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`, Value 0-256 same set, 50 tags,
 *        keys case-insensitive (Env and env clash).
 *   SSM  Key 1-128, Value 0-256, same set; keys starting with "aws:" are reserved.
 *   S3   Key 1-128, Value 0-256, same set; 50 tags on a bucket, 10 on an object.
 *   EC2  Key 1-127, Value 0-255 (any characters), 50 tags, "aws:" reserved.
 *   KMS, SNS, CloudWatch, Logs, ELB, Auto Scaling, ACM, Route53: 1-128 / 0-256, same set.
 */

export interface TagRule {
  /** The service's name as its documentation spells it. */
  readonly service: string;
  readonly keyMaxChars: number;
  readonly valueMaxChars: number;
  /** Characters allowed in keys and values; undefined: any. */
  readonly charset?: RegExp;
  /** What `charset` allows, for messages. */
  readonly charsetText?: string;
  readonly maxTags: number;
  /** Keys that differ only by case clash (IAM). */
  readonly caseInsensitiveKeys: boolean;
}

/** The tag character set of IAM, SSM, S3 and most services. */
export const TAG_CHARSET = /^[\p{L}\p{Z}\p{N}_.:/=+@-]*$/u;
export const TAG_CHARSET_TEXT = 'letters (any script), digits, spaces and _ . : / = + - @';

const GENERAL = { keyMaxChars: 128, valueMaxChars: 256, charset: TAG_CHARSET, charsetText: TAG_CHARSET_TEXT, maxTags: 50, caseInsensitiveKeys: false } as const;

export const TAG_RULES = {
  iam: { service: 'IAM', ...GENERAL, caseInsensitiveKeys: true },
  ssm: { service: 'SSM', ...GENERAL },
  s3: { service: 'S3', ...GENERAL },
  s3Object: { service: 'S3 (objects)', ...GENERAL, maxTags: 10 },
  ec2: { service: 'EC2', keyMaxChars: 127, valueMaxChars: 255, maxTags: 50, caseInsensitiveKeys: false },
  other: { service: 'AWS (KMS, SNS, CloudWatch, ELB, Auto Scaling, ACM)', ...GENERAL },
} satisfies Record<string, TagRule>;

/**
 * What a value must satisfy to be valid on every service the stack tags: the
 * configuration's own tags are checked against it, so a bad one is reported with its
 * field before any resource is synthesized.
 */
export const STRICTEST_TAG_RULE: TagRule = {
  service: 'AWS',
  keyMaxChars: Math.min(...Object.values(TAG_RULES).map((r) => r.keyMaxChars)),
  valueMaxChars: Math.min(...Object.values(TAG_RULES).map((r) => r.valueMaxChars)),
  charset: TAG_CHARSET,
  charsetText: TAG_CHARSET_TEXT,
  maxTags: Math.min(...Object.values(TAG_RULES).map((r) => r.maxTags)),
  caseInsensitiveKeys: true,
};

/** The rule for a Terraform resource type (aws_iam_role → IAM, aws_instance → EC2, ...). */
export function tagRuleFor(resourceType: string): TagRule {
  if (resourceType.startsWith('aws_iam_')) return TAG_RULES.iam;
  if (resourceType.startsWith('aws_ssm_')) return TAG_RULES.ssm;
  if (resourceType === 'aws_s3_object') return TAG_RULES.s3Object;
  if (resourceType.startsWith('aws_s3_')) return TAG_RULES.s3;
  if (/^aws_(instance|eip|security_group|vpc_security_group_|launch_template|ebs_|network_interface|ec2_)/.test(resourceType)) return TAG_RULES.ec2;
  return TAG_RULES.other;
}

const length = (s: string): number => [...s].length;
const show = (s: string): string => JSON.stringify(s);

function refused(value: string, charset: RegExp): string {
  const bad = [...new Set([...value].filter((c) => !charset.test(c)))].map(show);
  return bad.length > 1 ? `${bad.slice(0, -1).join(', ')} and ${bad[bad.length - 1]} are` : `${bad[0]} is`;
}

/** Problems with one tag value under a rule, each reading after the value; [] when valid. */
export function tagValueProblems(value: string, rule: TagRule): string[] {
  const problems: string[] = [];
  if (length(value) > rule.valueMaxChars) problems.push(`is ${length(value)} characters long; a tag value may have at most ${rule.valueMaxChars} on ${rule.service}`);
  if (rule.charset && !rule.charset.test(value)) problems.push(`is not a valid tag value: ${refused(value, rule.charset)} not allowed by ${rule.service}; use ${rule.charsetText}`);
  return problems;
}

/** Problems with one tag key under a rule, each reading after the key; [] when valid. */
export function tagKeyProblems(key: string, rule: TagRule): string[] {
  const problems: string[] = [];
  if (length(key) < 1 || length(key) > rule.keyMaxChars) problems.push(`is ${length(key)} characters long; a tag key has 1 to ${rule.keyMaxChars} on ${rule.service}`);
  if (/^aws:/i.test(key)) problems.push('is not a valid tag key: the prefix "aws:" is reserved for AWS\'s own tags');
  if (rule.charset && !rule.charset.test(key)) problems.push(`is not a valid tag key: ${refused(key, rule.charset)} not allowed by ${rule.service}; use ${rule.charsetText}`);
  return problems;
}

/** Problems with a whole tag set (each tag, the count, case clashes), each naming `where`. */
export function tagSetProblems(tags: Readonly<Record<string, string>>, rule: TagRule, where: string): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(tags)) {
    for (const p of tagKeyProblems(key, rule)) problems.push(`${where}: tag key ${show(key)} ${p}`);
    for (const p of tagValueProblems(String(value), rule)) problems.push(`${where}: tag ${show(key)} = ${show(String(value))} ${p}`);
  }
  const count = Object.keys(tags).length;
  if (count > rule.maxTags) problems.push(`${where}: ${count} tags; ${rule.service} allows at most ${rule.maxTags} per resource (default tags included)`);
  if (rule.caseInsensitiveKeys) {
    const seen = new Map<string, string>();
    for (const key of Object.keys(tags)) {
      const other = seen.get(key.toLowerCase());
      if (other !== undefined) problems.push(`${where}: tag keys ${show(other)} and ${show(key)} differ only by case; ${rule.service} treats them as one key`);
      seen.set(key.toLowerCase(), key);
    }
  }
  return problems;
}

/**
 * Whether Terraform tags resources of this type (and so applies default_tags to them):
 * read from the provider's own generated class, which has `tagsAll` exactly when the
 * resource schema has tags. An unknown type counts as tagged (checked, not skipped).
 */
export function isTaggable(resourceType: string): boolean {
  const module = `@cdktf/provider-aws/lib/${resourceType.replace(/^aws_/, '').replace(/_/g, '-')}`;
  let exports: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(module) as Record<string, unknown>;
  } catch {
    return true;
  }
  const resourceClass = Object.values(exports).find(
    (e): e is { prototype: object } => typeof e === 'function' && (e as { tfResourceType?: string }).tfResourceType === resourceType,
  );
  return resourceClass === undefined || 'tagsAll' in resourceClass.prototype;
}

/** The parts of a synthesized stack's JSON this check reads. */
export interface TaggedTerraform {
  readonly provider?: { readonly aws?: readonly { readonly default_tags?: readonly { readonly tags?: Record<string, string> }[] }[] };
  readonly resource?: Readonly<Record<string, Readonly<Record<string, { readonly tags?: unknown }>>>>;
}

/** Terraform expressions (`${...}`) are resolved at apply time: not checked here. */
const isExpression = (value: unknown): boolean => typeof value === 'string' && value.includes('${');

/**
 * Every resource's effective tags (the provider's default_tags merged with its own)
 * against its service's rule. Returns one line per problem, naming the resource and the
 * tag; [] when the stack can be applied as far as tags go.
 */
export function synthesizedTagProblems(doc: TaggedTerraform): string[] {
  const defaults: Record<string, string> = {};
  for (const provider of doc.provider?.aws ?? []) {
    for (const block of provider.default_tags ?? []) Object.assign(defaults, block.tags ?? {});
  }
  const problems: string[] = [];
  for (const [type, resources] of Object.entries(doc.resource ?? {})) {
    if (!type.startsWith('aws_') || !isTaggable(type)) continue;
    for (const [name, body] of Object.entries(resources)) {
      const own = body.tags !== null && typeof body.tags === 'object' ? (body.tags as Record<string, string>) : {};
      const effective = Object.fromEntries(Object.entries({ ...defaults, ...own }).filter(([k, v]) => !isExpression(k) && !isExpression(v)));
      problems.push(...tagSetProblems(effective, tagRuleFor(type), `${type}.${name}`));
    }
  }
  return [...new Set(problems)];
}
