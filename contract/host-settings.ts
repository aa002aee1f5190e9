/**
 * The host contract: every setting that crosses from the stack to the host and on to
 * nginx and the app, defined once — its host.env key, rule, default and description.
 *
 *   stack   encodeHostEnv(values)        → the host-config SSM parameter (host.env)
 *   host    host-render env              → decodeHostEnv: validated, defaults applied,
 *                                          printed for the bash scripts to export
 *   nginx   host-render site mtls        → nginx/sites.ts with these values
 *   app     host-render app-config       → provider.json, parsed by the app's own schema,
 *                                          whose shared fields use these same rules
 *   replica encodeHostEnv(values)        → its host.env
 *
 * The bash scripts hold no default for any of these: a setting added here appears
 * everywhere, and contract/host-contract.test.ts fails when a consumer disagrees.
 */
import { z } from 'zod';
import { BUCKET_LAYOUT } from './bucket-layout';
import { HOST_TIMING } from './host-timing';
import * as rule from './rules';

type Kind = 'string' | 'number' | 'boolean';

interface Setting<R extends z.ZodType> {
  /** The host.env key. */
  readonly env: `PH_${string}`;
  readonly rule: R;
  readonly kind: Kind;
  /** Absent: required (the stack always writes it). */
  readonly default?: string | number | boolean;
  /** May be left out (an empty value in host.env). */
  readonly optional?: boolean;
  readonly description: string;
}

// Keeps each entry's literal type (its rule, whether it has a default); that every
// default passes its own rule is a test (host-settings.test.ts).
const setting = <const S extends Setting<z.ZodType>>(s: S): S => s;

export const HOST_SETTINGS = {
  domain: setting({ env: 'PH_DOMAIN', rule: rule.fqdn, kind: 'string', description: 'The name the provider serves and certbot asks a certificate for.' }),
  region: setting({ env: 'PH_REGION', rule: rule.region, kind: 'string', description: 'AWS region of the bucket and the parameters.' }),
  environment: setting({ env: 'PH_ENVIRONMENT', rule: rule.environmentName, kind: 'string', optional: true, description: "The environment's name: the Environment dimension of the host's metrics and its log groups. Empty (a host config older than operations): no metrics published, no log shipping." }),
  bucket: setting({ env: 'PH_BUCKET', rule: rule.bucketName, kind: 'string', description: 'The data bucket (known at apply time).' }),
  bundleKey: setting({ env: 'PH_BUNDLE_KEY', rule: rule.s3Key, kind: 'string', description: 'S3 key of the host bundle, bundles/<hash>.zip.' }),
  trustBundleKey: setting({ env: 'PH_TRUST_BUNDLE_KEY', rule: rule.s3Key, kind: 'string', default: BUCKET_LAYOUT.trustBundleKey, description: "S3 key of the client-CA trust bundle nginx trusts." }),
  dataPrefix: setting({ env: 'PH_DATA_PREFIX', rule: rule.s3Prefix, kind: 'string', default: BUCKET_LAYOUT.data, description: 'S3 prefix of the datasets.' }),
  publicPrefix: setting({ env: 'PH_PUBLIC_PREFIX', rule: rule.s3Prefix, kind: 'string', default: BUCKET_LAYOUT.public, description: 'S3 prefix of the static files.' }),
  leBackupPrefix: setting({ env: 'PH_LE_BACKUP_PREFIX', rule: rule.s3Prefix, kind: 'string', default: BUCKET_LAYOUT.letsencrypt, description: 'S3 prefix of the certificate backup.' }),
  // Fleet mode (docs/fleet.md): one certificate for every host, obtained by DNS-01 and shared through the bucket.
  fleet: setting({ env: 'PH_FLEET', rule: rule.bool, kind: 'boolean', default: false, description: 'The host is one of a fleet behind a load balancer: the certificate is obtained by DNS-01 (Route53) once for all hosts, shared through the bucket, renewed by one host under an S3 lock.' }),
  hostedZoneId: setting({ env: 'PH_HOSTED_ZONE_ID', rule: rule.hostedZoneId, kind: 'string', optional: true, description: 'Route53 hosted zone of the domain, where a fleet host writes the _acme-challenge TXT record (required in fleet mode).' }),
  acmeEmail: setting({ env: 'PH_ACME_EMAIL', rule: rule.email, kind: 'string', optional: true, description: 'ACME account contact; empty: registered without e-mail.' }),
  acmeStaging: setting({ env: 'PH_ACME_STAGING', rule: rule.bool, kind: 'boolean', default: false, description: "Let's Encrypt staging instead of production." }),
  acmeServer: setting({ env: 'PH_ACME_SERVER', rule: rule.httpsUrl, kind: 'string', optional: true, description: "ACME directory overriding Let's Encrypt." }),
  issuer: setting({ env: 'PH_ISSUER', rule: rule.httpsUrl, kind: 'string', description: 'Authorization server issuer (discovery, introspection).' }),
  clientId: setting({ env: 'PH_CLIENT_ID', rule: rule.clientId, kind: 'string', description: "The provider's own client id at the authorization server." }),
  scope: setting({ env: 'PH_SCOPE', rule: rule.scope, kind: 'string', optional: true, description: 'The scope a token must carry to read datasets (ib1: the licence URL a shared dataset requires unless its manifest entry names one; may be absent there).' }),
  tlsCertParam: setting({ env: 'PH_TLS_CERT_PARAM', rule: rule.ssmName, kind: 'string', description: 'SecureString with the transport certificate.' }),
  tlsKeyParam: setting({ env: 'PH_TLS_KEY_PARAM', rule: rule.ssmName, kind: 'string', description: 'SecureString with the transport key.' }),
  appInstances: setting({ env: 'PH_APP_INSTANCES', rule: rule.appInstances, kind: 'number', default: 2, description: 'PM2 cluster size.' }),
  authzCacheSeconds: setting({
    env: 'PH_AUTHZ_CACHE_SECONDS', rule: rule.authzCacheSeconds, kind: 'number', default: 1,
    description: "How long nginx may reuse the app's decision for the same certificate, token and dataset.",
  }),
  // nginx's limits on the mTLS site (429 with nginx/errors/429.json beyond them; docs/host.md "Hardening (nginx)").
  rateLimitPerClient: setting({
    env: 'PH_RATE_LIMIT_PER_CLIENT', rule: rule.requestRate, kind: 'number', default: 500,
    description: 'Requests per second nginx accepts from one client certificate (limit_req, keyed by its SHA-1 fingerprint).',
  }),
  rateLimitPerAddress: setting({
    env: 'PH_RATE_LIMIT_PER_ADDRESS', rule: rule.requestRate, kind: 'number', default: 1000,
    description: 'Requests per second nginx accepts from one IP address, all certificates (and none) together.',
  }),
  rateLimitBurst: setting({
    env: 'PH_RATE_LIMIT_BURST', rule: rule.requestBurst, kind: 'number', default: 1000,
    description: 'Requests over either rate nginx still answers at once (limit_req burst, nodelay) before it answers 429.',
  }),
  connLimitPerAddress: setting({
    env: 'PH_CONN_LIMIT_PER_ADDRESS', rule: rule.connectionLimit, kind: 'number', default: 64,
    description: 'Connections (HTTP/2: requests in progress) nginx keeps open for one IP address at once (limit_conn).',
  }),
  // Revocation (docs/host.md "Revocation"): CRLs fetched on a timer and handed to nginx
  // (ssl_crl), and the operator's deny list from the bucket.
  revocation: setting({
    env: 'PH_REVOCATION', rule: rule.bool, kind: 'boolean', default: true,
    description: 'nginx checks client certificates against the CRLs (fail closed: no CRL for an issuer, or an expired one, refuses its clients).',
  }),
  crlUrls: setting({ env: 'PH_CRL_URLS', rule: rule.crlUrlList, kind: 'string', optional: true, description: 'CRL URLs fetched besides the trust bundle\'s distribution points (comma-separated).' }),
  crlFromBundle: setting({ env: 'PH_CRL_FROM_BUNDLE', rule: rule.bool, kind: 'boolean', default: true, description: 'Also fetch the CRL distribution points named in the trust bundle\'s CA certificates.' }),
  crlRefreshMinutes: setting({ env: 'PH_CRL_REFRESH_MINUTES', rule: rule.crlRefreshMinutes, kind: 'number', default: 15, description: 'How often the host fetches the CRLs.' }),
  crlWarnHours: setting({ env: 'PH_CRL_WARN_HOURS', rule: rule.crlWarnHours, kind: 'number', default: 24, description: 'The revocation status warns this many hours before a CRL\'s nextUpdate.' }),
  denyListKey: setting({ env: 'PH_DENY_LIST_KEY', rule: rule.s3Key, kind: 'string', default: BUCKET_LAYOUT.denyListKey, description: 'S3 key of the operator\'s deny list (provider-host revoke).' }),
  // The trust framework profile (README "Choosing a profile"): TLS, identities, tokens and policy.
  trustProfile: setting({
    env: 'PH_TRUST_PROFILE', rule: rule.trustProfile, kind: 'string', default: 'open-energy',
    description: 'open-energy (FAPI 1, TLS 1.2+1.3, RSA) or ib1 (IB1 Trust Framework: TLS 1.3 only, ECDSA, directory-URL client ids, roles, open data, heartbeat).',
  }),
  tokenValidation: setting({
    env: 'PH_TOKEN_VALIDATION', rule: rule.tokenValidation, kind: 'string', default: 'introspection',
    description: "introspection (RFC 7662 at the issuer) or jwt (RFC 9068 access tokens checked locally with the issuer's jwks_uri keys).",
  }),
  tokenAudience: setting({ env: 'PH_TOKEN_AUDIENCE', rule: rule.tokenAudience, kind: 'string', optional: true, description: 'The aud a JWT access token must name (empty: not checked).' }),
  tokenAlgorithms: setting({ env: 'PH_TOKEN_ALGORITHMS', rule: rule.jwtAlgorithmList, kind: 'string', default: 'ES256,PS256', description: 'JWS algorithms a JWT access token may be signed with (comma-separated).' }),
  heartbeatPath: setting({ env: 'PH_HEARTBEAT_PATH', rule: rule.endpointPath, kind: 'string', default: '/heartbeat', description: 'The ib1 heartbeat endpoint (statistics of the responses between the last two heartbeat calls).' }),
  // The daily access report (docs/operations.md "Access report"): written only when operations.report is on.
  reportSender: setting({ env: 'PH_REPORT_SENDER', rule: rule.email, kind: 'string', optional: true, description: "From address of the daily access report mail (on the environment's SES identity); empty: no report is built or mailed." }),
  reportRecipients: setting({ env: 'PH_REPORT_RECIPIENTS', rule: rule.emailList, kind: 'string', optional: true, description: 'Who receives the daily access report (comma-separated e-mail addresses).' }),
  reportHour: setting({ env: 'PH_REPORT_HOUR', rule: rule.hourOfDay, kind: 'number', default: 6, description: "UTC hour at which the host mails the previous day's access report." }),
  dnsWaitSeconds: setting({ env: 'PH_DNS_WAIT_SECONDS', rule: rule.seconds(86400), kind: 'number', default: HOST_TIMING.dnsWaitSeconds, description: 'Bound of the wait for DNS before certbot.' }),
  hostConfigParam: setting({ env: 'PH_HOST_CONFIG_PARAM', rule: rule.ssmName, kind: 'string', description: 'This parameter (the bootstrap re-reads it on every deploy).' }),
  // Host-local: not written by the stack; the replica and development set them.
  issuerCaFile: setting({ env: 'PH_ISSUER_CA_FILE', rule: z.string().regex(/^\/[A-Za-z0-9._/-]+$/, { error: (i) => `${rule.show(i.input)} is not an absolute file path` }), kind: 'string', optional: true, description: "Extra CA for the authorization server's TLS (empty: the system CAs)." }),
  accelRedirect: setting({ env: 'PH_ACCEL_REDIRECT', rule: rule.bool, kind: 'boolean', default: true, description: 'nginx sends dataset files (X-Accel-Redirect) instead of the app.' }),
} as const;

type Settings = typeof HOST_SETTINGS;
export type SettingName = keyof Settings;

/** Builds the object schema: defaults applied, optional settings optional. */
function shapeOf(): { [K in SettingName]: z.ZodType } {
  const shape = {} as Record<SettingName, z.ZodType>;
  for (const [name, s] of Object.entries(HOST_SETTINGS) as [SettingName, Setting<z.ZodType>][]) {
    shape[name] = s.default !== undefined ? s.rule.default(s.default as never) : s.optional ? s.rule.optional() : s.rule;
  }
  return shape;
}

export const hostSettingsSchema = z.strictObject(shapeOf());

type Output<S> = S extends Setting<infer R> ? z.output<R> : never;
type Required<K extends SettingName> = Settings[K] extends { default: unknown } | { optional: true } ? never : K;
type RequiredNames = { [K in SettingName]: Required<K> }[SettingName];

/** What the host works with: every setting, defaults applied. */
export type HostSettings = { readonly [K in SettingName]: Settings[K] extends { optional: true } ? Output<Settings[K]> | undefined : Output<Settings[K]> };
/** What a writer gives: the required settings, and any others it sets. */
export type HostSettingsInput = { readonly [K in RequiredNames]: Output<Settings[K]> | string } & { readonly [K in Exclude<SettingName, RequiredNames>]?: Output<Settings[K]> | string };

export class HostEnvError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'HostEnvError';
  }
}

export interface EncodeOptions {
  /** True for a value only known at apply time (a cdktf token): written as is, unchecked. */
  readonly isUnresolved?: (value: string) => boolean;
}

function encodeValue(value: unknown): string {
  return typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
}

/**
 * The host.env text: `KEY=value` lines in contract order, for the settings given. Every
 * literal value is checked against its rule and the shell-safe set.
 */
export function encodeHostEnv(values: HostSettingsInput, options: EncodeOptions = {}): string {
  const problems: string[] = [];
  const lines: string[] = [];
  for (const [name, s] of Object.entries(HOST_SETTINGS) as [SettingName, Setting<z.ZodType>][]) {
    const value = (values as Record<string, unknown>)[name];
    if (value === undefined) {
      if (s.default === undefined && !s.optional) problems.push(`${s.env} (${name}): is required`);
      continue;
    }
    const text = encodeValue(value);
    if (!(typeof value === 'string' && options.isUnresolved?.(value))) {
      const checked = s.rule.safeParse(value);
      if (!checked.success) problems.push(`${s.env} (${name}): ${checked.error.issues[0]?.message}`);
      else if (!rule.SHELL_SAFE_RE.test(text)) problems.push(`${s.env} (${name}): ${rule.show(text)} is not shell-safe; only letters, digits and . _ : / @ % + , = - are allowed`);
    }
    lines.push(`${s.env}=${text}`);
  }
  if (problems.length > 0) throw new HostEnvError(problems);
  return `${lines.join('\n')}\n`;
}

function decodeValue(kind: Kind, text: string): unknown {
  if (kind === 'number') return /^-?\d+$/.test(text) ? Number(text) : text;
  if (kind === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

const LINE = /^(PH_[A-Z0-9_]+)=(.*)$/;

/**
 * Reads host.env text (and overrides, which win, as the caller's environment does on the
 * host), validates every setting with its rule and applies the defaults. Throws a
 * HostEnvError naming each bad line or setting and the fix.
 */
export function decodeHostEnv(text: string, overrides: Readonly<Record<string, string | undefined>> = {}, source = 'host.env'): HostSettings {
  const problems: string[] = [];
  const byEnv = new Map((Object.entries(HOST_SETTINGS) as [SettingName, Setting<z.ZodType>][]).map(([name, s]) => [s.env as string, { name, s }]));
  const raw = new Map<string, string>();
  text.split('\n').forEach((line, index) => {
    if (line === '' || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (!match || !rule.SHELL_SAFE_RE.test(match[2]!)) {
      problems.push(`${source}:${index + 1}: not PH_KEY=shell-safe-value (letters, digits and . _ : / @ % + , = -)`);
      return;
    }
    if (!byEnv.has(match[1]!)) {
      problems.push(`${source}:${index + 1}: ${match[1]} is not a setting of this host bundle (a newer stack? deploy the matching bundle)`);
      return;
    }
    raw.set(match[1]!, match[2]!);
  });
  for (const [env, value] of Object.entries(overrides)) if (value !== undefined && byEnv.has(env)) raw.set(env, value);

  const candidate: Record<string, unknown> = {};
  for (const [env, value] of raw) {
    const { name, s } = byEnv.get(env)!;
    if (value === '' && (s.optional || s.default !== undefined)) continue;
    candidate[name] = decodeValue(s.kind, value);
  }
  const result = hostSettingsSchema.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = issue.path[0] as SettingName;
      const s = HOST_SETTINGS[name];
      const missing = candidate[name] === undefined;
      problems.push(`${source}: ${s?.env ?? String(name)} (${String(name)}): ${missing ? 'is missing; the stack writes it (deploy again)' : issue.message}`);
    }
  }
  if (problems.length > 0) throw new HostEnvError(problems);
  return result.data as HostSettings;
}

/** Every setting as `KEY=value` lines (empty for an unset optional one): what bash exports. */
export function hostEnvLines(settings: HostSettings): string {
  return (Object.entries(HOST_SETTINGS) as [SettingName, Setting<z.ZodType>][])
    .map(([name, s]) => `${s.env}=${settings[name] === undefined ? '' : encodeValue(settings[name])}`)
    .join('\n') + '\n';
}
