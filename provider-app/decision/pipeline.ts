import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { DatasetCache } from '../dataset-cache';
import type { DatasetFile } from '../datasets';
import { HttpError } from '../errors';
import { AuthorizationServerUnavailable, type IntrospectionResult, type Introspector } from '../introspection';
import { ManifestError, type AccessPolicy, type ManifestStore } from '../manifest';
import type { TrustProfile } from '../../contract/rules';
import { parseBearer } from '../middleware/bearer';
import type { ClientCertificate } from '../middleware/client-cert';
import type { ClientCertificateCache } from '../middleware/client-cert-cache';
import { ib1Refusal, isOpenAccess, type Ib1Caller } from './ib1-policy';
import { datasetName, plainDatasetSegment } from './routes';

export interface PipelineDeps {
  readonly introspector: Introspector;
  readonly certificates: ClientCertificateCache;
  readonly manifest: ManifestStore;
  readonly datasets: DatasetCache;
  /** The header nginx passes the client certificate in, in any case. */
  readonly clientCertHeader: string;
  readonly clockSkewSeconds: number;
  /** `Retry-After` of a 503. */
  readonly retryAfterSeconds: number;
  readonly now: () => number;
  /**
   * ib1: Directory-URL client ids, roles and licences (`ib1-policy.ts`), open datasets before
   * any authentication. The certificate cache must then read IB1 certificates
   * (`parseIb1ClientCertificate`). @default 'open-energy'
   */
  readonly profile?: TrustProfile;
  /** ib1: the licence a shared dataset whose manifest entry names none requires (the config's `scope`). */
  readonly defaultLicence?: string;
  /**
   * Paths the app answers itself besides `ROUTES` (the ib1 heartbeat), lower-case: the
   * cache-only mode leaves them to Express, so that no dataset can shadow them.
   */
  readonly reservedPaths?: readonly string[];
}

/** A request as the pipeline reads it. */
export interface ReadRequest {
  readonly headers: IncomingHttpHeaders;
  /** The query string carries an `access_token` parameter. */
  readonly tokenInQuery?: boolean;
}

/** Who is calling, once the certificate, the token and the binding passed. */
export interface Caller {
  readonly clientId: string | undefined;
  readonly certSubject: string;
  /** Lower-cased scopes of the token. */
  readonly scopes: ReadonlySet<string>;
  /** The token's `exp` (seconds since the epoch). */
  readonly tokenExpiresAt: number;
  /** The client certificate's notAfter (ms since the epoch). */
  readonly certificateExpiresAt: number;
  /** ib1: the certificate's `ib1Roles` (role URLs). */
  readonly roles?: readonly string[];
  /** ib1: the certificate's `ib1Member` (the member's Directory URL). */
  readonly memberUrl?: string;
  /** ib1: nobody was authenticated (an open dataset). */
  readonly anonymous?: true;
}

/**
 * The caller of an open dataset's read (ib1): nobody, never authenticated, whatever
 * certificate or token the request carried. Its reuse by nginx is bounded by
 * `authzCacheSeconds` alone.
 */
export const ANONYMOUS: Caller = Object.freeze({
  clientId: undefined,
  certSubject: '',
  scopes: new Set<string>(),
  tokenExpiresAt: Number.POSITIVE_INFINITY,
  certificateExpiresAt: Number.POSITIVE_INFINITY,
  anonymous: true,
});

/** An authorised dataset read. */
export interface AllowedRead {
  readonly caller: Caller;
  /** `meters` for `/meters` and `/meters.csv`. */
  readonly name: string;
  readonly file: DatasetFile;
  /** ib1: an open dataset, read by `ANONYMOUS`. */
  readonly open?: true;
}

/**
 * A full decision's link to its request: what it learnt before a refusal (the access line
 * names the caller and dataset even then) and the request's logger. Express passes `res.locals`.
 */
export interface Trace {
  certSubject?: string;
  clientId?: string;
  dataset?: string;
  /** ib1: the certificate's roles and member, for the access line. */
  roles?: readonly string[];
  member?: string;
  readonly log?: Pick<Logger, 'warn' | 'error'>;
}

// What a step needs looked up. The steps are written once, as generators yielding these:
// the full mode answers each with a call that may go to the authorization server or the
// disk, the cache-only mode with what is cached and stops at the first miss. So the two
// modes cannot drift apart in which checks they run or in what order.
type Lookup =
  | { readonly kind: 'introspection'; readonly token: string }
  | { readonly kind: 'policy'; readonly name: string }
  | { readonly kind: 'dataset'; readonly name: string };
interface Answers {
  readonly introspection: IntrospectionResult;
  readonly policy: AccessPolicy;
  /** Undefined: no such dataset (full mode) or not cached (cache-only). */
  readonly dataset: DatasetFile | undefined;
}
type Answer = Answers[keyof Answers];
type Steps<T> = Generator<Lookup, T, Answer>;

function* lookUp<K extends Lookup['kind']>(lookup: Extract<Lookup, { kind: K }>): Steps<Answers[K]> {
  // The driver answers a lookup with the answer of its kind.
  return (yield lookup) as Answers[K];
}

/**
 * Decides whether a request may read a dataset: certificate → token → binding (RFC 8705
 * `cnf.x5t#S256`) → policy (scopes, client ids) → dataset (exists, inside `dataDir`).
 *
 * Full mode (`authenticate`, `decide`) may introspect at the authorization server and read the
 * disk, and settles every request: an allowed read, or an `HttpError` saying why not.
 * Cache-only mode (`decideFromCache`) is synchronous and answers from what is cached only:
 * an allowed read, or undefined when the cache cannot decide (a miss or a refusal), for the
 * full mode to settle and explain.
 */
export class DecisionPipeline {
  private readonly certHeader: string;
  private readonly peekToken: ((token: string) => IntrospectionResult | undefined) | undefined;
  private readonly ib1: boolean;
  private readonly reserved: ReadonlySet<string>;

  constructor(private readonly deps: PipelineDeps) {
    // Node lower-cases incoming header names.
    this.certHeader = deps.clientCertHeader.toLowerCase();
    this.peekToken = deps.introspector.peek?.bind(deps.introspector);
    this.ib1 = deps.profile === 'ib1';
    this.reserved = new Set((deps.reservedPaths ?? []).map((path) => path.toLowerCase()));
  }

  /** Full mode, certificate → token → binding: the caller, or an HttpError. */
  authenticate(request: ReadRequest, trace: Trace = {}): Promise<Caller> {
    return this.full(this.authenticateSteps(request, trace), trace);
  }

  /**
   * Full mode, for what anyone may ask but members see more of (ib1's `/datasets`): no
   * caller (undefined) for a request without an Authorization header; otherwise as
   * `authenticate`, refusals included. In open-energy, `authenticate` itself.
   */
  identify(request: ReadRequest, trace: Trace = {}): Promise<Caller | undefined> {
    if (this.ib1 && header(request.headers, 'authorization') === undefined && !request.tokenInQuery) return Promise.resolve(undefined);
    return this.authenticate(request, trace);
  }

  /** Full mode, every step, for the `segment` Express routed (`meters`, `meters.csv`). */
  decide(request: ReadRequest, segment: string, trace: Trace = {}): Promise<AllowedRead> {
    return this.full(this.readStepsOf(request, segment, trace), trace);
  }

  /** The policy step alone, for the list of datasets: false when `caller` (undefined: anonymous) may not read `name`. */
  async mayRead(caller: Caller | undefined, name: string, trace: Trace = {}): Promise<boolean> {
    const policy = await this.policyFor(name, trace);
    if (this.ib1) return ib1Refusal(this.ib1Policy(policy), caller === undefined ? undefined : ib1CallerOf(caller)) === undefined;
    return caller !== undefined && policyRefusal(caller, policy) === undefined;
  }

  /** Cache-only mode, for a raw path (`/meters`, `/meters.csv`, query string included). */
  decideFromCache(path: string, headers: IncomingHttpHeaders): AllowedRead | undefined {
    // Open-energy needs a cached token for any read; ib1's open datasets need none.
    if (!this.peekToken && !this.ib1) return undefined;
    const segment = plainDatasetSegment(path);
    if (segment === undefined) return undefined;
    if (this.reserved.size > 0 && this.reserved.has(`/${segment.toLowerCase().replace(/\.csv$/, '')}`)) return undefined;
    try {
      return this.cached(this.readStepsOf({ headers }, segment, {}));
    } catch {
      // A refusal, or anything unexpected: the full mode decides, and explains.
      return undefined;
    }
  }

  private readStepsOf(request: ReadRequest, segment: string, trace: Trace): Steps<AllowedRead> {
    return this.ib1 ? this.ib1ReadSteps(request, segment, trace) : this.readSteps(request, segment, trace);
  }

  private *authenticateSteps(request: ReadRequest, trace: Trace): Steps<Caller> {
    // FAPI 1.0 §6.2.1. First, so that a token sent in a URL is never looked at.
    if (request.tokenInQuery) throw new HttpError(400, 'invalid_request', 'access tokens are not accepted in the query string; use the Authorization header');

    const cert = this.deps.certificates.parse(header(request.headers, this.certHeader));
    trace.certSubject = cert.subject;
    if (this.ib1) {
      // The certificate cache of an ib1 pipeline reads IB1 certificates; a missing identity is a wiring error, refused.
      if (!cert.ib1) throw new HttpError(401, 'invalid_token', 'the client certificate is not an IB1 member certificate');
      trace.roles = cert.ib1.roles;
      if (cert.ib1.memberUrl !== undefined) trace.member = cert.ib1.memberUrl;
    }
    // A parsed certificate is cached; its validity is not, so it is checked on every request.
    const nowMs = this.deps.now();
    if (cert.notAfter.getTime() < nowMs || cert.notBefore.getTime() > nowMs) {
      throw new HttpError(401, 'invalid_token', 'the client certificate is outside its validity period');
    }

    const result = yield* lookUp({ kind: 'introspection', token: parseBearer(header(request.headers, 'authorization')) });
    if (typeof result.client_id === 'string') trace.clientId = result.client_id;
    checkToken(result, Math.floor(this.deps.now() / 1000), this.deps.clockSkewSeconds);

    if (this.ib1) checkIb1Binding(result, cert);
    else checkBinding(result, cert.thumbprint);
    return {
      clientId: result.client_id,
      certSubject: cert.subject,
      scopes: new Set((result.scope ?? '').split(' ').filter(Boolean).map((s) => s.toLowerCase())),
      // checkToken has refused a token without a numeric exp.
      tokenExpiresAt: result.exp as number,
      certificateExpiresAt: cert.notAfter.getTime(),
      ...(cert.ib1 ? { roles: cert.ib1.roles, ...(cert.ib1.memberUrl === undefined ? {} : { memberUrl: cert.ib1.memberUrl }) } : {}),
    };
  }

  /**
   * ib1: the policy first, because an open dataset is served before, and without, any
   * authentication (IB1 data provider guidance: open data to anyone, members or not). Its
   * certificate or token, if the request carries one, is not looked at, so a bad or expired
   * token does not stop an open read. A shared dataset then goes through every step.
   */
  private *ib1ReadSteps(request: ReadRequest, segment: string, trace: Trace): Steps<AllowedRead> {
    // Even for open data: a token in a URL is a leak the client should hear about.
    if (request.tokenInQuery) throw new HttpError(400, 'invalid_request', 'access tokens are not accepted in the query string; use the Authorization header');
    const name = datasetName(segment);
    if (name === undefined) throw new HttpError(404, 'not_found', 'no such dataset');
    trace.dataset = name;
    // Any name has a policy (shared by default), so an anonymous caller learns nothing here
    // about which shared datasets exist: they all answer 401.
    const policy = this.ib1Policy(yield* lookUp({ kind: 'policy', name }));
    if (isOpenAccess(policy)) {
      const file = yield* lookUp({ kind: 'dataset', name });
      if (!file) throw new HttpError(404, 'not_found', 'no such dataset');
      return { caller: ANONYMOUS, name, file, open: true };
    }
    const caller = yield* this.authenticateSteps(request, trace);
    const refusal = ib1Refusal(policy, ib1CallerOf(caller));
    if (refusal) throw refusal;
    const file = yield* lookUp({ kind: 'dataset', name });
    if (!file) throw new HttpError(404, 'not_found', 'no such dataset');
    return { caller, name, file };
  }

  /** ib1: a shared dataset without a licence of its own requires the default licence. */
  private ib1Policy(policy: AccessPolicy): AccessPolicy {
    if (isOpenAccess(policy) || policy.licence !== undefined || this.deps.defaultLicence === undefined) return policy;
    return { ...policy, licence: this.deps.defaultLicence };
  }

  private *readSteps(request: ReadRequest, segment: string, trace: Trace): Steps<AllowedRead> {
    const caller = yield* this.authenticateSteps(request, trace);

    // A policy is for a name: one that cannot be a dataset is refused before any is looked up.
    const name = datasetName(segment);
    if (name === undefined) throw new HttpError(404, 'not_found', 'no such dataset');
    trace.dataset = name;
    // Before the file is looked up, so a refusal does not tell whether the dataset exists.
    const refusal = policyRefusal(caller, yield* lookUp({ kind: 'policy', name }));
    if (refusal) throw refusal;

    const file = yield* lookUp({ kind: 'dataset', name });
    if (!file) throw new HttpError(404, 'not_found', 'no such dataset');
    return { caller, name, file };
  }

  private async full<T>(steps: Steps<T>, trace: Trace): Promise<T> {
    let step = steps.next();
    while (!step.done) step = steps.next(await this.fetch(step.value, trace));
    return step.value;
  }

  private cached<T>(steps: Steps<T>): T | undefined {
    let step = steps.next();
    while (!step.done) {
      const answer = this.peek(step.value);
      if (answer === undefined) return undefined;
      step = steps.next(answer);
    }
    return step.value;
  }

  private fetch(lookup: Lookup, trace: Trace): Promise<Answer> {
    switch (lookup.kind) {
      case 'introspection':
        return this.introspect(lookup.token, trace);
      case 'policy':
        return this.policyFor(lookup.name, trace);
      case 'dataset':
        return this.deps.datasets.resolve(lookup.name);
    }
  }

  private peek(lookup: Lookup): Answer | undefined {
    switch (lookup.kind) {
      case 'introspection':
        return this.peekToken?.(lookup.token);
      case 'policy':
        return this.deps.manifest.peekPolicy(lookup.name);
      case 'dataset':
        return this.deps.datasets.peek(lookup.name);
    }
  }

  private introspect(token: string, trace: Trace): Promise<IntrospectionResult> {
    const log = (reason: string) => trace.log?.warn({ reason }, 'authorization server unavailable');
    return this.unavailableOn(AuthorizationServerUnavailable, () => this.deps.introspector.introspect(token), 'the authorization server is unavailable; retry later', log);
  }

  private policyFor(name: string, trace: Trace): Promise<AccessPolicy> {
    // A broken manifest fails closed.
    const log = (reason: string) => trace.log?.error({ reason }, 'dataset manifest is invalid');
    return this.unavailableOn(ManifestError, () => this.deps.manifest.policyFor(name), 'the dataset policy is being updated; retry later', log);
  }

  /** A 503 the client may retry when `call` fails with `cause`; the reason is for the operator's log only. */
  private async unavailableOn<T>(cause: abstract new (...args: never[]) => Error, call: () => Promise<T>, description: string, log: (reason: string) => void): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof cause)) throw error;
      log(error.message);
      throw new HttpError(503, 'temporarily_unavailable', description, { retryAfterSeconds: this.deps.retryAfterSeconds });
    }
  }
}

// Node joins repeated headers into one string (bar Set-Cookie), so anything else is absent.
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** RFC 7662 checks on an introspection result; a 401 HttpError on the first failure. */
function checkToken(result: IntrospectionResult, nowSeconds: number, skewSeconds: number): void {
  const invalid = (why: string) => new HttpError(401, 'invalid_token', why);
  // A locally validated JWT says why (signature, key, expiry, issuer, audience, algorithm).
  if (result.active !== true) throw invalid(result.localRefusal ?? 'the access token is not active');
  // A refresh token (or any other kind) must not work as an access token.
  if (typeof result.token_type === 'string' && result.token_type.toLowerCase() !== 'bearer') throw invalid('the token is not a bearer access token');
  if (typeof result.exp !== 'number') throw invalid('the access token has no expiry');
  if (result.exp <= nowSeconds - skewSeconds) throw invalid('the access token has expired');
  if (typeof result.iat === 'number' && result.iat > nowSeconds + skewSeconds) throw invalid('the access token was issued in the future');
  if (typeof result.nbf === 'number' && result.nbf > nowSeconds + skewSeconds) throw invalid('the access token is not valid yet');
}

/** RFC 8705: the token must be bound to the certificate presented. */
function checkBinding(result: IntrospectionResult, certThumbprint: string): void {
  const bound = result.cnf?.['x5t#S256'];
  // FAPI: only sender-constrained tokens. A token without a certificate binding is refused outright.
  if (typeof bound !== 'string' || bound === '') throw new HttpError(401, 'invalid_token', 'the access token is not certificate-bound (no cnf.x5t#S256)');
  if (bound !== certThumbprint) throw new HttpError(401, 'invalid_token', 'the access token is bound to a different client certificate');
}

/**
 * IB1 (OAuth with Member Identity Certificates): the token is bound to the client's
 * Directory URL, the URI in its certificate: `client_id` must equal it. A `cnf` the token
 * carries (RFC 8705) is still checked; without one the client_id binding is enough.
 */
function checkIb1Binding(result: IntrospectionResult, cert: ClientCertificate): void {
  if (result.client_id !== cert.ib1?.directoryUrl) {
    throw new HttpError(401, 'invalid_token', "the token was issued to a different client than the certificate's Directory URL");
  }
  if (result.cnf === undefined) return;
  const bound = result.cnf['x5t#S256'];
  if (typeof bound !== 'string' || bound === '') throw new HttpError(401, 'invalid_token', 'the access token is bound (cnf) by other means than x5t#S256, which this resource server cannot check');
  if (bound !== cert.thumbprint) throw new HttpError(401, 'invalid_token', 'the access token is bound to a different client certificate');
}

function ib1CallerOf(caller: Caller): Ib1Caller {
  return { identity: { roles: caller.roles ?? [] }, scopes: caller.scopes, clientId: caller.clientId };
}

/**
 * The 403 the caller gets under `policy`, or undefined. Fails closed: a policy that requires
 * no scope (no `scope` configured and no scopes in the dataset's manifest entry) admits
 * nobody, as any active bound token from any client of the authorization server would
 * otherwise do.
 */
function policyRefusal(caller: Caller, policy: AccessPolicy): HttpError | undefined {
  if (policy.scopes.length === 0) {
    return new HttpError(403, 'insufficient_scope', 'the provider has no scope configured for this dataset, so it is not served');
  }
  if (policy.clientIds && (caller.clientId === undefined || !policy.clientIds.includes(caller.clientId))) {
    return new HttpError(403, 'insufficient_scope', 'this client may not read this resource');
  }
  const missing = policy.scopes.filter((scope) => !caller.scopes.has(scope.toLowerCase()));
  if (missing.length > 0) {
    return new HttpError(403, 'insufficient_scope', `the access token lacks the required scope: ${missing.join(' ')}`, { scope: policy.scopes.join(' ') });
  }
  return undefined;
}
