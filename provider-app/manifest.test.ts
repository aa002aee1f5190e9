import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestError, manifestSchema, ManifestStore } from './manifest';

describe('ManifestStore', () => {
  let dir: string;
  let clock: number;
  const now = () => clock;
  const write = (content: unknown, mtimeSeconds: number) => {
    const file = join(dir, 'manifest.json');
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    utimesSync(file, mtimeSeconds, mtimeSeconds);
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    clock = 1000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies a changed policy once the TTL has passed, not before', async () => {
    write({ datasets: { meters: { scopes: ['a:read'] } } }, 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { ttlMs: 1000, now });
    expect((await store.policyFor('meters')).scopes).toEqual(['a:read']);
    write({ datasets: { meters: { scopes: ['b:read'] } } }, 1_700_000_100);
    clock += 999;
    expect((await store.policyFor('meters')).scopes).toEqual(['a:read']);
    clock += 1;
    expect((await store.policyFor('meters')).scopes).toEqual(['b:read']);
  });

  it('sees a removed and a newly added manifest within the TTL bound', async () => {
    write({ datasets: { meters: { scopes: ['a:read'] } } }, 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { ttlMs: 1000, now });
    expect((await store.policyFor('meters')).scopes).toEqual(['a:read']);
    unlinkSync(join(dir, 'manifest.json'));
    clock += 1000;
    expect((await store.policyFor('meters')).scopes).toEqual(['datasets:read']);
    write({ datasets: { meters: { scopes: ['c:read'], clientIds: ['x'] } } }, 1_700_000_200);
    clock += 1000;
    expect(await store.policyFor('meters')).toEqual({ scopes: ['c:read'], clientIds: ['x'] });
  });

  it('never trusts a broken manifest for any time: every call fails closed until it is fixed', async () => {
    write('{ broken', 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { ttlMs: 1000, now });
    await expect(store.load()).rejects.toBeInstanceOf(ManifestError);
    await expect(store.load()).rejects.toBeInstanceOf(ManifestError);
    write({ datasets: {} }, 1_700_000_300);
    expect(await store.load()).toEqual({ datasets: {} });
  });

  it('peekPolicy() answers from the last check only within the TTL, and never after a broken manifest', async () => {
    write({ datasets: { meters: { scopes: ['a:read'] } } }, 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { ttlMs: 1000, now });
    expect(store.peekPolicy('meters')).toBeUndefined();
    await store.load();
    expect(store.peekPolicy('meters')).toEqual({ scopes: ['a:read'] });
    expect(store.peekPolicy('other')).toEqual({ scopes: ['datasets:read'] });
    clock += 1000;
    expect(store.peekPolicy('meters')).toBeUndefined();
    write('{ broken', 1_700_000_100);
    await expect(store.load()).rejects.toBeInstanceOf(ManifestError);
    expect(store.peekPolicy('meters')).toBeUndefined();
  });

  it('without a TTL looks at the file on every call', async () => {
    write({ datasets: { meters: { scopes: ['a:read'] } } }, 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { now });
    expect((await store.policyFor('meters')).scopes).toEqual(['a:read']);
    write({ datasets: { meters: { scopes: ['b:read'] } } }, 1_700_000_100);
    expect((await store.policyFor('meters')).scopes).toEqual(['b:read']);
  });
});

describe('the ib1 fields of a dataset', () => {
  const ROLE = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';
  const LICENCE = 'https://registry.core.trust.ib1.org/scheme/electricity/license/voltage-reporting/1.4';
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'manifest-ib1-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The ManifestError message of `entry` as dataset `meters`, or the policy when it is valid. */
  const load = async (entry: unknown) => {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ datasets: { meters: entry } }));
    return new ManifestStore(dir, 'datasets:read').policyFor('meters').catch((error: Error) => error);
  };

  it('carries roles, licence and access into the policy; the catalog fields stay in the manifest', async () => {
    const entry = { roles: [ROLE], licence: LICENCE, access: 'shared', title: 'Voltage', description: 'Supply voltage', sensitivity: 'IB1-SA', publisher: 'https://directory.core.trust.ib1.org/member/827252', keywords: ['voltage'] };
    expect(await load(entry)).toEqual({ scopes: ['datasets:read'], roles: [ROLE], licence: LICENCE, access: 'shared' });
    expect(manifestSchema.parse({ datasets: { meters: entry } }).datasets.meters).toEqual(entry);
  });

  it('an open dataset: access open, with IB1-O or no sensitivity', async () => {
    expect(await load({ access: 'open', licence: 'https://creativecommons.org/licenses/by/4.0/' })).toEqual({ scopes: ['datasets:read'], access: 'open', licence: 'https://creativecommons.org/licenses/by/4.0/' });
    expect(await load({ access: 'open', sensitivity: 'IB1-O' })).toEqual({ scopes: ['datasets:read'], access: 'open' });
  });

  it('a policy without the new fields is exactly the open-energy one', async () => {
    expect(await load({ scopes: ['a:read'] })).toEqual({ scopes: ['a:read'] });
  });

  it.each(['IB1-SA', 'IB1-SB'])('accepts the shared class %s with shared access', async (sensitivity) => {
    expect(await load({ sensitivity })).toEqual({ scopes: ['datasets:read'] });
  });

  it.each([
    ['a role that is not a URL', { roles: ['report-provider'] }, 'datasets.meters.roles.0: must be an https URL (the Registry URL of an ib1:Role)'],
    ['an http role', { roles: ['http://registry.example/role/a'] }, 'datasets.meters.roles.0: must be an https URL'],
    ['a role with a space', { roles: ['https://registry.example/role a'] }, 'datasets.meters.roles.0: must be an https URL'],
    ['an empty role list', { roles: [] }, 'datasets.meters.roles: list at least one role URL, or leave roles out'],
    ['a licence that is not a URL', { licence: 'CC-BY-4.0' }, 'datasets.meters.licence: must be an https URL (the licence the data is used under)'],
    ['a licence with a quote', { licence: 'https://registry.example/licence"x' }, 'datasets.meters.licence: must be an https URL'],
    ['a licence with an angle bracket', { licence: 'https://registry.example/<x>' }, 'datasets.meters.licence: must be an https URL'],
    ['another access', { access: 'public' }, 'datasets.meters.access: must be "open" (anyone, no authentication) or "shared"'],
    ['an unknown sensitivity', { sensitivity: 'OE-SA' }, 'datasets.meters.sensitivity: must be IB1-O (open), IB1-SA or IB1-SB (shared)'],
    ['personal data', { sensitivity: 'IB1-SP' }, 'datasets.meters.sensitivity: IB1-SP (personal data) needs end-user permission'],
    ['closed data', { sensitivity: 'IB1-C' }, 'datasets.meters.sensitivity: IB1-C is closed data, never shared nor catalogued'],
    ['IB1-O with shared access', { sensitivity: 'IB1-O', access: 'shared' }, 'datasets.meters.access: IB1-O is open data, but access is shared (the default): set access to "open"'],
    ['IB1-O with access left to its default', { sensitivity: 'IB1-O' }, 'datasets.meters.access: IB1-O is open data'],
    ['open access with a shared class', { access: 'open', sensitivity: 'IB1-SA' }, 'datasets.meters.sensitivity: an open dataset is IB1-O, not IB1-SA: set sensitivity to "IB1-O", or access to "shared"'],
    ['open access with roles', { access: 'open', roles: [ROLE] }, 'datasets.meters.roles: an open dataset is served to anyone without authentication, so roles would never be checked'],
    ['open access with client ids', { access: 'open', clientIds: ['x'] }, 'datasets.meters.clientIds: an open dataset is served to anyone'],
    ['open access with scopes', { access: 'open', scopes: ['a:read'] }, 'datasets.meters.scopes: an open dataset is served to anyone'],
    ['a blank title', { title: '  ' }, 'datasets.meters.title: must not be blank'],
    ['a blank description', { description: '' }, 'datasets.meters.description: must not be blank'],
    ['a blank keyword', { keywords: ['ok', ' '] }, 'datasets.meters.keywords.1: must not be blank'],
    ['a publisher that is not a URL', { publisher: 'Example Energy' }, "datasets.meters.publisher: must be an https URL (the publisher's Directory URL)"],
    ['an unknown field', { scope: ['a:read'] }, 'datasets.meters: Unrecognized key: "scope"'],
    ['the US spelling of licence', { license: LICENCE }, 'datasets.meters: Unrecognized key: "license": the field is spelled "licence"'],
  ])('refuses %s, naming the dataset and the field', async (_what, entry, message) => {
    const error = await load(entry);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toContain(`manifest.json: ${message}`);
  });
});
