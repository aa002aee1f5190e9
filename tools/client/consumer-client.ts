import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { discoverIssuer, type IssuerMetadata } from './discovery';
import { ClientError, ProviderAnswerError } from './errors';
import { headerValue, httpErrorFrom } from './http-errors';
import { httpsRequest, readText } from './https-request';
import { MemoryTokenCache, type CachedToken, type TokenCache } from './access-token-store';
import type { TlsIdentity } from './tls-identity';

export interface ConsumerClientOptions {
  /** Authorization server issuer URL (discovery base). */
  readonly issuer: string;
  /** The consumer's client id at the authorization server. */
  readonly clientId: string;
  /** Client certificate + key (tls_client_auth and token binding) and the CA bundle to trust. */
  readonly tls: TlsIdentity;
  /** Scope to request; @default the client's registered default (none sent) */
  readonly scope?: string;
  /** Base URL of the data provider, e.g. `https://provider.example.com/`. */
  readonly baseUrl: string;
  /** @default a per-process memory cache */
  readonly cache?: TokenCache;
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** Host name → address pins for every request (like curl's --resolve). */
  readonly resolve?: Readonly<Record<string, string>>;
}

export interface TokenResult extends CachedToken {
  /** True when the token came from the cache rather than a new grant. */
  readonly fromCache: boolean;
}

export interface DatasetInfo {
  readonly name: string;
  /** Bytes, when the provider says. */
  readonly size?: number;
  readonly [key: string]: unknown;
}

export interface DatasetResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** `content-length`, when sent. */
  readonly size?: number;
  /** The `x-fapi-interaction-id` the provider answered with. */
  readonly interactionId?: string;
  /** The `x-fapi-interaction-id` we sent (a fresh UUID per request). */
  readonly sentInteractionId: string;
  readonly body: Readable;
}

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The consumer side of the provider's protocol: client_credentials with mTLS
 * client authentication (RFC 8705 tls_client_auth) at the issuer's token endpoint,
 * then resource requests carrying the certificate-bound bearer token on the same
 * client certificate.
 */
export class ConsumerClient {
  private metadata?: Promise<IssuerMetadata>;
  private readonly cache: TokenCache;

  constructor(readonly options: ConsumerClientOptions) {
    if (!options.tls.cert || !options.tls.key) {
      throw new ClientError('The consumer client needs a client certificate and key.', 'Pass --cert and --key (or run `npm run dev` for a sandbox identity).');
    }
    this.cache = options.cache ?? new MemoryTokenCache();
  }

  /** The issuer's metadata, discovered once per client. */
  discover(): Promise<IssuerMetadata> {
    this.metadata ??= discoverIssuer(this.options.issuer, this.options.tls, this.options.resolve).catch((error: unknown) => {
      this.metadata = undefined;
      throw error;
    });
    return this.metadata;
  }

  /** A token that is valid for at least the cache margin: cached, or a fresh grant. */
  async token(options: { readonly fresh?: boolean } = {}): Promise<TokenResult> {
    const key = this.cacheKey();
    if (!options.fresh) {
      const cached = this.cache.get(key);
      if (cached) return { ...cached, fromCache: true };
    }
    const token = await this.grant();
    this.cache.set(key, token);
    return { ...token, fromCache: false };
  }

  /** Datasets the caller may read (`GET /datasets`). */
  async listDatasets(): Promise<DatasetInfo[]> {
    const res = await this.authorizedGet('datasets', 'application/json');
    const text = await readText(res.body);
    return normaliseListing(text, res.url);
  }

  /** Starts fetching `<name>`; the caller streams `body` where it wants. */
  async getDataset(name: string): Promise<DatasetResponse> {
    const bare = name.replace(/\.csv$/i, '');
    if (!DATASET_NAME.test(bare)) {
      throw new ClientError(`"${name}" is not a dataset name.`, 'Names are letters, digits, ".", "_" and "-" (see `list`).');
    }
    return this.authorizedGet(encodeURIComponent(bare), 'text/csv');
  }

  /** An authorised `GET <path>` answering JSON (e.g. an IB1 provider's heartbeat), parsed. */
  async getJson(path: string): Promise<{ readonly status: number; readonly body: unknown }> {
    const res = await this.authorizedGet(path.replace(/^\/+/, ''), 'application/json');
    const text = await readText(res.body);
    try {
      return { status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      throw new ClientError(`${res.url} did not answer JSON.`);
    }
  }

  /** Drops this identity's cached token (e.g. after the server said it is invalid). */
  forgetToken(): void {
    this.cache.delete(this.cacheKey());
  }

  private async authorizedGet(path: string, accept: string): Promise<DatasetResponse> {
    const first = await this.token();
    try {
      return await this.get(path, accept, first.accessToken);
    } catch (error) {
      // a cached token may have been revoked or issued by a restarted server: retry once
      if (first.fromCache && error instanceof ProviderAnswerError && error.status === 401) {
        this.forgetToken();
        return this.get(path, accept, (await this.token({ fresh: true })).accessToken);
      }
      throw error;
    }
  }

  private async get(path: string, accept: string, accessToken: string): Promise<DatasetResponse> {
    const base = this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`;
    const url = new URL(path, base).toString();
    const sentInteractionId = randomUUID();
    const res = await httpsRequest({
      url,
      tls: this.options.tls,
      timeoutMs: this.options.timeoutMs,
      resolve: this.options.resolve,
      headers: {
        accept,
        authorization: `Bearer ${accessToken}`,
        // FAPI: the provider echoes it, so both sides can find this exchange in their logs
        'x-fapi-interaction-id': sentInteractionId,
      },
    });
    if (res.status < 200 || res.status > 299) {
      const text = await readText(res.body).catch(() => '');
      throw httpErrorFrom(res.status, url, res.headers, text, true);
    }
    const length = headerValue(res.headers['content-length']);
    return {
      url,
      status: res.status,
      headers: res.headers,
      size: length === undefined ? undefined : Number(length),
      interactionId: headerValue(res.headers['x-fapi-interaction-id']),
      sentInteractionId,
      body: res.body,
    };
  }

  private async grant(): Promise<CachedToken> {
    const { tokenEndpoint } = await this.discover();
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.options.clientId });
    if (this.options.scope) form.set('scope', this.options.scope);
    const requestedAt = Date.now();
    const res = await httpsRequest({
      url: tokenEndpoint,
      method: 'POST',
      tls: this.options.tls,
      timeoutMs: this.options.timeoutMs,
      resolve: this.options.resolve,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    const text = await readText(res.body);
    if (res.status !== 200) throw httpErrorFrom(res.status, tokenEndpoint, res.headers, text, true);
    let json: { access_token?: unknown; token_type?: unknown; expires_in?: unknown; scope?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new ClientError(`The token endpoint ${tokenEndpoint} did not return JSON.`);
    }
    if (typeof json.access_token !== 'string' || typeof json.expires_in !== 'number') {
      throw new ClientError(`The token endpoint ${tokenEndpoint} returned no access_token/expires_in.`);
    }
    return {
      accessToken: json.access_token,
      tokenType: typeof json.token_type === 'string' ? json.token_type : 'Bearer',
      // count from when we asked, so clock skew and latency only make us refresh earlier
      expiresAt: requestedAt + json.expires_in * 1000,
      scope: typeof json.scope === 'string' ? json.scope : undefined,
    };
  }

  private cacheKey(): string {
    // one token per issuer, client, scope and certificate: tokens are bound to the certificate
    const thumbprint = createHash('sha256').update(new X509Certificate(this.options.tls.cert ?? '').raw).digest('base64url');
    return [this.options.issuer, this.options.clientId, this.options.scope ?? '', thumbprint].join(' ');
  }
}

/** Accepts `[...]` or `{ datasets: [...] }` with names or objects carrying `name`. */
function normaliseListing(text: string, url: string): DatasetInfo[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ClientError(`${url} did not return JSON.`);
  }
  const items = Array.isArray(parsed) ? parsed : (parsed as { datasets?: unknown })?.datasets;
  if (!Array.isArray(items)) throw new ClientError(`${url} did not return a dataset list.`);
  return items.map((item: unknown) => {
    if (typeof item === 'string') return { name: item };
    const record = item as Record<string, unknown>;
    const size = typeof record.size === 'number' ? record.size : typeof record.bytes === 'number' ? record.bytes : undefined;
    return { ...record, name: String(record.name), size };
  });
}
