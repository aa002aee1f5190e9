/**
 * What a request asked for, from nginx's `$request` ("GET /meters.csv?x=1 HTTP/2.0"): the
 * report's dataset column. The rules are the app's (provider-app/decision/routes.ts), so
 * the report names a dataset exactly when the app would have served one.
 */
import { datasetName, ROUTE_NAMES } from '../../provider-app/decision/routes';

/**
 * `dataset`: a dataset's name (`meters` for `/meters` and `/meters.csv`). `route`: one of
 * the app's own routes, shown as its path (`/datasets`, `/ping`) so it can never be mistaken
 * for a dataset of the same name (`/ping.csv` *is* the dataset `ping`). `other`: anything
 * else (`/`, `/a/b`, scanners' paths, a line nginx could not parse), one group, `(other)`.
 */
export type TargetKind = 'dataset' | 'route' | 'other';

export interface Target {
  readonly kind: TargetKind;
  readonly label: string;
}

export const OTHER: Target = { kind: 'other', label: '(other)' };

/** The path of a request line, without its query string; undefined when it is not one. */
export function requestPath(request: string): string | undefined {
  const target = /^[A-Z]{1,20} (\S+)(?: HTTP\/\d(?:\.\d)?)?$/.exec(request)?.[1];
  if (target === undefined) return undefined;
  // absolute-form ("GET https://host/x HTTP/1.1") names the same resource as "/x".
  const path = target.replace(/^https?:\/\/[^/?#]*/i, '').split(/[?#]/, 1)[0]!;
  return path.startsWith('/') ? path : undefined;
}

/** The dataset, route or `(other)` a request path names. */
export function targetOf(path: string | undefined): Target {
  const segment = path === undefined ? undefined : /^\/([^/]+)$/.exec(path)?.[1];
  if (segment === undefined) return OTHER;
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return OTHER;
  }
  // Express routes /PING and /Datasets as its routes; /ping.csv is the dataset "ping".
  const route = decoded.toLowerCase();
  if (ROUTE_NAMES.includes(route)) return { kind: 'route', label: `/${route}` };
  const name = datasetName(decoded);
  return name === undefined ? OTHER : { kind: 'dataset', label: name };
}
