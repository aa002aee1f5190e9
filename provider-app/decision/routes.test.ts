import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_SETTINGS } from '../../contract/host-settings';
import { datasetName, isDatasetName, plainDatasetSegment, ROUTE_NAMES, ROUTES } from './routes';

const TEMPLATE = join(__dirname, '..', '..', 'nginx', 'templates', 'mtls-site.conf.tmpl');

interface MapEntry {
  readonly pattern: RegExp;
  readonly target: string;
}

/** The regex entries of one nginx `map` block, in order, as JavaScript regexes (`~*`: case-insensitive). */
function nginxMap(config: string, variable: string): { entries: MapEntry[]; fallback: string } {
  const block = new RegExp(`^map [^\\n]* \\${variable} \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(config)?.[1];
  if (block === undefined) throw new Error(`no map for ${variable} in ${TEMPLATE}`);
  const entries: MapEntry[] = [];
  let fallback: string | undefined;
  for (const line of block.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const regex = /^"(~\*?)(.*)"\s+(\S+);$/.exec(line);
    if (regex) entries.push({ pattern: new RegExp(regex[2]!, regex[1] === '~*' ? 'i' : ''), target: regex[3]! });
    else if (/^default\s+(\S+);$/.test(line)) fallback = /^default\s+(\S+);$/.exec(line)![1];
    else throw new Error(`map ${variable}: an entry this test does not understand: ${line}`);
  }
  if (fallback === undefined) throw new Error(`map ${variable} has no default`);
  return { entries, fallback };
}

// The ib1 heartbeat's entry holds the configured path; the default stands for it here.
const HEARTBEAT = HOST_SETTINGS.heartbeatPath.default as string;
const config = readFileSync(TEMPLATE, 'utf8').replace('{{heartbeat_path}}', HEARTBEAT);
const routeMap = nginxMap(config, '$provider_route');
const fileMap = nginxMap(config, '$provider_dataset_file');

/** Where nginx sends a request: its map's key is `$request_method $uri$is_args`, regexes tried in order. */
function nginxRoute(method: string, path: string): string {
  const [uri, query] = path.split(/\?(.*)/s);
  const key = `${method} ${uri}${query === undefined ? '' : '?'}`;
  return routeMap.entries.find((entry) => entry.pattern.test(key))?.target ?? routeMap.fallback;
}

/** The module's answer for a raw path: the dataset it reads, if any. */
function moduleDataset(path: string): string | undefined {
  const segment = plainDatasetSegment(path);
  return segment === undefined ? undefined : datasetName(segment);
}

const LONGEST = 'a'.repeat(128);

// [path, the dataset the module reads, where nginx sends a GET/HEAD]. nginx's dataset regex
// is looser than the dataset-name rule (`a..b`, 129 characters): it asks the app, whose
// cache-only answer is then "ask me" and the app's full path answers 404.
const SAMPLES: ReadonlyArray<readonly [string, string | undefined, '@dataset' | '@app']> = [
  ['/meters', 'meters', '@dataset'],
  ['/meters.csv', 'meters', '@dataset'],
  ['/Meters', 'Meters', '@dataset'],
  ['/meters.CSV', 'meters.CSV', '@dataset'],
  ['/meters.csv.csv', 'meters.csv', '@dataset'],
  ['/energy.2024-01_v2', 'energy.2024-01_v2', '@dataset'],
  ['/a', 'a', '@dataset'],
  ['/0', '0', '@dataset'],
  [`/${LONGEST}`, LONGEST, '@dataset'],
  [`/${LONGEST}.csv`, LONGEST, '@dataset'],
  [`/${LONGEST}a`, undefined, '@dataset'],
  ['/a..b', undefined, '@dataset'],
  ['/a.', undefined, '@dataset'],
  ['/a.csv.', undefined, '@dataset'],
  ['/ping', undefined, '@app'],
  ['/Ping', undefined, '@app'],
  ['/PING', undefined, '@app'],
  ['/ping.csv', undefined, '@app'],
  ['/Ping.CSV', undefined, '@app'],
  ['/datasets', undefined, '@app'],
  ['/DATASETS', undefined, '@app'],
  ['/datasets.csv', undefined, '@app'],
  ['/pings', 'pings', '@dataset'],
  ['/ping.csv.csv', 'ping.csv', '@dataset'],
  ['/datasets-2024', 'datasets-2024', '@dataset'],
  ['/xping', 'xping', '@dataset'],
  ['/.hidden', undefined, '@app'],
  ['/.provider', undefined, '@app'],
  ['/-x', undefined, '@app'],
  ['/_x', undefined, '@app'],
  ['/x/y', undefined, '@app'],
  ['/meters/', undefined, '@app'],
  ['//meters', undefined, '@app'],
  ['/', undefined, '@app'],
  ['', undefined, '@app'],
  ['/me ters', undefined, '@app'],
  ['/meters?x=1', undefined, '@app'],
  ['/meters?', undefined, '@app'],
  ['/meters?access_token=t', undefined, '@app'],
  ['/_datasets/meters.csv', undefined, '@app'],
];

describe('dataset routes: the module and nginx agree', () => {
  it("nginx's map keeps exactly the app's own routes away from its dataset location, in any case", () => {
    const heartbeatEntries = routeMap.entries.filter((entry) => entry.target === '@app' && entry.pattern.test(`GET ${HEARTBEAT}`));
    expect(heartbeatEntries).toHaveLength(1);
    const routeEntries = routeMap.entries.filter((entry) => entry.target === '@app' && !heartbeatEntries.includes(entry));
    expect(routeEntries).toHaveLength(1);
    const names = /\/\(([a-z|]+)\)/.exec(routeEntries[0]!.pattern.source)?.[1]?.split('|');
    expect([...(names ?? [])].sort()).toEqual([...ROUTE_NAMES].sort());
    expect(routeEntries[0]!.pattern.flags).toContain('i');
    expect(ROUTE_NAMES).toEqual(Object.values(ROUTES).map((path) => path.slice(1)));
  });

  it.each(SAMPLES)('%s: the module reads %s, nginx sends GET and HEAD to %s', (path, dataset, route) => {
    expect(moduleDataset(path)).toBe(dataset);
    for (const method of ['GET', 'HEAD']) expect([method, nginxRoute(method, path)]).toEqual([method, route]);
    expect(nginxRoute('POST', path)).toBe('@app');
    // The exact agreement: nginx's dataset regex and the module's plain-path rule are the same.
    expect([path, nginxRoute('GET', path) === '@dataset']).toEqual([path, plainDatasetSegment(path) !== undefined]);
    if (dataset !== undefined) {
      // Every dataset the module decides is one nginx asks about, and one nginx will send as a file.
      expect(route).toBe('@dataset');
      expect(fileMap.entries.find((entry) => entry.pattern.test(`1:${dataset}.csv`))?.target).toBe('/$provider_file');
    }
  });

  it('nginx sends the heartbeat to the app, in any case (the pipeline reserves it: see app-ib1.test.ts)', () => {
    for (const path of [HEARTBEAT, HEARTBEAT.toUpperCase()]) expect([path, nginxRoute('GET', path)]).toEqual([path, '@app']);
  });

  it('the routes themselves are not datasets to nginx, whatever the case or a .csv', () => {
    for (const name of ROUTE_NAMES) {
      for (const path of [`/${name}`, `/${name.toUpperCase()}`, `/${name}.csv`, `/${name.toUpperCase()}.CSV`]) {
        expect([path, nginxRoute('GET', path), plainDatasetSegment(path)]).toEqual([path, '@app', undefined]);
      }
    }
  });
});

describe('dataset names', () => {
  it.each(['meters', 'a', 'A_b-c', 'energy.2024.v2', LONGEST])('accepts %s', (name) => {
    expect(isDatasetName(name)).toBe(true);
    expect(datasetName(name)).toBe(name);
    expect(datasetName(`${name}.csv`)).toBe(name);
  });

  it.each(['', '.hidden', '-x', '_x', 'a..b', 'a.', 'a/b', '../etc/passwd', 'a\\b', 'a\0b', 'me ters', 'é', `${LONGEST}a`, '.csv'])('refuses %j', (name) => {
    expect(isDatasetName(name)).toBe(false);
    expect(datasetName(name)).toBeUndefined();
  });

  it('strips one lower-case .csv: the file is always <name>.csv', () => {
    expect(datasetName('a.csv.csv')).toBe('a.csv');
    expect(datasetName('a.CSV')).toBe('a.CSV');
  });

  it('takes only raw paths as plain: an escape or a query string is left to Express, which decodes', () => {
    for (const path of ['/meters%2Ecsv', '/%6Deters', '/..%2Fsecret', '/meters%00', '/meters?x']) expect([path, plainDatasetSegment(path)]).toEqual([path, undefined]);
  });
});
