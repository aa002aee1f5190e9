import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const MANIFEST_FILE = 'manifest.json';

/** One OAuth scope token (RFC 6749 §3.3): printable ASCII but space, `"` and backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * An https URL that is also one scope token: a licence URL is sent as a token's scope, and
 * every URL here ends up in an RFC 6750 error description (ASCII, no quote) or an RDF IRI,
 * so the characters an IRI may not hold (RFC 3987) are refused too.
 */
export function isHttpsUrlToken(value: string): boolean {
  if (!SCOPE_TOKEN.test(value) || /[<>{}|^`]/.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

function httpsUrl(what: string, example: string) {
  return z.string().refine(isHttpsUrlToken, `must be an https URL (${what}) with no spaces or quotes, e.g. ${example}`);
}

const text = (what: string) => z.string().regex(/\S/, `must not be blank: ${what}`);

/**
 * IB1 Generic Sensitivity Classes a dataset here may be in. IB1-C (closed) is never shared
 * nor catalogued; IB1-SP (personal) needs the end user's permission and an `ib1:oauthIssuer`,
 * which this provider does not implement: both are refused with the reason.
 */
export const SENSITIVITY_CLASSES = ['IB1-O', 'IB1-SA', 'IB1-SB'] as const;
export type SensitivityClass = (typeof SENSITIVITY_CLASSES)[number];

const sensitivityRule = z.enum(SENSITIVITY_CLASSES, {
  error: (issue) =>
    issue.input === 'IB1-C'
      ? 'IB1-C is closed data, never shared nor catalogued: remove the file from the release'
      : issue.input === 'IB1-SP'
        ? 'IB1-SP (personal data) needs end-user permission through an OAuth issuer, which this provider does not implement: use IB1-SA or IB1-SB, or do not publish it here'
        : 'must be IB1-O (open), IB1-SA or IB1-SB (shared)',
});

export const ACCESS_MODES = ['open', 'shared'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

const ROLE_EXAMPLE = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';
const LICENCE_EXAMPLE = 'https://registry.core.trust.ib1.org/scheme/electricity/license/voltage-reporting/1.4';

const datasetPolicySchema = z
  .strictObject(
    {
      scopes: z.array(z.string().regex(SCOPE_TOKEN, 'must be an OAuth scope token')).optional().describe('Every one of these scopes; default: the configured default scope'),
      clientIds: z.array(z.string().min(1)).optional().describe('Only these OAuth client ids'),
      roles: z
        .array(httpsUrl('the Registry URL of an ib1:Role', ROLE_EXAMPLE))
        .min(1, 'list at least one role URL, or leave roles out')
        .optional()
        .describe('IB1 roles (Registry URLs); a client needs any one of them in its certificate (ib1Roles)'),
      licence: httpsUrl('the licence the data is used under', LICENCE_EXAMPLE)
        .optional()
        .describe('The licence URL (dcterms:license); in ib1 also the scope the access token must carry'),
      access: z
        .enum(ACCESS_MODES, { error: 'must be "open" (anyone, no authentication) or "shared" (mutual TLS and a token)' })
        .optional()
        .describe('open: served to anyone without authentication (IB1-O); shared (the default): through the FAPI resource server'),
      title: text('a short title for the catalog (dcterms:title)').optional().describe('Catalog: dcterms:title'),
      description: text('the catalog description (dcterms:description)').optional().describe('Catalog: dcterms:description'),
      sensitivity: sensitivityRule.optional().describe('IB1 sensitivity class; default IB1-O when open, IB1-SA when shared'),
      publisher: httpsUrl("the publisher's Directory URL", 'https://directory.core.trust.ib1.org/member/827252')
        .optional()
        .describe("Catalog: another dcterms:publisher, besides the provider's own Directory URL"),
      keywords: z.array(text('a keyword (dcat:keyword)')).optional().describe('Catalog: dcat:keyword'),
    },
    {
      // The IB1 specifications write "license": the likeliest slip, so named with its fix.
      error: (issue) => (issue.code === 'unrecognized_keys' && issue.keys.includes('license') ? 'Unrecognized key: "license": the field is spelled "licence"' : undefined),
    },
  )
  .superRefine((entry, ctx) => {
    if (entry.access === 'open') {
      // Nothing is checked for open data: a rule left here would read as protection it is not.
      for (const field of ['roles', 'clientIds', 'scopes'] as const) {
        if (entry[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [field], message: `an open dataset is served to anyone without authentication, so ${field} would never be checked: remove ${field}, or set access to "shared"` });
        }
      }
      if (entry.sensitivity !== undefined && entry.sensitivity !== 'IB1-O') {
        ctx.addIssue({ code: 'custom', path: ['sensitivity'], message: `an open dataset is IB1-O, not ${entry.sensitivity}: set sensitivity to "IB1-O", or access to "shared"` });
      }
    } else if (entry.sensitivity === 'IB1-O') {
      ctx.addIssue({ code: 'custom', path: ['access'], message: 'IB1-O is open data, but access is shared (the default): set access to "open", or choose a shared class (IB1-SA, IB1-SB)' });
    }
  });

/**
 * Optional `<dataDir>/manifest.json`:
 * `{ "datasets": { "<name>": { "scopes": ["energy:read"], "clientIds": ["consumer-1"] } } }`.
 * A dataset not listed (or listed without `scopes`) requires the configured default scope;
 * with no default either, it is not served.
 *
 * The ib1 profile adds per dataset: `roles` (any one), `licence` (the scope to carry),
 * `access` (`open` is served with no authentication), and the catalog's `title`,
 * `description`, `sensitivity`, `publisher` and `keywords`. Errors name the dataset and field
 * (`datasets.meters.roles.0: …`).
 */
export const manifestSchema = z.strictObject({
  datasets: z.record(z.string(), datasetPolicySchema),
});

export type Manifest = z.output<typeof manifestSchema>;
export type DatasetPolicyEntry = z.output<typeof datasetPolicySchema>;

/** What one dataset demands beyond a valid bound token. */
export interface AccessPolicy {
  /** Every one of these scopes (case-insensitive). */
  readonly scopes: readonly string[];
  /** When present, only these client ids. */
  readonly clientIds?: readonly string[];
  /** When present (ib1), the client certificate must hold any one of these role URLs (`ib1Roles`). */
  readonly roles?: readonly string[];
  /** When present, the licence URL; in ib1 the token's scope must include it. */
  readonly licence?: string;
  /** `open`: anyone, no authentication (ib1). Absent means `shared`. */
  readonly access?: AccessMode;
}

/** The manifest is present but broken: fail closed (the caller answers 503 and logs it). */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

export interface ManifestStoreOptions {
  /** Longest the last check (present and valid, or absent) is trusted without a `stat`. @default 0 */
  readonly ttlMs?: number;
  /** Monotonic clock in ms, for tests. @default performance.now */
  readonly now?: () => number;
}

/**
 * Reads the manifest when its mtime changes, so a data sync can update policy without a
 * restart. With `ttlMs`, the file is looked at no more than once per `ttlMs` (a stat per
 * request was a measurable cost), so a policy change takes effect at most `ttlMs` late. A
 * broken manifest is never trusted for any time: every request re-checks it (and fails closed).
 */
export class ManifestStore {
  private cached: { mtimeMs: number; manifest: Manifest } | undefined;
  private checked: { at: number; manifest: Manifest | undefined } | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly dataDir: string,
    private readonly defaultScope: string | undefined,
    options: ManifestStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 0;
    this.now = options.now ?? (() => performance.now());
  }

  /** Forgets the last check (the data tree was swapped): the next call looks at the file. */
  clear(): void {
    this.checked = undefined;
  }

  async load(): Promise<Manifest | undefined> {
    if (this.checked && this.now() - this.checked.at < this.ttlMs) return this.checked.manifest;
    const at = this.now();
    this.checked = undefined;
    const manifest = await this.read();
    if (this.ttlMs > 0) this.checked = { at, manifest };
    return manifest;
  }

  private async read(): Promise<Manifest | undefined> {
    const file = join(this.dataDir, MANIFEST_FILE);
    let stat;
    try {
      stat = await fs.stat(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ManifestError(`${MANIFEST_FILE}: ${(error as Error).message}`);
    }
    if (this.cached?.mtimeMs === stat.mtimeMs) return this.cached.manifest;
    let raw: unknown;
    try {
      raw = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (error) {
      throw new ManifestError(`${MANIFEST_FILE}: not valid JSON (${(error as Error).message})`);
    }
    const parsed = manifestSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ManifestError(`${MANIFEST_FILE}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    this.cached = { mtimeMs: stat.mtimeMs, manifest: parsed.data };
    return parsed.data;
  }

  /**
   * The policy for one dataset: its manifest entry's scopes, else the default scope. With
   * neither the policy has no scopes, which the decision pipeline refuses (fail closed).
   */
  async policyFor(name: string): Promise<AccessPolicy> {
    return this.policyIn(await this.load(), name);
  }

  /** `policyFor` from the last check while it is within the TTL, without touching the disk (undefined: ask `policyFor`). */
  peekPolicy(name: string): AccessPolicy | undefined {
    if (!this.checked || this.now() - this.checked.at >= this.ttlMs) return undefined;
    return this.policyIn(this.checked.manifest, name);
  }

  private policyIn(manifest: Manifest | undefined, name: string): AccessPolicy {
    const entry = manifest?.datasets[name];
    const defaults = this.defaultScope ? [this.defaultScope] : [];
    // Only what the entry sets: a policy without these fields is exactly the open-energy one.
    return {
      scopes: entry?.scopes ?? defaults,
      ...(entry?.clientIds ? { clientIds: entry.clientIds } : {}),
      ...(entry?.roles ? { roles: entry.roles } : {}),
      ...(entry?.licence !== undefined ? { licence: entry.licence } : {}),
      ...(entry?.access !== undefined ? { access: entry.access } : {}),
    };
  }
}
