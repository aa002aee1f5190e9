import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A client registered with the authorization server; it authenticates with `tls_client_auth`. */
export interface AuthzClientConfig {
  /** In the ib1 profile, the Application's Directory URL (also `sanUri`). */
  readonly clientId: string;
  /** RFC 4514 subject DN its certificate must carry, e.g. `CN=consumer,O=Example`. Or give `certFile`, or `sanUri`. */
  readonly subjectDn?: string;
  /**
   * IB1: the one subjectAltName URI (the Directory URL) its certificate must carry
   * (`tls_client_auth_san_uri`). The certificate must also pass IB1's own reading (CN = URI).
   */
  readonly sanUri?: string;
  /** PEM file of the client's certificate; its subject becomes `subjectDn`. */
  readonly certFile?: string;
  /** Space-separated scopes the client may request. */
  readonly scope?: string;
  /** Bind its access tokens to its certificate (`cnf.x5t#S256`). Tests turn this off to get an unbound token. @default true */
  readonly certificateBoundAccessTokens?: boolean;
  /** Overrides the server-wide access token lifetime for this client (e.g. 1 s to test expiry). */
  readonly accessTokenTtlSeconds?: number;
}

/** The JSON file `node dist/testing/authz-server/authz-server-command.js --config <file>` reads. Relative paths are relative to the file. */
export interface AuthzServerConfig {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Issuer URL. @default `https://<host>:<port>` */
  readonly issuer?: string;
  /** Server certificate (PEM, may include the chain) and key. */
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** CA bundle that client certificates must chain to. */
  readonly clientCa: string;
  /** Scopes the server knows; clients may ask for these. */
  readonly scopes?: readonly string[];
  /** Lifetime of client_credentials access tokens. @default 600 */
  readonly accessTokenTtlSeconds?: number;
  readonly clients: readonly AuthzClientConfig[];
  /**
   * `opaque` (open-energy: RFC 7662 introspection) or `jwt` (RFC 9068 access tokens signed
   * with the server's current key, published at `jwks_uri`; oidc-provider does not introspect
   * those: a resource server checks them itself).
   * @default 'opaque'
   */
  readonly accessTokenFormat?: 'opaque' | 'jwt';
  /**
   * The resource indicator a token is for when the client names none: its `aud`. Needed by
   * `jwt` (oidc-provider issues JWT access tokens only for a resource server).
   * @default the issuer's URL
   */
  readonly defaultResource?: string;
}

/** Reads and checks a config file; throws one message listing every problem. */
export function loadAuthzServerConfig(file: string): AuthzServerConfig {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const config = validateAuthzServerConfig(raw);
  const base = dirname(resolve(file));
  const at = (p: string) => resolve(base, p);
  return {
    ...config,
    tlsCert: at(config.tlsCert),
    tlsKey: at(config.tlsKey),
    clientCa: at(config.clientCa),
    clients: config.clients.map((c) => (c.certFile ? { ...c, certFile: at(c.certFile) } : c)),
  };
}

export function validateAuthzServerConfig(raw: unknown): AuthzServerConfig {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('authz-server config: expected a JSON object');
  const c = raw as Record<string, unknown>;
  for (const key of ['tlsCert', 'tlsKey', 'clientCa']) {
    if (typeof c[key] !== 'string' || c[key] === '') problems.push(`${key}: required, a PEM file path`);
  }
  if (c.port !== undefined && (!Number.isInteger(c.port) || (c.port as number) < 0 || (c.port as number) > 65535)) {
    problems.push('port: must be an integer 0-65535');
  }
  if (c.accessTokenTtlSeconds !== undefined && (!Number.isInteger(c.accessTokenTtlSeconds) || (c.accessTokenTtlSeconds as number) < 1)) {
    problems.push('accessTokenTtlSeconds: must be a positive integer');
  }
  if (!Array.isArray(c.clients) || c.clients.length === 0) {
    problems.push('clients: required, a non-empty list of {clientId, subjectDn | certFile | sanUri, scope}');
  } else {
    c.clients.forEach((client: Record<string, unknown>, i: number) => {
      if (typeof client?.clientId !== 'string' || client.clientId === '') problems.push(`clients[${i}].clientId: required`);
      const ways = ['subjectDn', 'certFile', 'sanUri'].filter((key) => typeof client?.[key] === 'string');
      if (ways.length !== 1) {
        problems.push(`clients[${i}]: give exactly one of subjectDn (e.g. "CN=consumer,O=Example"), certFile or sanUri (an IB1 Directory URL)${ways.length > 1 ? `, not ${ways.join(' and ')}` : ''}`);
      }
    });
  }
  if (c.accessTokenFormat !== undefined && c.accessTokenFormat !== 'opaque' && c.accessTokenFormat !== 'jwt') {
    problems.push(`accessTokenFormat: must be "opaque" or "jwt", got ${JSON.stringify(c.accessTokenFormat)}`);
  }
  if (c.defaultResource !== undefined && (typeof c.defaultResource !== 'string' || !/^https:\/\/[^\s#]+$/.test(c.defaultResource))) {
    problems.push('defaultResource: must be an https URL without a fragment (the token\'s aud)');
  }
  if (problems.length > 0) throw new Error(`authz-server config is invalid:\n  ${problems.join('\n  ')}`);
  return raw as AuthzServerConfig;
}
