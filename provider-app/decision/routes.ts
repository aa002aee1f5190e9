/**
 * Which request paths read a dataset, defined once for Express, the decision pipeline and
 * its adapters. nginx restates these rules as regexes in its `$provider_route` map
 * (nginx/templates/mtls-site.conf.tmpl); `routes.test.ts` fails when the two drift.
 */

/** Paths the app answers itself. Never a dataset, whatever `dataDir` holds. */
export const ROUTES = { ping: '/ping', datasets: '/datasets' } as const;

/** The routes' names, compared case-insensitively: Express routes `/PING` as `/ping`. */
export const ROUTE_NAMES: readonly string[] = Object.values(ROUTES).map((path) => path.slice(1));

/**
 * Letters, digits, `_` and `-`, optionally dot-separated parts; no leading dot, no `..`, no
 * slash, no NUL, at most 128 characters. Checked before the file system is touched.
 */
const DATASET_NAME = /^(?=.{1,128}$)[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;

// One segment as sent, with no escape and no query string to interpret: the shape nginx's
// map sends to its dataset location. Looser than DATASET_NAME (it lets `a..b` through),
// so a name it admits is still checked by datasetName.
const PLAIN_PATH = /^\/([A-Za-z0-9][A-Za-z0-9_.-]*)$/;

const CSV = '.csv';

export function isDatasetName(name: string): boolean {
  return DATASET_NAME.test(name);
}

/** `meters` for the segment `meters` or `meters.csv`; undefined when it names no dataset. */
export function datasetName(segment: string): string | undefined {
  const name = segment.endsWith(CSV) ? segment.slice(0, -CSV.length) : segment;
  return isDatasetName(name) ? name : undefined;
}

/**
 * The segment of a raw path (undecoded, query string included) that nginx and the cache-only
 * decision may treat as a dataset read, or undefined. A route's name, in any case and with or
 * without `.csv`, is left to Express — where `/ping.csv` is the dataset `ping` — so a cached
 * dataset can never shadow a route.
 */
export function plainDatasetSegment(path: string): string | undefined {
  const segment = PLAIN_PATH.exec(path)?.[1];
  if (segment === undefined) return undefined;
  const lower = segment.toLowerCase();
  const bare = lower.endsWith(CSV) ? lower.slice(0, -CSV.length) : lower;
  return ROUTE_NAMES.includes(bare) ? undefined : segment;
}
