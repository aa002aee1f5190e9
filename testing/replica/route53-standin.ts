/**
 * `aws route53 change-resource-record-sets` and `aws route53 get-change` for the stand-in
 * (aws-standin.ts), checked as Route53 checks them, for the zones laid out as
 *
 *   route53/zones/<ZONE_ID>          the zone's name (e.g. "replica.test.")
 *   route53/records/<ZONE_ID>.json   its record sets
 *   route53/changes/<ID>.json        when each change was submitted
 *
 * A change is PENDING for PH_AWS_STANDIN_ROUTE53_SYNC_MS (default 2000), then INSYNC, as
 * Route53's propagation to its servers is. With PH_AWS_STANDIN_DNS_MANAGEMENT set (the
 * management API of pebble-challtestsrv), TXT records are also served by that DNS, so an
 * ACME server's DNS-01 validation really resolves what the host wrote.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsServiceError, withFileLock } from './standin-error';

interface RecordSet {
  Name: string;
  Type: string;
  TTL: number;
  ResourceRecords: { Value: string }[];
}

const TYPES = new Set(['A', 'AAAA', 'CAA', 'CNAME', 'DS', 'MX', 'NAPTR', 'NS', 'PTR', 'SOA', 'SPF', 'SRV', 'TXT']);
const fqdn = (name: string): string => `${name.toLowerCase().replace(/\.$/, '')}.`;
const invalid = (message: string) => new AwsServiceError('InvalidChangeBatch', 'ChangeResourceRecordSets', message);

function zoneName(root: string, zoneId: string): string {
  const id = zoneId.replace(/^\/hostedzone\//, '');
  const file = join(root, 'route53', 'zones', id);
  if (!/^Z[A-Z0-9]{1,31}$/.test(id) || !existsSync(file)) throw new AwsServiceError('NoSuchHostedZone', 'ChangeResourceRecordSets', `No hosted zone found with ID: ${id}`);
  return fqdn(readFileSync(file, 'utf8').trim());
}

function checkRecordSet(raw: unknown, zone: string): RecordSet {
  const set = raw as Partial<RecordSet> | undefined;
  if (!set || typeof set.Name !== 'string' || typeof set.Type !== 'string') throw invalid('each change needs a ResourceRecordSet with Name and Type');
  const name = fqdn(set.Name);
  if (name !== zone && !name.endsWith(`.${zone}`)) throw invalid(`RRSet with DNS name ${name} is not permitted in zone ${zone}`);
  if (!TYPES.has(set.Type)) throw invalid(`Invalid type ${set.Type}`);
  if (!Number.isInteger(set.TTL) || (set.TTL as number) < 0 || (set.TTL as number) > 2147483647) throw invalid('TTL must be an integer from 0 to 2147483647');
  if (!Array.isArray(set.ResourceRecords) || set.ResourceRecords.length === 0) throw invalid('ResourceRecords must hold at least one value');
  for (const record of set.ResourceRecords) {
    if (typeof record?.Value !== 'string') throw invalid('each ResourceRecord needs a Value');
    if (set.Type === 'TXT' && !/^("([^"\\]|\\.){0,255}"\s*)+$/.test(record.Value)) {
      throw invalid(`Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${record.Value}''`);
    }
  }
  return { Name: name, Type: set.Type, TTL: set.TTL as number, ResourceRecords: set.ResourceRecords.map((r) => ({ Value: r.Value })) };
}

const sameSet = (a: RecordSet, b: RecordSet): boolean => a.Name === b.Name && a.Type === b.Type;
const sameValues = (a: RecordSet, b: RecordSet): boolean =>
  a.TTL === b.TTL && JSON.stringify(a.ResourceRecords.map((r) => r.Value).sort()) === JSON.stringify(b.ResourceRecords.map((r) => r.Value).sort());

/** Keeps challtestsrv's TXT answers equal to the zone's record set NAME (or none). */
function forwardTxt(name: string, set: RecordSet | undefined): void {
  const management = process.env.PH_AWS_STANDIN_DNS_MANAGEMENT;
  if (!management) return;
  const post = (path: string, body: object) => {
    const result = spawnSync('curl', ['-fsS', '--max-time', '5', '-X', 'POST', '--data-binary', JSON.stringify(body), `${management}${path}`], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`challtestsrv ${path} failed: ${result.stderr}`);
  };
  post('/clear-txt', { host: name });
  for (const record of set?.ResourceRecords ?? []) {
    // TXT "a" "b" → the strings joined, as a resolver hands them to the ACME server.
    const value = [...record.Value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1')).join('');
    post('/set-txt', { host: name, value });
  }
}

function changeRecordSets(root: string, options: Map<string, string>): object {
  const zoneId = (options.get('--hosted-zone-id') ?? '').replace(/^\/hostedzone\//, '');
  const zone = zoneName(root, zoneId);
  const source = options.get('--change-batch') ?? '';
  let batch: { Changes?: { Action?: string; ResourceRecordSet?: unknown }[] };
  try {
    batch = JSON.parse(source.startsWith('file://') ? readFileSync(source.slice('file://'.length), 'utf8') : source);
  } catch {
    throw new Error('--change-batch is not JSON (or file://FILE holding JSON)');
  }
  const changes = batch.Changes;
  if (!Array.isArray(changes) || changes.length === 0 || changes.length > 1000) throw invalid('Changes must hold 1 to 1000 changes');
  const recordsFile = join(root, 'route53', 'records', `${zoneId}.json`);
  mkdirSync(join(root, 'route53', 'records'), { recursive: true });
  const touched = new Map<string, RecordSet | undefined>();
  withFileLock(`${recordsFile}.standin-lock`, () => {
    // All or nothing, as Route53 applies a batch.
    const sets: RecordSet[] = existsSync(recordsFile) ? JSON.parse(readFileSync(recordsFile, 'utf8')) : [];
    for (const change of changes) {
      const set = checkRecordSet(change.ResourceRecordSet, zone);
      const index = sets.findIndex((s) => sameSet(s, set));
      const what = `resource record set [name='${set.Name}', type='${set.Type}']`;
      if (change.Action === 'CREATE') {
        if (index >= 0) throw invalid(`Tried to create ${what} but it already exists`);
        sets.push(set);
      } else if (change.Action === 'UPSERT') {
        if (index >= 0) sets[index] = set;
        else sets.push(set);
      } else if (change.Action === 'DELETE') {
        if (index < 0) throw invalid(`Tried to delete ${what} but it was not found`);
        if (!sameValues(sets[index]!, set)) throw invalid(`Tried to delete ${what} but the values provided do not match the current values`);
        sets.splice(index, 1);
      } else {
        throw invalid(`Action ${JSON.stringify(change.Action)} is not CREATE, DELETE or UPSERT`);
      }
      if (set.Type === 'TXT') touched.set(set.Name, sets.find((s) => s.Name === set.Name && s.Type === 'TXT'));
    }
    writeFileSync(recordsFile, JSON.stringify(sets, null, 2));
  });
  for (const [name, set] of touched) forwardTxt(name, set);
  const id = `C${randomBytes(10).toString('hex').toUpperCase()}`;
  const submittedAt = new Date().toISOString();
  mkdirSync(join(root, 'route53', 'changes'), { recursive: true });
  writeFileSync(join(root, 'route53', 'changes', `${id}.json`), JSON.stringify({ submittedAt }));
  return { ChangeInfo: { Id: `/change/${id}`, Status: 'PENDING', SubmittedAt: submittedAt } };
}

function getChange(root: string, options: Map<string, string>): object {
  const id = (options.get('--id') ?? '').replace(/^\/change\//, '');
  const file = join(root, 'route53', 'changes', `${id}.json`);
  if (!/^C[A-Z0-9]+$/.test(id) || !existsSync(file)) throw new AwsServiceError('NoSuchChange', 'GetChange', `Could not find resource with ID: ${id}`);
  const { submittedAt } = JSON.parse(readFileSync(file, 'utf8')) as { submittedAt: string };
  const syncMs = Number(process.env.PH_AWS_STANDIN_ROUTE53_SYNC_MS ?? 2000);
  const status = Date.now() - Date.parse(submittedAt) >= syncMs ? 'INSYNC' : 'PENDING';
  return { ChangeInfo: { Id: `/change/${id}`, Status: status, SubmittedAt: submittedAt } };
}

/** The one --query path each command answers in text (ChangeInfo.Id, ChangeInfo.Status). */
function answer(value: { ChangeInfo: Record<string, string> }, options: Map<string, string>): string {
  const query = options.get('--query');
  if (query === undefined) return `${JSON.stringify(value, null, 4)}\n`;
  const field = /^ChangeInfo\.(Id|Status|SubmittedAt)$/.exec(query)?.[1];
  if (!field || options.get('--output') !== 'text') throw new Error('the stand-in answers --query ChangeInfo.<Id|Status|SubmittedAt> with --output text only');
  return `${value.ChangeInfo[field]}\n`;
}

export function route53(root: string, command: string, options: Map<string, string>): string {
  if (command === 'change-resource-record-sets') return answer(changeRecordSets(root, options) as { ChangeInfo: Record<string, string> }, options);
  if (command === 'get-change') return answer(getChange(root, options) as { ChangeInfo: Record<string, string> }, options);
  throw new Error(`the stand-in does not implement "aws route53 ${command}"`);
}

/** Creates a hosted zone for the stand-in (what the stack's zone is on AWS). */
export function createStandinZone(awsRoot: string, zoneId: string, name: string): void {
  mkdirSync(join(awsRoot, 'route53', 'zones'), { recursive: true });
  writeFileSync(join(awsRoot, 'route53', 'zones', zoneId), `${fqdn(name)}\n`);
}

/** The zone's record sets (for tests). */
export function standinRecordSets(awsRoot: string, zoneId: string): RecordSet[] {
  const file = join(awsRoot, 'route53', 'records', `${zoneId}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
}
