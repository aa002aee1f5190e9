/** A LogSet's lines as the parser reads them (malformed and non-access lines dropped). */
import { parseAppLine, parseNginxLine, type AppRecord, type NginxRecord } from '../parse-logs';
import type { LogSet } from './sample-day';

export function parsed(log: LogSet): { nginx: NginxRecord[]; app: AppRecord[] } {
  return {
    nginx: log.nginx.map(parseNginxLine).filter((r): r is NginxRecord => r !== undefined),
    app: log.app.map(parseAppLine).filter((r): r is AppRecord => r !== undefined && r !== 'other'),
  };
}
