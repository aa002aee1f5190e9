import { STRICTEST_TAG_RULE, TAG_RULES, isTaggable, synthesizedTagProblems, tagRuleFor, tagSetProblems } from './aws-tag-rules';

describe("AWS's tag rules per service", () => {
  it('maps each resource type of the stack to its service', () => {
    expect(tagRuleFor('aws_iam_role')).toBe(TAG_RULES.iam);
    expect(tagRuleFor('aws_iam_instance_profile')).toBe(TAG_RULES.iam);
    expect(tagRuleFor('aws_ssm_parameter')).toBe(TAG_RULES.ssm);
    expect(tagRuleFor('aws_ssm_association')).toBe(TAG_RULES.ssm);
    expect(tagRuleFor('aws_s3_bucket')).toBe(TAG_RULES.s3);
    expect(tagRuleFor('aws_s3_object')).toBe(TAG_RULES.s3Object);
    expect(tagRuleFor('aws_instance')).toBe(TAG_RULES.ec2);
    expect(tagRuleFor('aws_eip')).toBe(TAG_RULES.ec2);
    expect(tagRuleFor('aws_vpc_security_group_ingress_rule')).toBe(TAG_RULES.ec2);
    expect(tagRuleFor('aws_sns_topic')).toBe(TAG_RULES.other);
  });

  it('knows from the provider which resources Terraform tags', () => {
    expect(isTaggable('aws_instance')).toBe(true);
    expect(isTaggable('aws_s3_object')).toBe(true);
    expect(isTaggable('aws_eip_association')).toBe(false);
    expect(isTaggable('aws_iam_role_policy_attachment')).toBe(false);
    expect(isTaggable('aws_route53_record')).toBe(false);
    // Unknown: checked rather than skipped.
    expect(isTaggable('aws_not_a_resource')).toBe(true);
  });

  it('IAM and SSM refuse parentheses, "$" and "#"; EC2 takes any character', () => {
    const tags = { ManagedBy: 'provider-host (cdktf)' };
    expect(tagSetProblems(tags, TAG_RULES.iam, 'r')).toEqual([
      'r: tag "ManagedBy" = "provider-host (cdktf)" is not a valid tag value: "(" and ")" are not allowed by IAM; use letters (any script), digits, spaces and _ . : / = + - @',
    ]);
    expect(tagSetProblems(tags, TAG_RULES.ssm, 'r')).toHaveLength(1);
    expect(tagSetProblems(tags, TAG_RULES.ec2, 'r')).toEqual([]);
    expect(tagSetProblems({ 'Équipe': 'données énergie: 2026/+=_.-@' }, TAG_RULES.iam, 'r')).toEqual([]);
  });

  it('lengths: IAM 128/256, EC2 127/255, counted in characters, not bytes', () => {
    expect(tagSetProblems({ k: 'é'.repeat(256) }, TAG_RULES.iam, 'r')).toEqual([]);
    expect(tagSetProblems({ k: 'é'.repeat(256) }, TAG_RULES.ec2, 'r')).toEqual(['r: tag "k" = "' + 'é'.repeat(256) + '" is 256 characters long; a tag value may have at most 255 on EC2']);
    expect(tagSetProblems({ ['k'.repeat(128)]: 'v' }, TAG_RULES.iam, 'r')).toEqual([]);
    expect(tagSetProblems({ ['k'.repeat(128)]: 'v' }, TAG_RULES.ec2, 'r')).toEqual([`r: tag key "${'k'.repeat(128)}" is 128 characters long; a tag key has 1 to 127 on EC2`]);
  });

  it('"aws:" keys are reserved; IAM keys differ by more than case; counts per resource', () => {
    expect(tagSetProblems({ 'AWS:x': 'v' }, TAG_RULES.s3, 'r')).toEqual(['r: tag key "AWS:x" is not a valid tag key: the prefix "aws:" is reserved for AWS\'s own tags']);
    expect(tagSetProblems({ Env: 'a', env: 'b' }, TAG_RULES.iam, 'r')).toEqual(['r: tag keys "Env" and "env" differ only by case; IAM treats them as one key']);
    expect(tagSetProblems({ Env: 'a', env: 'b' }, TAG_RULES.ec2, 'r')).toEqual([]);
    const eleven = Object.fromEntries([...Array(11)].map((_, i) => [`k${i}`, 'v']));
    expect(tagSetProblems(eleven, TAG_RULES.s3Object, 'r')).toEqual(['r: 11 tags; S3 (objects) allows at most 10 per resource (default tags included)']);
    expect(tagSetProblems(eleven, TAG_RULES.s3, 'r')).toEqual([]);
  });

  it('the strictest rule is the intersection of them all', () => {
    expect(STRICTEST_TAG_RULE).toMatchObject({ keyMaxChars: 127, valueMaxChars: 255, maxTags: 10, caseInsensitiveKeys: true });
  });
});

describe('synthesizedTagProblems', () => {
  const doc = (defaults: Record<string, string>, resource: Record<string, Record<string, { tags?: unknown }>>) => ({
    provider: { aws: [{ default_tags: [{ tags: defaults }] }] },
    resource,
  });

  it("merges the provider's default tags into every taggable resource and checks each against its service", () => {
    const problems = synthesizedTagProblems(
      doc({ Owner: 'a#b' }, { aws_iam_role: { host: {} }, aws_instance: { host: { tags: { Name: 'web' } } }, aws_eip_association: { a: {} } }),
    );
    expect(problems).toEqual(['aws_iam_role.host: tag "Owner" = "a#b" is not a valid tag value: "#" is not allowed by IAM; use letters (any script), digits, spaces and _ . : / = + - @']);
  });

  it("a resource's own tag overrides a default one, and Terraform expressions are left to apply time", () => {
    expect(synthesizedTagProblems(doc({ Name: 'bad(' }, { aws_iam_role: { host: { tags: { Name: 'good' } } } }))).toEqual([]);
    expect(synthesizedTagProblems(doc({}, { aws_ssm_parameter: { p: { tags: { Name: '${var.x}' } } } }))).toEqual([]);
  });

  it('counts default and own tags together', () => {
    const defaults = Object.fromEntries([...Array(9)].map((_, i) => [`k${i}`, 'v']));
    expect(synthesizedTagProblems(doc(defaults, { aws_s3_object: { o: { tags: { Name: 'x', Extra: 'y' } } } }))).toEqual([
      'aws_s3_object.o: 11 tags; S3 (objects) allows at most 10 per resource (default tags included)',
    ]);
  });
});
