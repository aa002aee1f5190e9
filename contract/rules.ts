/**
 * The value rules shared by the operator's environment file (config/schema.ts), the host
 * contract (host-settings.ts) and the provider app's config: one definition each, with the
 * message that names the value and what would be accepted. Zod only: this module ships to
 * the host inside the renderer, so it imports nothing else.
 */
import { z } from 'zod';

export const show = (value: unknown): string => JSON.stringify(value);

export const DEFAULT_DOMAIN = 'example.energydata.org.uk';
export const DEFAULT_ISSUER = 'https://matls-auth.directory.energydata.org.uk/';

/**
 * Shell-safe: these characters need no quoting in the host's `KEY=value` files. The
 * bootstrap (user data, before any Node program is on the host) checks host.env lines
 * with the same class; contract/host-contract.test.ts fails when the two differ.
 */
export const SHELL_SAFE_CHARS = 'A-Za-z0-9._:/@%+,=-';
export const SHELL_SAFE_RE = new RegExp(`^[${SHELL_SAFE_CHARS}]*$`);

export const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
export const region = z.string().regex(REGION_RE, { error: (i) => `${show(i.input)} is not an AWS region code; use e.g. "eu-west-2"` });

const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
export const FQDN_RE = new RegExp(`^(${LABEL}\\.)+[a-z]{2,63}$`);
export const fqdn = z.string().regex(FQDN_RE, {
  error: (i) => `${show(i.input)} is not a lower-case fully qualified domain name; use e.g. "${DEFAULT_DOMAIN}" (no trailing dot, no scheme)`,
});

export const SSM_NAME_RE = /^(\/[A-Za-z0-9_.-]+)+$/;
export const ssmName = z.string().regex(SSM_NAME_RE, {
  error: (i) => `${show(i.input)} is not an SSM parameter path; use "/segment/segment" with letters, digits, "_", "." and "-"`,
});

export const httpsUrl = z.string().regex(/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~\/-]*)?$/, {
  error: (i) => `${show(i.input)} is not an https URL without query or fragment; use e.g. "${DEFAULT_ISSUER}"`,
});

export const email = z.string().regex(/^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$/, {
  error: (i) => `${show(i.input)} is not an e-mail address; use e.g. "ops@example.org"`,
});

export const clientId = z.string().regex(new RegExp(`^[${SHELL_SAFE_CHARS}]+$`), {
  error: (i) => `${show(i.input)} is not a usable client id; use letters, digits and . _ : / @ % + , = -`,
});

/** One OAuth scope token (RFC 6749 §3.3), in characters a URL-shaped scope (IB1 licences) uses. */
export const scope = z.string().regex(/^[A-Za-z0-9._:\/-]+$/, {
  error: (i) => `${show(i.input)} is not a single scope token; use letters, digits and . _ : / -`,
});

export const bool = z.boolean({ error: (i) => `${show(i.input)} is not a boolean; use true or false` });

export const appInstances = z
  .number({ error: (i) => `${show(i.input)} is not a number; use an integer from 1 to 16` })
  .int({ error: (i) => `${show(i.input)} is not a whole number; use an integer from 1 to 16` })
  .min(1, { error: (i) => `${show(i.input)} is too few; use an integer from 1 to 16` })
  .max(16, { error: (i) => `${show(i.input)} is too many for one host; use an integer from 1 to 16` });

export const authzCacheSeconds = z
  .number({ error: (i) => `${show(i.input)} is not a number of seconds; use an integer from 0 to 10` })
  .int({ error: (i) => `${show(i.input)} is not a whole number of seconds; use an integer from 0 to 10` })
  .min(0, { error: (i) => `${show(i.input)} is negative; use an integer from 0 to 10 (0: every dataset read asks the app)` })
  .max(10, { error: (i) => `${show(i.input)} is too long for a reused authorisation; use an integer from 0 to 10` });

export const seconds = (max: number) =>
  z
    .number({ error: (i) => `${show(i.input)} is not a number of seconds; use an integer from 1 to ${max}` })
    .int({ error: (i) => `${show(i.input)} is not a whole number of seconds; use an integer from 1 to ${max}` })
    .min(1, { error: (i) => `${show(i.input)} is too short; use an integer from 1 to ${max}` })
    .max(max, { error: (i) => `${show(i.input)} is too long; use an integer from 1 to ${max}` });

/**
 * A whole number from `min` to `max` of `unit` (nginx's request and connection limits:
 * limit_req_zone rate, limit_req burst, limit_conn).
 */
export const count = (unit: string, min: number, max: number) =>
  z
    .number({ error: (i) => `${show(i.input)} is not a number of ${unit}; use an integer from ${min} to ${max}` })
    .int({ error: (i) => `${show(i.input)} is not a whole number of ${unit}; use an integer from ${min} to ${max}` })
    .min(min, { error: (i) => `${show(i.input)} is too low; use an integer from ${min} to ${max}` })
    .max(max, { error: (i) => `${show(i.input)} is too high; use an integer from ${min} to ${max}` });

/** nginx limit_req rates, requests per second (one client certificate, one address). */
export const requestRate = count('requests per second', 1, 100000);
/** nginx limit_req burst: requests above the rate answered at once before 429s (0: none). */
export const requestBurst = count('requests', 0, 100000);
/** nginx limit_conn: connections (HTTP/2: concurrent requests) open at once from one address (nginx refuses 65536 and more). */
export const connectionLimit = count('connections', 1, 65535);

/** An S3 key prefix: no leading "/", ending in "/". */
export const s3Prefix = z.string().regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/, {
  error: (i) => `${show(i.input)} is not an S3 key prefix; use e.g. "shared_data/" (no leading "/", one trailing "/")`,
});

/** An S3 object key of shell-safe characters. */
export const s3Key = z.string().regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, {
  error: (i) => `${show(i.input)} is not an S3 object key; use e.g. "trust/client-ca-bundle.pem"`,
});

/**
 * An environment's name (the environment file's `name`): it names the stack, prefixes its
 * resources and is the `Environment` dimension of the metrics the host publishes.
 */
export const ENVIRONMENT_NAME_RE = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;
export const environmentName = z.string().regex(ENVIRONMENT_NAME_RE, {
  error: (i) => `${show(i.input)} is not a valid name: use 2-24 lower-case letters, digits and hyphens, starting with a letter`,
});

/** An S3 bucket name (3-63 lower-case letters, digits, "." and "-"). */
export const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
  error: (i) => `${show(i.input)} is not an S3 bucket name; use 3-63 lower-case letters, digits, "." and "-"`,
});

/**
 * Where a CRL is published: http or https (CRLs are signed, and CAs commonly publish them
 * over plain http, RFC 5280 §4.2.1.13), no query or fragment, shell-safe.
 */
export const CRL_URL_RE = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~\/-]*)?$/;
export const crlUrl = z.string().regex(CRL_URL_RE, {
  error: (i) => `${show(i.input)} is not an http(s) CRL URL without query or fragment; use e.g. "http://crl.example.org/issuer.crl"`,
});
/** The host contract's form of a list of CRL URLs: comma-separated (shell-safe). */
export const crlUrlList = z.string().refine((v) => v.split(',').every((u) => CRL_URL_RE.test(u)), {
  error: (i) => `${show(i.input)} is not a comma-separated list of http(s) CRL URLs`,
});

/** How often the host fetches the CRLs, in minutes. */
export const crlRefreshMinutes = count('minutes', 1, 1440);
/** Hours before a CRL's nextUpdate from which the host's revocation status warns. */
export const crlWarnHours = count('hours', 1, 720);

/** SES SendEmail takes at most 50 recipients per message (To, Cc and Bcc together). */
export const MAX_REPORT_RECIPIENTS = 50;
/** The host contract's form of the daily report's recipients: e-mail addresses, comma-separated (shell-safe). */
export const emailList = z.string().refine((v) => {
  const addresses = v.split(',');
  return addresses.length <= MAX_REPORT_RECIPIENTS && addresses.every((a) => email.safeParse(a).success);
}, { error: (i) => `${show(i.input)} is not a comma-separated list of 1-${MAX_REPORT_RECIPIENTS} e-mail addresses` });
/** The UTC hour (0-23) at which the host builds and mails the previous day's access report. */
export const hourOfDay = count('hours (UTC)', 0, 23);

/** The trust frameworks a provider can join (README "Choosing a profile"). */
export const TRUST_PROFILES = ['open-energy', 'ib1'] as const;
export type TrustProfile = (typeof TRUST_PROFILES)[number];
export const trustProfile = z.enum(TRUST_PROFILES, { error: (i) => `${show(i.input)} is not a trust framework profile; use ${TRUST_PROFILES.join(' or ')}` });

/** How the app checks an access token: RFC 7662 introspection, or an RFC 9068 JWT checked locally. */
export const TOKEN_VALIDATION_MODES = ['introspection', 'jwt'] as const;
export type TokenValidationMode = (typeof TOKEN_VALIDATION_MODES)[number];
export const tokenValidation = z.enum(TOKEN_VALIDATION_MODES, { error: (i) => `${show(i.input)} is not a token validation mode; use ${TOKEN_VALIDATION_MODES.join(' or ')}` });

/** Asymmetric JWS algorithms only: "none" and the HMAC ones (a shared secret) can never verify an access token here. */
export const JWT_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA'] as const;
export const jwtAlgorithmList = z.string().refine((v) => v.split(',').every((a) => (JWT_ALGORITHMS as readonly string[]).includes(a)), {
  error: (i) => `${show(i.input)} is not a comma-separated list of JWS algorithms from ${JWT_ALGORITHMS.join(', ')}`,
});

/** An audience a JWT access token must name: a URL or a client-id-like token. */
export const tokenAudience = z.string().regex(/^[A-Za-z0-9._:\/-]+$/, {
  error: (i) => `${show(i.input)} is not a token audience; use a URL or an identifier of letters, digits and . _ : / -`,
});

/** A path the app answers itself (the heartbeat): one or more plain segments. */
export const endpointPath = z.string().regex(/^(\/[A-Za-z0-9][A-Za-z0-9_-]*)+$/, {
  error: (i) => `${show(i.input)} is not an endpoint path; use e.g. "/heartbeat" (segments of letters, digits, _ and -)`,
});

/** A Route53 hosted zone id (the API's form, without the /hostedzone/ prefix). */
export const hostedZoneId = z.string().regex(/^Z[A-Z0-9]{1,31}$/, {
  error: (i) => `${show(i.input)} is not a Route53 hosted zone id; use e.g. "Z0123456789ABCDEFGHIJ"`,
});
