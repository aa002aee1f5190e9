import { ConsumerClient } from '../client/consumer-client';
import type { ConsumerSettings } from '../client/consumer-settings';
import { ClientError } from '../client/errors';
import { formatBytes } from '../client/progress-bar';
import { fail, pass, warn, type CheckResult } from './check-result';

const TOKEN = 'token (client_credentials)';
const DOWNLOAD = 'dataset download';
const INTERACTION_ID = 'x-fapi-interaction-id';
const DATE = 'Date header';

function reason(error: unknown): string {
  if (error instanceof ClientError) return `${error.message}${error.hint ? ` (${error.hint})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * With the consumer's certificate and a token: a dataset downloads, and the
 * answer carries `x-fapi-interaction-id` (echoing ours) and `Date`.
 */
export async function checkAuthorizedDownload(settings: ConsumerSettings, dataset?: string, now = () => Date.now()): Promise<CheckResult[]> {
  const client = new ConsumerClient(settings);
  const results: CheckResult[] = [];
  try {
    const token = await client.token({ fresh: true });
    const { tokenEndpoint } = await client.discover();
    results.push(pass(TOKEN, `from ${tokenEndpoint}, expires in ${Math.round((token.expiresAt - now()) / 1000)}s${token.scope ? `, scope ${token.scope}` : ''}`));
  } catch (error) {
    // the rest needs the token: say so rather than leave the lines out
    return [fail(TOKEN, reason(error)), ...[DOWNLOAD, INTERACTION_ID, DATE].map((name) => fail(name, 'not checked: no token'))];
  }
  let name = dataset;
  try {
    if (!name) {
      const listed = await client.listDatasets();
      if (listed.length === 0) {
        const asked = settings.scope ? `with scope ${settings.scope}` : 'without a scope';
        return [...results, fail(DOWNLOAD, `GET /datasets lists no dataset for a token ${asked}; pass the provider's scope (its oauth.scope) with --scope <scope>, or name one with --dataset`)];
      }
      name = listed[0]!.name;
    }
    const started = now();
    const res = await client.getDataset(name);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    const type = res.headers['content-type'] ?? 'no content-type';
    const complete = res.size === undefined || res.size === bytes;
    results.push(
      complete && bytes > 0
        ? pass(DOWNLOAD, `${name}: HTTP ${res.status}, ${formatBytes(bytes)} in ${now() - started} ms (${type})`)
        : fail(DOWNLOAD, `${name}: HTTP ${res.status}, ${bytes} bytes${res.size !== undefined ? ` of ${res.size}` : ''}`),
    );
    results.push(
      !res.interactionId
        ? fail(INTERACTION_ID, 'missing from the response')
        : res.interactionId === res.sentInteractionId
          ? pass(INTERACTION_ID, `${res.interactionId} (echoes ours)`)
          : warn(INTERACTION_ID, `${res.interactionId}, but we sent ${res.sentInteractionId} (FAPI: echo the client's)`),
    );
    const date = typeof res.headers.date === 'string' ? Date.parse(res.headers.date) : NaN;
    const skew = Math.round(Math.abs(date - now()) / 1000);
    results.push(
      Number.isNaN(date)
        ? fail(DATE, res.headers.date ? `not an HTTP date: ${res.headers.date}` : 'missing from the response')
        : skew > 300
          ? warn(DATE, `${res.headers.date}: ${skew}s away from our clock`)
          : pass(DATE, res.headers.date!),
    );
  } catch (error) {
    results.push(fail(DOWNLOAD, `${name ?? '(first listed)'}: ${reason(error)}`), ...[INTERACTION_ID, DATE].map((n) => fail(n, 'not checked: no download')));
  }
  return results;
}
