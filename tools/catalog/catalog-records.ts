/**
 * The provider's Data Catalog Records (IB1 Data Catalog Records 1.0, Role-based Access
 * Control 1.0, Generic Sensitivity Classes 1.0) as one JSON-LD document, from a release:
 * its policy (manifest.json), its files (names, sizes, SHA-256) and a few provider facts.
 * Pure: no I/O, no clock, so the same release always gives the same document.
 *
 * The graph, flat (`@graph`), every reference an `{ "@id": … }`:
 *   <base>/<name>#dataset   dcat:Dataset: dcterms:title, description, publisher, license,
 *                           dcat:keyword, dcat:distribution, ib1:trustFramework, ib1:scheme,
 *                           ib1:sensitivityClass, ib1:roleRequiredToAccess (any one of)
 *   <base>/<name>#csv       dcat:Distribution: dcat:accessURL = dcat:downloadURL = <base>/<name>,
 *                           dcat:mediaType "text/csv", dcat:byteSize, spdx:checksum (SHA-256)
 *   <base>#heartbeat        dcat:DataService (with a heartbeat URL): dcat:endpointURL,
 *                           dcat:servesDataset, ib1:heartbeatDescription when given
 * The subjects are built from the base URL and the dataset name only: IB1 requires a record's
 * subject URL never to change (Data Catalog Publishing, "Permitted Changes").
 *
 * Vocabulary: `ib1:` is the one the IB1 specifications define, https://registry.trust.ib1.org/ns/1.0#
 * (their "RDF Prefixes" sections; some of their examples write registry.core.trust.ib1.org
 * instead). Sensitivity classes are the Generic Sensitivity Classes' URLs. `spdx:` is the
 * SPDX namespace DCAT 3 uses for dcat:Distribution checksums.
 *
 * In the ib1 trust framework a record lacking what the specifications make mandatory is an
 * error naming the dataset and field (the Directory would reject it); in open-energy those
 * fields are written when the manifest has them.
 */
import type { ReleaseFile } from '../../contract/release-manifest';
import { isDatasetName } from '../../provider-app/decision/routes';
import { isHttpsUrlToken, type DatasetPolicyEntry, type Manifest, type SensitivityClass } from '../../provider-app/manifest';

export const CATALOG_CONTEXT = {
  dcat: 'http://www.w3.org/ns/dcat#',
  dcterms: 'http://purl.org/dc/terms/',
  ib1: 'https://registry.trust.ib1.org/ns/1.0#',
  spdx: 'http://spdx.org/rdf/terms#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
} as const;

/** Generic Sensitivity Classes 1.0: the class URL is this followed by its code (IB1-SA). */
export const SENSITIVITY_CLASS_BASE = 'https://registry.trust.ib1.org/sensitivity-class/';

/** The trust framework every IB1 specification example names; --trust-framework-url overrides it. */
export const IB1_CORE_TRUST_FRAMEWORK = 'https://registry.core.trust.ib1.org/trust-framework';

const SPDX_SHA256 = 'http://spdx.org/rdf/terms#checksumAlgorithm_sha256';
const CSV = '.csv';

export type TrustFramework = 'ib1' | 'open-energy';

/** What the release does not say about the provider. */
export interface ProviderFacts {
  /** The provider's https URL; dataset `x` is read at `<baseUrl>/x`. */
  readonly baseUrl: string;
  readonly trustFramework: TrustFramework;
  /** `ib1:trustFramework`. @default IB1_CORE_TRUST_FRAMEWORK in ib1, none in open-energy */
  readonly trustFrameworkUrl?: string;
  /** `ib1:scheme`: the Scheme's Registry URL. Required in ib1. */
  readonly scheme?: string;
  /** `dcterms:publisher`: the provider's Member URL in the Directory (it must match exactly). */
  readonly publisher: string;
  /** A URL answering 200 while the provider is up: written as a dcat:DataService. */
  readonly heartbeatUrl?: string;
  /** `ib1:heartbeatDescription`: the Registry's OpenAPI file for the heartbeat. */
  readonly heartbeatDescription?: string;
}

export interface CatalogInput {
  /** The release's policy (manifest.json); absent when it has none. */
  readonly policy?: Manifest | undefined;
  readonly files: readonly ReleaseFile[];
  readonly provider: ProviderFacts;
}

/** `where`: a provider fact (`baseUrl`) or a manifest path (`datasets.meters.title`). */
export interface CatalogProblem {
  readonly where: string;
  readonly message: string;
}

/** The records cannot be written as asked; every problem names its field and the fix. */
export class CatalogError extends Error {
  constructor(readonly problems: readonly CatalogProblem[]) {
    super(problems.map((p) => `${p.where}: ${p.message}`).join('; '));
    this.name = 'CatalogError';
  }
}

type Ref = { readonly '@id': string };
export interface CatalogNode {
  readonly '@id': string;
  readonly '@type': string;
  readonly [term: string]: unknown;
}
export interface CatalogDocument {
  readonly '@context': typeof CATALOG_CONTEXT;
  readonly '@graph': readonly CatalogNode[];
}

export interface Catalog {
  readonly document: CatalogDocument;
  /** The datasets described, by name. */
  readonly datasets: readonly string[];
  /** Not wrong enough to stop: a policy entry for a dataset the release lacks. */
  readonly warnings: readonly string[];
}

const ref = (iri: string): Ref => ({ '@id': iri });

/** The files the host serves as datasets: `<name>.csv` at the top of the tree, by name. */
export function datasetFiles(files: readonly ReleaseFile[]): { readonly name: string; readonly file: ReleaseFile }[] {
  return files
    .filter((file) => file.name.endsWith(CSV) && !file.name.includes('/') && isDatasetName(file.name.slice(0, -CSV.length)))
    .map((file) => ({ name: file.name.slice(0, -CSV.length), file }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function checkFacts(facts: ProviderFacts): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  const url = (where: keyof ProviderFacts, value: string | undefined, what: string) => {
    if (value !== undefined && !isHttpsUrlToken(value)) problems.push({ where, message: `must be an https URL (${what}), got ${JSON.stringify(value)}` });
  };
  url('baseUrl', facts.baseUrl, 'where the provider serves its datasets, e.g. https://data.example.com');
  if (isHttpsUrlToken(facts.baseUrl) && (/[?#]/.test(facts.baseUrl))) problems.push({ where: 'baseUrl', message: 'must have no query or fragment: dataset URLs are <baseUrl>/<name>' });
  url('publisher', facts.publisher, "the provider's Member URL in the Directory, e.g. https://directory.core.trust.ib1.org/member/827252");
  url('scheme', facts.scheme, "the Scheme's Registry URL");
  url('trustFrameworkUrl', facts.trustFrameworkUrl, "the Trust Framework's Registry URL");
  url('heartbeatUrl', facts.heartbeatUrl, 'a URL that answers 200 while the provider is up');
  url('heartbeatDescription', facts.heartbeatDescription, "the Registry's OpenAPI file of the heartbeat");
  if (facts.trustFramework === 'ib1' && facts.scheme === undefined) {
    problems.push({ where: 'scheme', message: "required in the ib1 trust framework (ib1:scheme): the Registry URL of the Scheme the datasets are published in, e.g. https://registry.core.trust.ib1.org/scheme/electricity" });
  }
  return problems;
}

/** What IB1 Data Catalog Records and RBAC make mandatory, for one dataset. */
function ib1Problems(name: string, entry: DatasetPolicyEntry | undefined): CatalogProblem[] {
  const where = `datasets.${name}`;
  if (entry === undefined) {
    return [{ where, message: `not in manifest.json; an IB1 catalog record needs its title, description, licence, and roles unless it is open: add an entry for "${name}"` }];
  }
  const problems: CatalogProblem[] = [];
  const need = (field: keyof DatasetPolicyEntry, term: string, fix: string) => {
    if (entry[field] === undefined) problems.push({ where: `${where}.${field}`, message: `required in an IB1 catalog record (${term}): ${fix}` });
  };
  need('title', 'dcterms:title', 'add a short title');
  need('description', 'dcterms:description', 'add a description with the words people will search for');
  need('licence', 'dcterms:license', entry.access === 'open' ? 'add the URL of the open licence, e.g. https://creativecommons.org/licenses/by/4.0/' : 'add the Registry URL of the licence');
  if (entry.access !== 'open' && entry.roles === undefined) {
    problems.push({ where: `${where}.roles`, message: 'shared data needs at least one role (ib1:roleRequiredToAccess): add the Registry URLs of the roles that may read it, or set access to "open"' });
  }
  return problems;
}

function sensitivityOf(entry: DatasetPolicyEntry | undefined): SensitivityClass {
  return entry?.sensitivity ?? (entry?.access === 'open' ? 'IB1-O' : 'IB1-SA');
}

/**
 * The catalog records of a release. Throws {@link CatalogError} listing every problem (bad
 * provider facts; in ib1, every missing mandatory field of every dataset) at once.
 */
export function buildCatalog(input: CatalogInput): Catalog {
  const { provider, policy } = input;
  const ib1 = provider.trustFramework === 'ib1';
  const datasets = datasetFiles(input.files);
  const problems = checkFacts(provider);
  if (datasets.length === 0) problems.push({ where: 'files', message: 'the release has no dataset (a <name>.csv file at the top of the folder) to describe' });
  if (ib1) for (const { name } of datasets) problems.push(...ib1Problems(name, policy?.datasets[name]));
  if (problems.length > 0) throw new CatalogError(problems);

  const base = provider.baseUrl.replace(/\/+$/, '');
  const trustFramework = provider.trustFrameworkUrl ?? (ib1 ? IB1_CORE_TRUST_FRAMEWORK : undefined);
  // Where the records sit in the trust framework: on every entry, as the specifications ask.
  const framework = {
    ...(trustFramework !== undefined ? { 'ib1:trustFramework': ref(trustFramework) } : {}),
    ...(provider.scheme !== undefined ? { 'ib1:scheme': ref(provider.scheme) } : {}),
  };

  const graph: CatalogNode[] = [];
  for (const { name, file } of datasets) {
    const entry = policy?.datasets[name];
    const url = `${base}/${name}`;
    const distribution = `${url}#csv`;
    const publishers = [...new Set([provider.publisher, ...(entry?.publisher !== undefined ? [entry.publisher] : [])])];
    graph.push({
      '@id': `${url}#dataset`,
      '@type': 'dcat:Dataset',
      'dcterms:title': entry?.title ?? name,
      ...(entry?.description !== undefined ? { 'dcterms:description': entry.description } : {}),
      'dcterms:publisher': publishers.map(ref),
      ...(entry?.licence !== undefined ? { 'dcterms:license': ref(entry.licence) } : {}),
      ...(entry?.keywords !== undefined ? { 'dcat:keyword': [...entry.keywords] } : {}),
      'dcat:distribution': [ref(distribution)],
      ...framework,
      // In open-energy only what the manifest says; ib1 records always carry a class.
      ...(ib1 || entry?.sensitivity !== undefined ? { 'ib1:sensitivityClass': ref(`${SENSITIVITY_CLASS_BASE}${sensitivityOf(entry)}`) } : {}),
      ...(entry?.roles !== undefined ? { 'ib1:roleRequiredToAccess': entry.roles.map(ref) } : {}),
    });
    graph.push({
      '@id': distribution,
      '@type': 'dcat:Distribution',
      'dcterms:description': 'CSV',
      'dcat:accessURL': ref(url),
      'dcat:downloadURL': ref(url),
      'dcat:mediaType': 'text/csv',
      'dcat:byteSize': { '@value': String(file.size), '@type': 'xsd:nonNegativeInteger' },
      'spdx:checksum': { '@type': 'spdx:Checksum', 'spdx:algorithm': ref(SPDX_SHA256), 'spdx:checksumValue': { '@value': file.sha256, '@type': 'xsd:hexBinary' } },
    });
  }

  if (provider.heartbeatUrl !== undefined) {
    graph.push({
      '@id': `${base}#heartbeat`,
      '@type': 'dcat:DataService',
      'dcterms:title': `Heartbeat of ${new URL(base).host}`,
      'dcterms:publisher': [ref(provider.publisher)],
      'dcat:endpointURL': ref(provider.heartbeatUrl),
      ...(provider.heartbeatDescription !== undefined ? { 'ib1:heartbeatDescription': ref(provider.heartbeatDescription) } : {}),
      'dcat:servesDataset': datasets.map(({ name }) => ref(`${base}/${name}#dataset`)),
      ...framework,
    });
  }

  const described = new Set(datasets.map(({ name }) => name));
  const warnings = Object.keys(policy?.datasets ?? {})
    .filter((name) => !described.has(name))
    .map((name) => `datasets.${name}: in manifest.json but the release has no ${name}.csv; not catalogued`);

  return { document: { '@context': CATALOG_CONTEXT, '@graph': graph }, datasets: datasets.map(({ name }) => name), warnings };
}
