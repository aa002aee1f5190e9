/**
 * The environment configuration: one file per environment, validated once here and
 * typed everywhere after. Every field is described (`.describe()`): the descriptions
 * feed the generated reference in docs/stack.md.
 *
 * Error messages name the value and what would be accepted; the loader prefixes the
 * field path. Values that reach the host's env file (stacks/constructs/host-config.ts) are
 * restricted to shell-safe characters so that the file can be sourced unquoted.
 */
import { z } from 'zod';
import { HOST_SETTINGS } from '../contract/host-settings';
import * as rule from '../contract/rules';
import { DEFAULT_DOMAIN, DEFAULT_ISSUER, FQDN_RE, fqdn, httpsUrl, region, show, ssmName } from '../contract/rules';
import { architectureOfInstanceType, type Architecture } from './instance-architecture';
import { closestInstanceTypes, knownInstanceTypes } from './instance-types';
import { STRICTEST_TAG_RULE, TAG_CHARSET_TEXT, tagKeyProblems, tagValueProblems } from '../stacks/lib/aws-tag-rules';
import { DEFAULT_PATCH_SCHEDULE, iamRoleArnProblem, ssmScheduleProblem } from '../stacks/lib/aws-name-rules';
import { profileProblems, trustFrameworkSchema } from './trust-framework';
import { operationsSchema, reportProblems } from './operations-schema';
import { fleetEnvironmentIssues, fleetSchema, mode, resolveFleet } from './fleet-schema';

export { DEFAULT_DOMAIN, DEFAULT_ISSUER };
export const DEFAULT_INSTANCE_TYPE = 't4g.small';
/** The PM2 version the tests run against (package.json); the host installs the same. */
export const DEFAULT_PM2_VERSION = '7.0.4';


/** The defaults derived from `name` (and `ssmPrefix`), applied by the schema's transform. */
export const defaultNamePrefix = (name: string): string => `provider-${name}`;
export const defaultSsmPrefix = (name: string): string => `/provider-host/${name}`;
export const defaultSecretParameter = (ssmPrefix: string, field: 'tlsCertParameter' | 'tlsKeyParameter'): string =>
  `${ssmPrefix}/${field === 'tlsCertParameter' ? 'transport-cert' : 'transport-key'}`;

// One rule with the host contract's `environment` (the metrics' Environment dimension).
const name = rule.environmentName;

const WORLD_CIDRS = new Set(['0.0.0.0/0', '::/0']);
const cidr = z
  .string()
  .refine((v) => !WORLD_CIDRS.has(v) && !/\/0$/.test(v), {
    error: (i) => `${show(i.input)} would open SSH to the whole internet; give the operators' own ranges (e.g. "203.0.113.0/24") or none and use SSM Session Manager`,
  })
  .refine((v) => z.cidrv4().safeParse(v).success || z.cidrv6().safeParse(v).success, {
    error: (i) => `${show(i.input)} is not an IPv4 or IPv6 CIDR; use e.g. "203.0.113.0/24" or "2001:db8::/48"`,
  });

const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

const hostedZone = z
  .strictObject({
    name: fqdn.optional().describe('Public Route53 hosted zone name (looked up at plan time), e.g. "energydata.org.uk". Give `name` or `id`.'),
    id: z
      .string()
      .regex(/^Z[A-Z0-9]{1,31}$/, { error: (i) => `${show(i.input)} is not a Route53 hosted zone id; use e.g. "Z0123456789ABCDEFGHIJ"` })
      .optional()
      .describe('Route53 hosted zone id, e.g. "Z0123456789ABCDEFGHIJ". Give `name` or `id`.'),
    allowOverwrite: z
      .boolean({ error: (i) => `${show(i.input)} is not a boolean; use true or false` })
      .default(false)
      .describe('Take over an A/AAAA record for `domain` that already exists in the zone (Terraform `allow_overwrite`). Default false: the deploy stops on an existing record instead of replacing it; `preflight` reports one before you deploy.'),
  })
  .refine((zone) => (zone.name === undefined) !== (zone.id === undefined), {
    error: 'give exactly one of "name" (e.g. "energydata.org.uk") or "id" (e.g. "Z0123456789ABCDEFGHIJ")',
  })
  .describe('The Route53 hosted zone that holds the record for `domain`.');

const instance = z
  .strictObject({
    type: z
      .string()
      .regex(INSTANCE_TYPE_RE, { error: (i) => `${show(i.input)} is not an EC2 instance type; use e.g. "${DEFAULT_INSTANCE_TYPE}"` })
      .refine((type) => !INSTANCE_TYPE_RE.test(type) || knownInstanceTypes().has(type), {
        error: (i) => {
          const near = closestInstanceTypes(String(i.input));
          return `${show(i.input)} is not an EC2 instance type AWS knows${near.length > 0 ? `; did you mean ${near.map(show).join(', ')}?` : `; use e.g. "${DEFAULT_INSTANCE_TYPE}"`} (list: @aws-sdk/client-ec2; a type newer than it needs a newer SDK)`;
        },
      })
      .default(DEFAULT_INSTANCE_TYPE)
      .describe('EC2 instance type. Graviton (arm64) types such as t4g.small are cheapest; the AMI architecture follows the type.'),
    architecture: z
      .enum(['arm64', 'x86_64'], { error: (i) => `${show(i.input)} is not an architecture; use "arm64" or "x86_64"` })
      .optional()
      .describe('Optional assertion of the CPU architecture; must match the instance type. Derived from the type when omitted.'),
    rootVolumeGiB: z
      .number({ error: (i) => `${show(i.input)} is not a number of GiB; use an integer from 8 to 1024` })
      .int({ error: (i) => `${show(i.input)} is not a whole number of GiB; use an integer from 8 to 1024` })
      .min(8, { error: (i) => `${show(i.input)} GiB is too small for AL2023; use an integer from 8 to 1024` })
      .max(1024, { error: (i) => `${show(i.input)} GiB is more than this single host needs; use an integer from 8 to 1024` })
      .default(20)
      .describe('Size of the encrypted gp3 root volume in GiB.'),
    subnetId: z
      .string()
      .regex(/^subnet-[0-9a-f]{8,17}$/, { error: (i) => `${show(i.input)} is not a subnet id; use e.g. "subnet-0123456789abcdef0" or omit it for the default VPC` })
      .optional()
      .describe('Public subnet to launch into. Omitted: the default VPC (AWS picks a default subnet).'),
    ipv6: z
      .boolean({ error: (i) => `${show(i.input)} is not a boolean; use true or false` })
      .default(false)
      .describe('Give the instance an IPv6 address and publish an AAAA record. The subnet must have an IPv6 CIDR.'),
  })
  .default({ type: DEFAULT_INSTANCE_TYPE, rootVolumeGiB: 20, ipv6: false })
  .superRefine((value, ctx) => {
    const derived = architectureOfInstanceType(value.type);
    if (value.architecture !== undefined && value.architecture !== derived) {
      ctx.addIssue({
        code: 'custom',
        path: ['architecture'],
        input: value.architecture,
        message: `"${value.architecture}" does not match instance type "${value.type}", which is ${derived}; use "${derived}" or omit it`,
      });
    }
  })
  .transform((value) => ({ ...value, architecture: architectureOfInstanceType(value.type) as Architecture }))
  .describe('The EC2 host.');

const admin = z
  .strictObject({
    sshKeyName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,255}$/, { error: (i) => `${show(i.input)} is not an EC2 key pair name; use letters, digits, ".", "_" and "-"` })
      .optional()
      .describe('Existing EC2 key pair for SSH. Omitted: no key; use SSM Session Manager.'),
    sshCidrs: z
      .array(cidr)
      .default([])
      .describe('CIDRs allowed to reach port 22. Empty (default): port 22 is closed. 0.0.0.0/0 and ::/0 are refused.'),
  })
  .default({ sshCidrs: [] })
  .describe('Administrator access. SSM Session Manager is always enabled.');

/** Let's Encrypt's ACME directories and the CAA identifier it checks (RFC 8659). */
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING_DIRECTORY = 'https://acme-staging-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_CAA_ISSUER = 'letsencrypt.org';
const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
};
const isLetsEncrypt = (url: string): boolean => /(^|\.)api\.letsencrypt\.org$/.test(hostOf(url) ?? '');

const acme = z
  .strictObject({
    email: rule.email.describe("Let's Encrypt account contact e-mail (expiry notices)."),
    staging: z
      .boolean({ error: (i) => `${show(i.input)} is not a boolean; use true or false` })
      .default(false)
      .describe("Use Let's Encrypt's staging environment (untrusted certificates, generous rate limits)."),
    server: httpsUrl.optional().describe('ACME directory URL overriding Let\'s Encrypt (production or staging).'),
    caaIssuer: fqdn
      .optional()
      .describe(
        `The CA's CAA identifier, the only issuer the CAA record for \`domain\` allows. Default "${LETS_ENCRYPT_CAA_ISSUER}" for Let's Encrypt (production or staging); required when \`acme.server\` is another CA (e.g. "sectigo.com"), refused when it contradicts a Let's Encrypt server.`,
      ),
    caaAccountUri: httpsUrl
      .optional()
      .describe(
        'ACME account URI (RFC 8657 `accounturi`, e.g. "https://acme-v02.api.letsencrypt.org/acme/acct/123456789"): the CAA record then allows issuance only to this account and only by `http-01` validation. Must belong to the ACME server in use. Omitted: any account of the CA.',
      ),
  })
  .superRefine((value, ctx) => {
    // Only between valid values: an invalid one has its own message already.
    if (value.server !== undefined && !httpsUrl.safeParse(value.server).success) return;
    if (value.caaAccountUri !== undefined && !httpsUrl.safeParse(value.caaAccountUri).success) return;
    const directory = value.server ?? (value.staging ? LETS_ENCRYPT_STAGING_DIRECTORY : LETS_ENCRYPT_DIRECTORY);
    if (!isLetsEncrypt(directory) && value.caaIssuer === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['caaIssuer'],
        input: value.caaIssuer,
        message: `is required: acme.server ${show(directory)} is not Let's Encrypt, so the CAA record needs that CA's CAA identifier; set acme.caaIssuer (e.g. "sectigo.com", from the CA's documentation)`,
      });
    }
    if (isLetsEncrypt(directory) && value.caaIssuer !== undefined && value.caaIssuer !== LETS_ENCRYPT_CAA_ISSUER) {
      ctx.addIssue({
        code: 'custom',
        path: ['caaIssuer'],
        input: value.caaIssuer,
        message: `${show(value.caaIssuer)} would forbid Let's Encrypt, which issues the certificate (${show(directory)}); use "${LETS_ENCRYPT_CAA_ISSUER}" or omit it`,
      });
    }
    const accountHost = value.caaAccountUri !== undefined ? hostOf(value.caaAccountUri) : undefined;
    if (accountHost !== undefined && accountHost !== hostOf(directory)) {
      ctx.addIssue({
        code: 'custom',
        path: ['caaAccountUri'],
        input: value.caaAccountUri,
        message: `${show(value.caaAccountUri)} is an account at ${accountHost}, but certificates come from ${show(directory)}: the CA would refuse to issue; use the account URI of that server (certbot: "account" in /etc/letsencrypt/accounts/${hostOf(directory) ?? '<server>'}/…/regr.json) or omit it`,
      });
    }
  })
  .transform((value) => ({
    ...value,
    /** Resolved: the CAA identifier the record allows. */
    caaIssuer: value.caaIssuer ?? LETS_ENCRYPT_CAA_ISSUER,
  }))
  .describe('Certificate issuance (certbot).');

const security = z
  .strictObject({
    operatorRoleArn: z
      .string({ error: (i) => `${show(i.input)} is not a string; use "arn:aws:iam::<account>:role/<name>"` })
      .superRefine((arn, ctx) => {
        const problem = iamRoleArnProblem(arn);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', input: arn, message: problem });
      })
      .optional()
      .describe(
        "IAM role of the operators who may read the certificate backup (`letsencrypt/`) and use the data bucket's KMS key through S3, besides the instance role. Omitted: only the instance role reads the backup; the account root keeps administering the key.",
      ),
  })
  .default({})
  .describe('Who may read what the host keeps in the bucket (the data KMS key and the bucket policy).');

const patching = z
  .strictObject({
    schedule: z
      .string({ error: (i) => `${show(i.input)} is not a string; use e.g. "${DEFAULT_PATCH_SCHEDULE}"` })
      .superRefine((expression, ctx) => {
        const problem = ssmScheduleProblem(expression);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', input: expression, message: problem });
      })
      .default(DEFAULT_PATCH_SCHEDULE)
      .describe('When Patch Manager installs updates on the host (`AWS-RunPatchBaseline`, Operation=Install): an SSM cron expression in UTC (six fields; waits for its first interval) or a rate expression (runs once at creation, too). Default: Sundays 04:00 UTC.'),
    rebootOption: z
      .enum(['RebootIfNeeded', 'NoReboot'], { error: (i) => `${show(i.input)} is not a reboot option; use "RebootIfNeeded" or "NoReboot"` })
      .default('RebootIfNeeded')
      .describe('Reboot after installing updates that need it (a minute or two down; PM2 and nginx come back at boot). "NoReboot" leaves a new kernel or glibc inactive until the next reboot.'),
  })
  .default({ schedule: DEFAULT_PATCH_SCHEDULE, rebootOption: 'RebootIfNeeded' })
  .describe('Scheduled operating-system patching (SSM Patch Manager).');

const revocation = z
  .strictObject({
    enabled: rule.bool
      .default(HOST_SETTINGS.revocation.default)
      .describe(
        'nginx checks every client certificate against its CA\'s CRL (ssl_crl) and refuses a revoked one. Fail closed: a CA whose CRL the host has not got, or whose CRL has expired, has its clients refused (the status warns `crlWarnHours` before). false: no CRL is checked; the deny list (`provider-host revoke`) still holds.',
      ),
    crlUrls: z
      .array(rule.crlUrl, { error: (i) => `${show(i.input)} is not a list; use e.g. ["http://crl.example.org/issuer.crl"]` })
      .max(20, { error: 'at most 20 CRL URLs' })
      .default([])
      .describe(
        "CRLs to fetch, http(s) URLs: one for each CA of the trust bundle whose CRL no certificate in the bundle names (a CA's own certificate names its parent's CRL, so the issuing CA's is usually needed here). Checked at synthesis when empty: every CA must then be covered by the bundle's distribution points.",
      ),
    fromTrustBundle: rule.bool
      .default(HOST_SETTINGS.crlFromBundle.default)
      .describe('Also fetch the CRL distribution points named in the trust bundle\'s certificates.'),
    refreshMinutes: rule.crlRefreshMinutes
      .default(HOST_SETTINGS.crlRefreshMinutes.default)
      .describe('How often the host fetches the CRLs (a systemd timer); a CA\'s revocation reaches nginx within this.'),
    warnHours: rule.crlWarnHours
      .default(HOST_SETTINGS.crlWarnHours.default)
      .describe("The host's revocation status turns to warning this many hours before a CRL's nextUpdate (the alarm reads it)."),
  })
  .prefault({})
  .describe('Revocation of client certificates: CRLs on a timer, and the operator\'s deny list (docs/host.md "Revocation").');

const oauth = z
  .strictObject({
    issuer: httpsUrl.default(DEFAULT_ISSUER).describe('Authorization server issuer URL; its discovery document gives the introspection endpoint.'),
    clientId: rule.clientId.describe("The provider's own OAuth client id at the authorization server (used for introspection)."),
    scope: rule.scope
      .optional()
      .describe('The scope an access token must carry to read datasets. Required in open-energy. In ib1 the Registry licence URL (https) a shared dataset requires unless its manifest entry names one; omitted: every shared dataset must name its licence.'),
  })
  .describe('OAuth 2 / FAPI settings of the resource server.');

const secrets = z
  .strictObject({
    tlsCertParameter: ssmName.optional().describe("SSM SecureString holding the provider's transport certificate (PEM). Default `<ssmPrefix>/transport-cert`."),
    tlsKeyParameter: ssmName.optional().describe("SSM SecureString holding the provider's transport private key (PEM). Default `<ssmPrefix>/transport-key`."),
    kmsKeyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, { error: (i) => `${show(i.input)} is not a KMS key ARN; use "arn:aws:kms:<region>:<account>:key/<id>" or omit it for the aws/ssm key` })
      .optional()
      .describe('Customer managed KMS key that encrypts the two SecureStrings. Omitted: the AWS managed aws/ssm key.'),
  })
  .default({})
  .describe('Secrets live in SSM Parameter Store, created out of band; Terraform never sees their values.');

const localPath = z.string().min(1, { error: (i) => `${show(i.input)} is an empty path; give a path relative to the config file` });

const content = z
  .strictObject({
    trustBundleFile: localPath.describe("PEM file of the trust framework's CA chain that client certificates must chain to (certificates only)."),
    datasetsDir: localPath.describe('Local folder of datasets (`<name>.csv`) this environment starts from: checked at synthesis, published with `provider-host publish <folder> --env <name>` (not by Terraform).'),
    publicDir: localPath.optional().describe('Local folder of static files, published to S3 `public/`. Optional.'),
  })
  .describe('Local files the stack publishes. Paths are relative to the config file.');

const app = z
  .strictObject({
    instances: rule.appInstances
      .default(HOST_SETTINGS.appInstances.default)
      .describe('PM2 cluster size of the provider app.'),
    nodeMajor: z
      .union([z.literal(20), z.literal(22), z.literal(24)], { error: (i) => `${show(i.input)} is not a Node.js major packaged by AL2023; use 20, 22 or 24` })
      .default(22)
      .describe('Node.js major version installed from the AL2023 repositories (`nodejs<major>`).'),
    pm2Version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, { error: (i) => `${show(i.input)} is not an exact version; use e.g. "${DEFAULT_PM2_VERSION}"` })
      .default(DEFAULT_PM2_VERSION)
      .describe('Exact PM2 version installed on the host with npm.'),
    authzCacheSeconds: rule.authzCacheSeconds
      .default(HOST_SETTINGS.authzCacheSeconds.default)
      .describe(
        "How long nginx may reuse the app's decision for the same client certificate, token and dataset (never past the token's exp or the certificate's notAfter); a revoked token or a stricter manifest takes effect this much later. 0: every dataset read asks the app.",
      ),
  })
  .default({
    instances: HOST_SETTINGS.appInstances.default,
    nodeMajor: 22,
    pm2Version: DEFAULT_PM2_VERSION,
    authzCacheSeconds: HOST_SETTINGS.authzCacheSeconds.default,
  })
  .describe('The provider app on the host.');

const storage = z
  .strictObject({
    retainOnDestroy: z
      .boolean({ error: (i) => `${show(i.input)} is not a boolean; use true or false` })
      .default(true)
      .describe('Refuse to destroy the data bucket (Terraform `prevent_destroy`). It is never emptied by Terraform either (`force_destroy = false`).'),
    noncurrentVersionDays: z
      .number({ error: (i) => `${show(i.input)} is not a number of days; use an integer from 1 to 3650` })
      .int({ error: (i) => `${show(i.input)} is not a whole number of days; use an integer from 1 to 3650` })
      .min(1, { error: (i) => `${show(i.input)} is too short; use an integer from 1 to 3650` })
      .max(3650, { error: (i) => `${show(i.input)} is too long; use an integer from 1 to 3650` })
      .default(90)
      .describe('Days that superseded object versions are kept before S3 expires them.'),
  })
  .default({ retainOnDestroy: true, noncurrentVersionDays: 90 })
  .describe('The data bucket.');

const backend = z
  .strictObject({
    s3: z
      .strictObject({
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: (i) => `${show(i.input)} is not an S3 bucket name; use 3-63 lower-case letters, digits, "." and "-"` })
          .describe('Existing S3 bucket for Terraform state.'),
        key: z
          .string()
          .regex(/^[A-Za-z0-9._\/-]+\.tfstate$/, { error: (i) => `${show(i.input)} is not a state object key; use e.g. "provider-host/example.tfstate"` })
          .describe('Object key of the state file.'),
        region: region.optional().describe('Region of the state bucket. Default: `region`.'),
        dynamodbTable: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: (i) => `${show(i.input)} is not a DynamoDB table name; use 3-255 letters, digits, "_", "." and "-"` })
          .optional()
          .describe('Optional DynamoDB table for state locking.'),
      })
      .describe('S3 remote state. State is encrypted at rest.'),
  })
  .optional()
  .describe('Terraform state backend. Omitted: local state file `terraform.<name>.tfstate`.');

/**
 * Tags reach every resource through the provider's default_tags, so each must be valid
 * on every service the stack tags (stacks/lib/aws-tag-rules.ts; the synthesized stack is
 * checked against the same rules per resource). Two more are added by the stack.
 */
export const STACK_TAG_KEYS = ['Environment', 'ManagedBy'] as const;
const MAX_OWN_TAGS = STRICTEST_TAG_RULE.maxTags - STACK_TAG_KEYS.length;
const tags = z
  .record(
    z.string().superRefine((key, ctx) => {
      for (const problem of tagKeyProblems(key, STRICTEST_TAG_RULE)) ctx.addIssue({ code: 'custom', input: key, message: `${show(key)} ${problem}` });
    }),
    z
      .string({ error: (i) => `${show(i.input)} is not a string; a tag value is text of at most ${STRICTEST_TAG_RULE.valueMaxChars} ${TAG_CHARSET_TEXT} (quote numbers in YAML, e.g. "42")` })
      .superRefine((value, ctx) => {
        for (const problem of tagValueProblems(value, STRICTEST_TAG_RULE)) ctx.addIssue({ code: 'custom', input: value, message: `${show(value)} ${problem}` });
      }),
  )
  .default({})
  .superRefine((value, ctx) => {
    const count = Object.keys(value).length;
    if (count > MAX_OWN_TAGS) {
      ctx.addIssue({ code: 'custom', input: value, message: `${count} tags; at most ${MAX_OWN_TAGS} (S3 objects take 10 tags and the stack adds ${STACK_TAG_KEYS.join(' and ')})` });
    }
    const clash = STACK_TAG_KEYS.filter((key) => Object.keys(value).some((k) => k.toLowerCase() === key.toLowerCase()));
    if (clash.length > 0) {
      ctx.addIssue({ code: 'custom', input: value, message: `${clash.map(show).join(' and ')} ${clash.length > 1 ? 'are' : 'is'} set by the stack; remove ${clash.length > 1 ? 'them' : 'it'} from tags` });
    }
  })
  .describe(
    `Tags added to every resource (besides ${STACK_TAG_KEYS.join(' and ')}), at most ${MAX_OWN_TAGS}. Keys: 1-${STRICTEST_TAG_RULE.keyMaxChars} characters, not starting with "aws:"; values: at most ${STRICTEST_TAG_RULE.valueMaxChars}; both ${TAG_CHARSET_TEXT}.`,
  );

export const environmentSchema = z
  .strictObject({
    name: name.describe(
      'Environment name; also the cdktf stack name and the Environment tag. Must differ from every other environment synthesized together; it derives the default `namePrefix` (IAM names: account-wide, all regions) and `ssmPrefix`.',
    ),
    namePrefix: name
      .optional()
      .describe('Prefix of AWS resource names (IAM role and instance profile, security group). Default: `provider-<name>`. IAM names are account-wide: no two environments in one account may share it, whatever their regions.'),
    region: region.default('eu-west-2').describe('AWS region of every resource.'),
    tags,
    domain: fqdn.default(DEFAULT_DOMAIN).describe('FQDN the provider serves; must lie inside the hosted zone when the zone is given by name.'),
    hostedZone,
    instance,
    mode,
    fleet: fleetSchema.optional(),
    admin,
    acme,
    oauth,
    secrets,
    security,
    patching,
    content,
    revocation,
    trustFramework: trustFrameworkSchema,
    app,
    storage,
    operations: operationsSchema.prefault({}),
    ssmPrefix: ssmName.optional().describe('Prefix of the SSM parameters (`<ssmPrefix>/host-config`, default secret names). Default: `/provider-host/<name>`. Unique per region among the environments.'),
    backend,
  })
  .superRefine((value, ctx) => {
    for (const problem of reportProblems(value.operations, value.domain)) ctx.addIssue({ code: 'custom', ...problem, path: ['operations', 'report', ...problem.path] });
    for (const problem of profileProblems(value)) ctx.addIssue({ code: 'custom', path: [...problem.path], input: problem.input, message: problem.message });
    for (const issue of fleetEnvironmentIssues(value, value.namePrefix ?? defaultNamePrefix(value.name))) ctx.addIssue({ code: 'custom', ...issue });
    const zone = value.hostedZone.name;
    // Only between two valid names: an invalid one has its own message already.
    if (zone === undefined || !FQDN_RE.test(zone) || !FQDN_RE.test(value.domain)) return;
    if (value.domain !== zone && !value.domain.endsWith(`.${zone}`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['domain'],
        input: value.domain,
        message: `"${value.domain}" is not inside hosted zone "${zone}"; use a name ending in ".${zone}" or change hostedZone.name`,
      });
    }
  })
  .transform((value) => {
    const ssmPrefix = value.ssmPrefix ?? defaultSsmPrefix(value.name);
    return {
      ...value,
      namePrefix: value.namePrefix ?? defaultNamePrefix(value.name),
      fleet: resolveFleet(value),
      ssmPrefix,
      secrets: {
        ...value.secrets,
        tlsCertParameter: value.secrets.tlsCertParameter ?? defaultSecretParameter(ssmPrefix, 'tlsCertParameter'),
        tlsKeyParameter: value.secrets.tlsKeyParameter ?? defaultSecretParameter(ssmPrefix, 'tlsKeyParameter'),
      },
    };
  });

/** The raw file shape (what an operator writes). */
export type EnvironmentInput = z.input<typeof environmentSchema>;
/** Validated, defaults applied; file paths still as written (see load.ts). */
export type ParsedEnvironment = z.output<typeof environmentSchema>;
