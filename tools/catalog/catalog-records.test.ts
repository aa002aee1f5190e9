import type { ReleaseFile } from '../../contract/release-manifest';
import type { Manifest } from '../../provider-app/manifest';
import { buildCatalog, CatalogError, IB1_CORE_TRUST_FRAMEWORK, type CatalogInput, type ProviderFacts } from './catalog-records';

const BASE = 'https://data.example.com';
const MEMBER = 'https://directory.core.trust.ib1.org/member/827252';
const SCHEME = 'https://registry.core.trust.ib1.org/scheme/electricity';
const REPORTER = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';
const ARCHIVER = 'https://registry.core.trust.ib1.org/scheme/electricity/role/archiver';
const LICENCE = 'https://registry.core.trust.ib1.org/scheme/electricity/license/voltage-reporting/1.4';
const CC_BY = 'https://creativecommons.org/licenses/by/4.0/';
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

const files: ReleaseFile[] = [
  { name: 'carbon-intensity.csv', size: 1234, sha256: SHA_A },
  { name: 'manifest.json', size: 10, sha256: SHA_B },
  { name: 'voltage.csv', size: 99, sha256: SHA_B },
];
const policy: Manifest = {
  datasets: {
    voltage: { roles: [REPORTER, ARCHIVER], licence: LICENCE, title: 'Supply voltage', description: 'Half-hourly supply voltage', keywords: ['voltage', 'electricity'] },
    'carbon-intensity': { access: 'open', licence: CC_BY, title: 'Carbon intensity', description: 'Grid carbon intensity' },
  },
};
const ib1: ProviderFacts = { baseUrl: BASE, trustFramework: 'ib1', scheme: SCHEME, publisher: MEMBER };

interface Node {
  '@id': string;
  '@type': string;
  [term: string]: unknown;
}
/** The document as a consumer reads it: parsed back from its JSON, nodes by @id. */
function graphOf(input: CatalogInput): { context: Record<string, string>; nodes: Map<string, Node> } {
  const parsed = JSON.parse(JSON.stringify(buildCatalog(input).document)) as { '@context': Record<string, string>; '@graph': Node[] };
  return { context: parsed['@context'], nodes: new Map(parsed['@graph'].map((node) => [node['@id'], node])) };
}
const node = (nodes: Map<string, Node>, id: string): Node => {
  const found = nodes.get(id);
  if (!found) throw new Error(`no node ${id}; the graph has ${[...nodes.keys()].join(', ')}`);
  return found;
};
const ids = (value: unknown) => (value as { '@id': string }[]).map((r) => r['@id']);
const problemsOf = (input: CatalogInput): string[] => {
  try {
    buildCatalog(input);
  } catch (error) {
    if (error instanceof CatalogError) return error.problems.map((p) => `${p.where}: ${p.message}`);
    throw error;
  }
  throw new Error('buildCatalog did not refuse');
};

describe('catalog records in the ib1 trust framework', () => {
  it('describes a shared dataset: title, description, publisher, licence, keywords, any-of roles, IB1-SA, trust framework and scheme', () => {
    const { nodes } = graphOf({ policy, files, provider: ib1 });
    const voltage = node(nodes, `${BASE}/voltage#dataset`);
    expect(voltage['@type']).toBe('dcat:Dataset');
    expect(voltage['dcterms:title']).toBe('Supply voltage');
    expect(voltage['dcterms:description']).toBe('Half-hourly supply voltage');
    expect(ids(voltage['dcterms:publisher'])).toEqual([MEMBER]);
    expect(voltage['dcterms:license']).toEqual({ '@id': LICENCE });
    expect(voltage['dcat:keyword']).toEqual(['voltage', 'electricity']);
    expect(ids(voltage['ib1:roleRequiredToAccess'])).toEqual([REPORTER, ARCHIVER]);
    expect(voltage['ib1:sensitivityClass']).toEqual({ '@id': 'https://registry.trust.ib1.org/sensitivity-class/IB1-SA' });
    expect(voltage['ib1:trustFramework']).toEqual({ '@id': IB1_CORE_TRUST_FRAMEWORK });
    expect(voltage['ib1:scheme']).toEqual({ '@id': SCHEME });
    expect(ids(voltage['dcat:distribution'])).toEqual([`${BASE}/voltage#csv`]);
  });

  it('describes its CSV distribution: access and download URL <base>/<name>, text/csv, byte size and SHA-256', () => {
    const { nodes } = graphOf({ policy, files, provider: ib1 });
    const csv = node(nodes, `${BASE}/voltage#csv`);
    expect(csv['@type']).toBe('dcat:Distribution');
    expect(csv['dcat:accessURL']).toEqual({ '@id': `${BASE}/voltage` });
    expect(csv['dcat:downloadURL']).toEqual({ '@id': `${BASE}/voltage` });
    expect(csv['dcat:mediaType']).toBe('text/csv');
    expect(csv['dcat:byteSize']).toEqual({ '@value': '99', '@type': 'xsd:nonNegativeInteger' });
    expect(csv['spdx:checksum']).toEqual({
      '@type': 'spdx:Checksum',
      'spdx:algorithm': { '@id': 'http://spdx.org/rdf/terms#checksumAlgorithm_sha256' },
      'spdx:checksumValue': { '@value': SHA_B, '@type': 'xsd:hexBinary' },
    });
  });

  it('an open dataset is IB1-O and names no role', () => {
    const { nodes } = graphOf({ policy, files, provider: ib1 });
    const carbon = node(nodes, `${BASE}/carbon-intensity#dataset`);
    expect(carbon['ib1:sensitivityClass']).toEqual({ '@id': 'https://registry.trust.ib1.org/sensitivity-class/IB1-O' });
    expect(carbon['dcterms:license']).toEqual({ '@id': CC_BY });
    expect(carbon).not.toHaveProperty('ib1:roleRequiredToAccess');
  });

  it('writes the sensitivity class the manifest names (IB1-SB)', () => {
    const sb: Manifest = { datasets: { ...policy.datasets, voltage: { ...policy.datasets.voltage!, sensitivity: 'IB1-SB' } } };
    expect(node(graphOf({ policy: sb, files, provider: ib1 }).nodes, `${BASE}/voltage#dataset`)['ib1:sensitivityClass']).toEqual({ '@id': 'https://registry.trust.ib1.org/sensitivity-class/IB1-SB' });
  });

  it("adds a dataset's own publisher to the provider's, which the Directory requires", () => {
    const other = 'https://example.org/publisher';
    const withPublisher: Manifest = { datasets: { ...policy.datasets, voltage: { ...policy.datasets.voltage!, publisher: other } } };
    expect(ids(node(graphOf({ policy: withPublisher, files, provider: ib1 }).nodes, `${BASE}/voltage#dataset`)['dcterms:publisher'])).toEqual([MEMBER, other]);
  });

  it('describes only the files the host serves as datasets: no manifest.json, nothing in a subfolder', () => {
    const more = [...files, { name: 'notes/extra.csv', size: 1, sha256: SHA_A }, { name: 'README.md', size: 1, sha256: SHA_A }];
    const { nodes } = graphOf({ policy, files: more, provider: ib1 });
    expect([...nodes.values()].filter((n) => n['@type'] === 'dcat:Dataset').map((n) => n['@id'])).toEqual([`${BASE}/carbon-intensity#dataset`, `${BASE}/voltage#dataset`]);
    expect(buildCatalog({ policy, files: more, provider: ib1 }).datasets).toEqual(['carbon-intensity', 'voltage']);
  });

  it('keeps every subject URL when the data changes or the base URL gains a slash (IB1: a subject never changes)', () => {
    const before = [...graphOf({ policy, files, provider: ib1 }).nodes.keys()];
    const changed = files.map((f) => ({ ...f, size: f.size + 1, sha256: SHA_A }));
    expect([...graphOf({ policy, files: changed, provider: { ...ib1, baseUrl: `${BASE}/` } }).nodes.keys()]).toEqual(before);
  });

  it('with a heartbeat URL, adds a dcat:DataService whose endpoint it is, serving every dataset', () => {
    const { nodes } = graphOf({ policy, files, provider: { ...ib1, heartbeatUrl: `${BASE}/ping`, heartbeatDescription: 'https://registry.core.trust.ib1.org/api/heartbeat-simple/1.0' } });
    const service = node(nodes, `${BASE}#heartbeat`);
    expect(service['@type']).toBe('dcat:DataService');
    expect(service['dcat:endpointURL']).toEqual({ '@id': `${BASE}/ping` });
    expect(service['ib1:heartbeatDescription']).toEqual({ '@id': 'https://registry.core.trust.ib1.org/api/heartbeat-simple/1.0' });
    expect(ids(service['dcat:servesDataset'])).toEqual([`${BASE}/carbon-intensity#dataset`, `${BASE}/voltage#dataset`]);
    expect(ids(service['dcterms:publisher'])).toEqual([MEMBER]);
  });

  it('without a heartbeat URL, describes no service', () => {
    expect([...graphOf({ policy, files, provider: ib1 }).nodes.values()].some((n) => n['@type'] === 'dcat:DataService')).toBe(false);
  });

  it('uses the trust framework URL given instead of the default', () => {
    const tf = 'https://registry.example.org/trust-framework';
    expect(node(graphOf({ policy, files, provider: { ...ib1, trustFrameworkUrl: tf } }).nodes, `${BASE}/voltage#dataset`)['ib1:trustFramework']).toEqual({ '@id': tf });
  });

  it('declares the IB1 namespace of the specifications, and every prefix it uses', () => {
    const { context, nodes } = graphOf({ policy, files, provider: { ...ib1, heartbeatUrl: `${BASE}/ping` } });
    expect(context.ib1).toBe('https://registry.trust.ib1.org/ns/1.0#');
    expect(context.dcat).toBe('http://www.w3.org/ns/dcat#');
    expect(context.dcterms).toBe('http://purl.org/dc/terms/');
    const used = new Set<string>();
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          if (!key.startsWith('@')) used.add(key.split(':')[0]!);
          if (key === '@type' && typeof inner === 'string') used.add(inner.split(':')[0]!);
          walk(inner);
        }
      }
    };
    walk([...nodes.values()]);
    expect([...used].filter((prefix) => !(prefix in context))).toEqual([]);
  });

  it.each<[string, Manifest | undefined, string[]]>([
    ['a dataset missing from manifest.json', { datasets: { 'carbon-intensity': policy.datasets['carbon-intensity']! } }, ['datasets.voltage: not in manifest.json; an IB1 catalog record needs its title, description, licence, and roles unless it is open: add an entry for "voltage"']],
    ['no manifest.json at all', undefined, ['datasets.carbon-intensity: not in manifest.json', 'datasets.voltage: not in manifest.json']],
    ['a missing title', { datasets: { ...policy.datasets, voltage: { ...policy.datasets.voltage!, title: undefined } } }, ['datasets.voltage.title: required in an IB1 catalog record (dcterms:title): add a short title']],
    ['a missing description', { datasets: { ...policy.datasets, voltage: { ...policy.datasets.voltage!, description: undefined } } }, ['datasets.voltage.description: required in an IB1 catalog record (dcterms:description)']],
    ['a shared dataset without a licence', { datasets: { ...policy.datasets, voltage: { ...policy.datasets.voltage!, licence: undefined } } }, ['datasets.voltage.licence: required in an IB1 catalog record (dcterms:license): add the Registry URL of the licence']],
    ['an open dataset without a licence', { datasets: { ...policy.datasets, 'carbon-intensity': { ...policy.datasets['carbon-intensity']!, licence: undefined } } }, ['datasets.carbon-intensity.licence: required in an IB1 catalog record (dcterms:license): add the URL of the open licence']],
    ['a shared dataset without roles', { datasets: { ...policy.datasets, voltage: { ...policy.datasets.voltage!, roles: undefined } } }, ['datasets.voltage.roles: shared data needs at least one role (ib1:roleRequiredToAccess)']],
  ])('refuses %s, naming the dataset and the field', (_what, given, expected) => {
    const problems = problemsOf({ policy: given, files, provider: ib1 });
    expect(problems).toHaveLength(expected.length);
    expected.forEach((start, i) => expect(problems[i]).toContain(start));
  });

  it('refuses an ib1 catalog without a scheme', () => {
    expect(problemsOf({ policy, files, provider: { baseUrl: BASE, trustFramework: 'ib1', publisher: MEMBER } })).toEqual([expect.stringMatching(/^scheme: required in the ib1 trust framework \(ib1:scheme\)/)]);
  });

  it.each<[string, Partial<ProviderFacts>, string]>([
    ['an http base URL', { baseUrl: 'http://data.example.com' }, 'baseUrl: must be an https URL'],
    ['a base URL with a query', { baseUrl: `${BASE}/?x=1` }, 'baseUrl: must have no query or fragment'],
    ['a publisher that is not a URL', { publisher: 'Example Energy' }, "publisher: must be an https URL (the provider's Member URL in the Directory"],
    ['a heartbeat that is not https', { heartbeatUrl: 'http://data.example.com/ping' }, 'heartbeatUrl: must be an https URL'],
    ['a scheme with a space', { scheme: 'https://registry.example.org/a scheme' }, 'scheme: must be an https URL'],
  ])('refuses %s, naming the fact', (_what, change, start) => {
    expect(problemsOf({ policy, files, provider: { ...ib1, ...change } })).toEqual([expect.stringContaining(start)]);
  });

  it('refuses a release with no dataset to describe', () => {
    expect(problemsOf({ policy, files: [{ name: 'manifest.json', size: 1, sha256: SHA_A }], provider: ib1 })).toEqual([expect.stringMatching(/^files: the release has no dataset/)]);
  });

  it('warns of a policy entry whose dataset the release lacks, and describes the rest', () => {
    const catalog = buildCatalog({ policy: { datasets: { ...policy.datasets, gone: { access: 'open' } } }, files, provider: ib1 });
    expect(catalog.warnings).toEqual(['datasets.gone: in manifest.json but the release has no gone.csv; not catalogued']);
    expect(catalog.datasets).toEqual(['carbon-intensity', 'voltage']);
  });
});

describe('catalog records in the open-energy trust framework', () => {
  const oe: ProviderFacts = { baseUrl: BASE, trustFramework: 'open-energy', publisher: MEMBER };

  it('asks for no IB1 field: a dataset without a manifest entry is titled by its name, with no class, framework or role', () => {
    const { nodes } = graphOf({ files, provider: oe });
    const voltage = node(nodes, `${BASE}/voltage#dataset`);
    expect(voltage['dcterms:title']).toBe('voltage');
    for (const term of ['ib1:sensitivityClass', 'ib1:trustFramework', 'ib1:scheme', 'ib1:roleRequiredToAccess', 'dcterms:license', 'dcterms:description']) expect(voltage).not.toHaveProperty(term);
    expect(node(nodes, `${BASE}/voltage#csv`)['dcat:downloadURL']).toEqual({ '@id': `${BASE}/voltage` });
  });

  it('writes what the manifest does say', () => {
    const voltage = node(graphOf({ policy, files, provider: oe }).nodes, `${BASE}/voltage#dataset`);
    expect(voltage['dcterms:license']).toEqual({ '@id': LICENCE });
    expect(ids(voltage['ib1:roleRequiredToAccess'])).toEqual([REPORTER, ARCHIVER]);
    expect(voltage).not.toHaveProperty('ib1:trustFramework');
  });
});
