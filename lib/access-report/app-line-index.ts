/**
 * Finds the app's access line for an nginx line: same `x-fapi-interaction-id` (nginx passes
 * the id it answers with to the app), at about the same time. The id alone is not enough:
 * a consumer may send its own id, and the same one every time; so the app's line must fall
 * within the request's own time span, and one with the same status is preferred (the
 * app's answer, which nginx passed through), then the nearest.
 */
import type { AppRecord, NginxRecord } from './parse-logs';

/**
 * Slack around the request's span: nginx logs whole seconds and its clock reading and the
 * app's differ by a little; more than this and a reused id is likelier than a slow clock.
 */
const SLACK_MS = 2000;

export class AppLineIndex {
  private readonly byId = new Map<string, AppRecord[]>();
  private count = 0;

  /**
   * Keeps `record` for matching, unless it is a decision nginx acted on (auth_request): nginx's
   * own line for that read names the client already, and those lines are most of a busy
   * day's, so skipping them keeps the index small.
   */
  add(record: AppRecord): void {
    if (record.via !== undefined && record.status === 204) return;
    const list = this.byId.get(record.interactionId);
    if (list) list.push(record);
    else this.byId.set(record.interactionId, [record]);
    this.count += 1;
  }

  get size(): number {
    return this.count;
  }

  /**
   * The app's line for `line`, or undefined. Only for a request nginx handed to the app (an
   * upstream status, or an authorization subrequest): nginx's own refusals (429, a missing
   * certificate) never reached the app, whatever line shares their id.
   */
  match(line: NginxRecord): AppRecord | undefined {
    if (line.interactionId === undefined || (line.upstreamStatus === undefined && line.authzStatus === undefined)) return undefined;
    const candidates = this.byId.get(line.interactionId);
    if (!candidates) return undefined;
    // `time` is when the response ended, truncated to the second.
    const from = line.time - (line.requestTime ?? 0) * 1000 - SLACK_MS;
    const to = line.time + 1000 + SLACK_MS;
    let best: AppRecord | undefined;
    let bestScore = Infinity;
    for (const record of candidates) {
      if (record.time < from || record.time > to) continue;
      const score = (record.status === line.status ? 0 : 1e9) + Math.abs(record.time - line.time);
      if (score < bestScore) {
        best = record;
        bestScore = score;
      }
    }
    return best;
  }
}
