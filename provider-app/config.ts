import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { HOST_SETTINGS } from '../contract/host-settings';

const filePath = z.string().min(1, 'must be a non-empty file path');

/** The provider's JSON config file. Validated once here; typed everywhere after. */
export const providerConfigSchema = z
  .strictObject({
    socket: filePath.optional().describe('UNIX socket path to listen on (production; nginx proxies to it). Give this or `port`.'),
    port: z.number().int().min(0).max(65535).optional().describe('TCP port for local development (0 = any free port). Give this or `socket`.'),
    host: z.string().min(1).default('127.0.0.1').describe('Interface for `port`.'),
    socketMode: z
      .string()
      .regex(/^0?[0-7]{3}$/, 'must be an octal string such as "0660"')
      .default('0660')
      .describe('Permissions of the socket file: owner and group (nginx is put in the group) may connect.'),
    dataDir: filePath.describe('Folder holding the datasets (<name>.csv) and the optional manifest.json.'),
    issuer: HOST_SETTINGS.issuer.rule.describe('Authorization server issuer; discovery is at <issuer>/.well-known/openid-configuration.'),
    clientId: HOST_SETTINGS.clientId.rule.describe("The provider's own OAuth client id, used for introspection."),
    tlsCert: filePath.describe("PEM file: the provider's transport certificate (mTLS client auth to the authorization server)."),
    tlsKey: filePath.describe('PEM file: the private key of tlsCert.'),
    tlsCa: filePath.optional().describe("PEM file: extra CA trusted for the authorization server's TLS (added to the system roots)."),
    scope: HOST_SETTINGS.scope.rule
      .optional()
      .describe(
        'Scope every dataset requires unless the manifest says otherwise. Without it, only datasets whose manifest entry names scopes are served (fail closed). In ib1: the default licence URL, for a shared dataset whose manifest entry names no licence.',
      ),
    profile: HOST_SETTINGS.trustProfile.rule
      .default('open-energy')
      .describe('Trust framework profile: open-energy (FAPI 1, cnf-bound tokens) or ib1 (Directory-URL client ids, roles, licences, open data, heartbeat).'),
    tokenValidation: HOST_SETTINGS.tokenValidation.rule
      .default('introspection')
      .describe("How access tokens are checked: introspection (RFC 7662 at the issuer) or jwt (RFC 9068, locally with the keys of the issuer metadata's jwks_uri)."),
    tokenAudience: HOST_SETTINGS.tokenAudience.rule.optional().describe('jwt mode: the aud a token must name; unset, aud is not checked.'),
    tokenAlgorithms: z
      .array(HOST_SETTINGS.tokenAlgorithms.rule)
      .min(1, 'list at least one JWS algorithm, e.g. ["ES256"]')
      .default(['ES256', 'PS256'])
      // Each item is checked by the host setting's rule (a comma list), so "ES256,PS256" as one item also reads right.
      .transform((list) => [...new Set(list.flatMap((item) => item.split(',')))])
      .describe('jwt mode: the JWS algorithms a token may be signed with (asymmetric only).'),
    jwksRefetchCooldownSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(30)
      .describe("jwt mode: least time between two fetches of the issuer's JWKS caused by tokens naming an unknown kid (a rotated-in key is accepted at most this late)."),
    heartbeatPath: HOST_SETTINGS.heartbeatPath.rule.default('/heartbeat').describe('ib1: the heartbeat endpoint (GET; protected like shared data).'),
    accessLogFile: filePath
      .optional()
      .describe("ib1: nginx's JSON access log (nginx/snippets/log-format.conf), which the heartbeat counts responses from. Required in ib1."),
    stateDir: filePath
      .optional()
      .describe("ib1: a folder every app worker can write, holding the heartbeat's state (the previous call's time and log position) and its lock. Required in ib1."),
    clientCertHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
      .default('x-oe-client-cert')
      .transform((h) => h.toLowerCase())
      .describe('Header in which nginx passes the client certificate ($ssl_client_escaped_cert).'),
    legacyCertHeader: z
      .boolean()
      .default(false)
      .describe(
        "Accept nginx's deprecated $ssl_client_cert (a folded, tab-indented header). Needs Node's lenient HTTP parser, so it is off unless the socket is reachable only by nginx.",
      ),
    accelRedirectPrefix: z
      .string()
      .regex(/^\/[A-Za-z0-9_./-]*\/$/, 'must start and end with "/" (e.g. "/_datasets/")')
      .optional()
      .describe('When set, the app only authorises and answers X-Accel-Redirect: <prefix><name>.csv; nginx sends the file.'),
    introspectionCacheTtlSeconds: z.number().int().min(0).max(3600).default(60).describe('Longest a token introspection result is reused (never past the token exp).'),
    introspectionCacheMaxEntries: z.number().int().min(1).default(10000).describe('Bound on cached introspection results.'),
    dataCacheTtlMs: z
      .number()
      .int()
      .min(0)
      .max(10000)
      .default(1000)
      .describe('How long a dataset lookup (real path, stat) and the manifest check are reused; a data swap is seen at most this late (0 = check every request).'),
    authzCacheSeconds: HOST_SETTINGS.authzCacheSeconds.rule
      .default(HOST_SETTINGS.authzCacheSeconds.default)
      .describe(
        "How long nginx may reuse the app's answer to its authorization subrequest for the same certificate, token and dataset path (X-Accel-Expires; never past the token's exp or the certificate's notAfter). 0 = every dataset read asks the app.",
      ),
    introspectionTimeoutMs: z.number().int().min(100).max(60000).default(3000).describe('Timeout of discovery and introspection calls.'),
    clockSkewSeconds: z.number().int().min(0).max(300).default(5).describe('Tolerance for iat/exp against the local clock.'),
    retryAfterSeconds: z.number().int().min(1).max(3600).default(5).describe('Retry-After sent with 503 when the authorization server is unavailable.'),
    drainTimeoutMs: z.number().int().min(0).max(120000).default(10000).describe('How long SIGTERM/SIGINT waits for in-flight requests.'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .refine((c) => (c.socket === undefined) !== (c.port === undefined), {
    message: 'give exactly one of "socket" (production) or "port" (local development)',
    path: ['socket'],
  })
  .superRefine((c, ctx) => {
    if (c.profile !== 'ib1') return;
    // The heartbeat counts nginx's responses across every worker: it needs both.
    if (c.accessLogFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['accessLogFile'], message: "the ib1 profile needs nginx's JSON access log for its heartbeat: set accessLogFile (e.g. /var/log/nginx/provider/access.json.log)" });
    }
    if (c.stateDir === undefined) {
      ctx.addIssue({ code: 'custom', path: ['stateDir'], message: "the ib1 profile needs a folder shared by the app's workers for the heartbeat's state: set stateDir (e.g. /var/lib/provider-app)" });
    }
  });

export type ProviderConfig = z.output<typeof providerConfigSchema>;

/** Thrown with one line per problem; main.ts prints it and exits non-zero. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Validates a parsed config object; relative paths resolve against `baseDir`. */
export function parseProviderConfig(raw: unknown, baseDir: string): ProviderConfig {
  const result = providerConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const where = issue.path.length > 0 ? issue.path.join('.') : '(config)';
        return `config ${where}: ${issue.message}`;
      }),
    );
  }
  const config = result.data;
  const at = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    socket: at(config.socket),
    dataDir: at(config.dataDir)!,
    tlsCert: at(config.tlsCert)!,
    tlsKey: at(config.tlsKey)!,
    tlsCa: at(config.tlsCa),
    accessLogFile: at(config.accessLogFile),
    stateDir: at(config.stateDir),
  };
}

/** Reads and validates the config file. */
export function loadProviderConfig(file: string): ProviderConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`config file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`config file ${file}: not valid JSON (${(error as Error).message})`]);
  }
  return parseProviderConfig(raw, dirname(resolve(file)));
}
