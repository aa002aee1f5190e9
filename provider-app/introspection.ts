import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { rootCertificates } from 'node:tls';

/** RFC 7662 response fields this service reads. */
export interface IntrospectionResult {
  readonly active: boolean;
  readonly scope?: string;
  readonly client_id?: string;
  readonly exp?: number;
  readonly iat?: number;
  readonly nbf?: number;
  readonly token_type?: string;
  readonly cnf?: { readonly 'x5t#S256'?: string };
  /**
   * Why an inactive token was refused, when it was checked locally (JWT mode: bad signature,
   * unknown key, expired, wrong issuer…); the 401's description. Never the token itself.
   */
  readonly localRefusal?: string;
}

/** The authorization server could not answer (down, slow, 5xx, nonsense): the caller maps it to 503. */
export class AuthorizationServerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizationServerUnavailable';
  }
}

/** Anything that can introspect a token; the app depends on this, tests may pass their own. */
export interface Introspector {
  introspect(token: string): Promise<IntrospectionResult>;
  /** A result still cached for this token, without any call (undefined: not cached). */
  peek?(token: string): IntrospectionResult | undefined;
  close?(): void;
}

export interface IntrospectionClientOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly tlsCa?: string;
  readonly timeoutMs: number;
}

interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/**
 * Introspection over mutual TLS with the provider's transport certificate
 * (`tls_client_auth`). The endpoint comes from OIDC discovery, fetched lazily and
 * re-fetched after a failure, so the app starts (and answers 503) while the
 * authorization server is down. One keep-alive agent reuses connections.
 */
export class IntrospectionClient implements Introspector {
  private readonly agent: Agent;
  private endpoint: Promise<string> | undefined;

  constructor(private readonly options: IntrospectionClientOptions) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 32,
      cert: readFileSync(options.tlsCert),
      key: readFileSync(options.tlsKey),
      ca: options.tlsCa ? [...rootCertificates, readFileSync(options.tlsCa, 'utf8')] : undefined,
    });
  }

  async introspect(token: string): Promise<IntrospectionResult> {
    const endpoint = await this.introspectionEndpoint();
    const body = new URLSearchParams({ token, token_type_hint: 'access_token', client_id: this.options.clientId }).toString();
    const res = await this.send(endpoint, body);
    if (res.status !== 200) {
      // A 4xx here means our own client authentication or request is wrong: still not the consumer's fault.
      throw new AuthorizationServerUnavailable(`introspection endpoint answered HTTP ${res.status}`);
    }
    const parsed = parseJson(res.body, 'introspection response');
    if (typeof parsed.active !== 'boolean') throw new AuthorizationServerUnavailable('introspection response has no boolean "active"');
    return parsed as unknown as IntrospectionResult;
  }

  close(): void {
    this.agent.destroy();
  }

  private introspectionEndpoint(): Promise<string> {
    if (!this.endpoint) {
      this.endpoint = this.discover();
      this.endpoint.catch(() => {
        this.endpoint = undefined;
      });
    }
    return this.endpoint;
  }

  private async discover(): Promise<string> {
    // RFC 8414 §3 / OIDC Discovery §4: the issuer exactly as configured is compared below,
    // only the URL is built without a trailing slash.
    const url = `${this.options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await this.send(url);
    if (res.status !== 200) throw new AuthorizationServerUnavailable(`discovery answered HTTP ${res.status}`);
    const metadata = parseJson(res.body, 'discovery document');
    if (metadata.issuer !== this.options.issuer) {
      throw new AuthorizationServerUnavailable(`discovery issuer "${String(metadata.issuer)}" is not the configured issuer`);
    }
    const aliases = metadata.mtls_endpoint_aliases as Record<string, unknown> | undefined;
    const endpoint = aliases?.introspection_endpoint ?? metadata.introspection_endpoint;
    if (typeof endpoint !== 'string' || !endpoint.startsWith('https://')) {
      throw new AuthorizationServerUnavailable('discovery document has no https introspection_endpoint');
    }
    return endpoint;
  }

  private send(url: string, form?: string): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: form === undefined ? 'GET' : 'POST',
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > 1_000_000) req.destroy(new Error('response too large'));
            else chunks.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (error) => reject(new AuthorizationServerUnavailable(error.message)));
        },
      );
      // One deadline for the whole exchange, not an idle timeout that a trickling server can extend.
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (error) => reject(new AuthorizationServerUnavailable(`${new URL(url).origin}: ${error.message}`)));
      req.end(form);
    });
  }
}

function parseJson(text: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AuthorizationServerUnavailable(`${what} is not a JSON object`);
}
