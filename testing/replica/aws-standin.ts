/**
 * A local stand-in for the few AWS CLI calls the host scripts make — AWS is the
 * one thing that cannot exist on this machine. S3 and SSM are folders under
 * $PH_AWS_STANDIN_ROOT:
 *
 *   s3/<bucket>/<key>     objects
 *   ssm/<name>            parameter values (name starts with "/")
 *   cloudwatch/metrics.jsonl  one JSON line per put-metric-data: namespace, region and each
 *                         metric's name, value, unit and dimensions (what the host publishes)
 *   calls.log             one line per call: the command and names, never values
 *
 * Supported: `ssm get-parameter --name N [--with-decryption] [--query Parameter.Value --output text]`,
 * `s3 cp <src> <dst>` (one side s3://), `s3 ls s3://b/key`, `s3 sync s3://b/prefix <dir> [--delete]`,
 * `cloudwatch put-metric-data --namespace N --metric-data file://F` (checked as CloudWatch
 * would: names, finite values, units, dimensions).
 * `sesv2 send-email --from-email-address A --destination D --content C` (D and C as JSON,
 * file://, or D as `ToAddresses=a,b`): refused, as SES does, unless the From address or its
 * domain is a verified identity (one per line in ses/identities); the message is recorded
 * in ses/outbox.jsonl (id, region, from, destination, subject, html, text).
 * `route53 change-resource-record-sets` / `get-change` (route53-standin.ts: the fleet's DNS-01
 * record, forwarded to pebble-challtestsrv) and `s3api put-object|get-object|delete-object` with
 * S3's conditional writes (s3api-standin.ts: the fleet's renewal lock).
 * Like the real CLI, downloads go to a temp file then rename (a hard-linked
 * copy of the old file keeps its content), and sync compares size and mtime.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { route53 } from './route53-standin';
import { s3api } from './s3api-standin';
import { AwsServiceError } from './standin-error';

const IGNORED_FLAGS = new Set(['--only-show-errors', '--no-progress', '--with-decryption', '--quiet']);
const VALUE_FLAGS = new Set(['--region', '--name', '--query', '--output', '--sse', '--profile', '--namespace', '--metric-data', '--content-type', '--from-email-address', '--destination', '--content',
  '--hosted-zone-id', '--change-batch', '--id', '--bucket', '--key', '--body', '--if-none-match', '--if-match']);

interface Parsed {
  readonly positional: string[];
  readonly options: Map<string, string>;
  readonly flags: Set<string>;
}

function parse(argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (VALUE_FLAGS.has(arg)) {
      options.set(arg, argv[i + 1] ?? '');
      i += 1;
    } else if (arg.startsWith('--')) {
      if (!IGNORED_FLAGS.has(arg) && arg !== '--delete') throw new Error(`unsupported option ${arg}`);
      flags.add(arg);
    } else {
      positional.push(arg);
    }
  }
  return { positional, options, flags };
}

class NotFound extends Error {}
/** An error the service answered (the CLI exits 254 and prints it). */
class ServiceError extends Error {}

/** A CLI parameter value: JSON, or file://<path> holding JSON (as the CLI reads it). */
function cliJson(value: string | undefined, flag: string): unknown {
  if (value === undefined || value === '') throw new Error(`${flag} is required`);
  const text = value.startsWith('file://') ? readFileSync(value.slice('file://'.length), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch {
    // The CLI's shorthand for a destination: ToAddresses=a,b
    const shorthand = /^(ToAddresses|CcAddresses|BccAddresses)=(.+)$/.exec(text);
    if (flag === '--destination' && shorthand) return { [shorthand[1]!]: shorthand[2]!.split(',') };
    throw new Error(`${flag}: not JSON`);
  }
}

const ADDRESS = /^[^@\s]+@([^@\s]+)$/;
const part = (value: unknown): string | undefined => (typeof value === 'object' && value !== null && typeof (value as { Data?: unknown }).Data === 'string' ? (value as { Data: string }).Data : undefined);

/** SESv2 SendEmail with Simple content, checked as SES would check it; the message as recorded. */
function sendEmail(root: string, options: Map<string, string>): { id: string; record: Record<string, unknown> } {
  const region = options.get('--region') ?? '';
  const from = options.get('--from-email-address') ?? '';
  const domain = ADDRESS.exec(from)?.[1];
  if (domain === undefined) throw new ServiceError('An error occurred (BadRequestException) when calling the SendEmail operation: Missing final \'@domain\'');
  const destination = cliJson(options.get('--destination'), '--destination') as Record<string, unknown>;
  const lists = ['ToAddresses', 'CcAddresses', 'BccAddresses'] as const;
  for (const key of Object.keys(destination)) if (!(lists as readonly string[]).includes(key)) throw new Error(`--destination: unknown key ${key}`);
  const recipients = lists.flatMap((key) => (destination[key] ?? []) as unknown[]);
  if (recipients.length === 0 || recipients.length > 50 || !recipients.every((r) => typeof r === 'string' && ADDRESS.test(r))) {
    throw new ServiceError('An error occurred (BadRequestException) when calling the SendEmail operation: 1-50 recipient addresses are required');
  }
  const content = cliJson(options.get('--content'), '--content') as { Simple?: { Subject?: unknown; Body?: { Html?: unknown; Text?: unknown } } };
  const simple = content.Simple;
  const subject = part(simple?.Subject);
  const html = part(simple?.Body?.Html);
  const text = part(simple?.Body?.Text);
  if (simple === undefined || subject === undefined || (html === undefined && text === undefined)) {
    throw new Error('--content: the stand-in takes Simple content with Subject.Data and Body.Html.Data and/or Body.Text.Data');
  }
  if (/[\r\n]/.test(subject)) throw new ServiceError('An error occurred (BadRequestException) when calling the SendEmail operation: Illegal header in Subject');
  const file = join(root, 'ses', 'identities');
  const identities = existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((line) => line.trim().toLowerCase()).filter(Boolean) : [];
  if (!identities.includes(from.toLowerCase()) && !identities.includes(domain.toLowerCase())) {
    throw new ServiceError(`An error occurred (MessageRejected) when calling the SendEmail operation: Email address is not verified. The following identities failed the check in region ${region.toUpperCase()}: ${from}`);
  }
  const id = `0100${Date.now().toString(16)}-${process.pid.toString(16)}-standin`;
  return { id, record: { messageId: id, region, from, destination, subject, html: html ?? null, text: text ?? null } };
}

function s3Path(root: string, url: string): string {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new Error(`not an s3:// URL: ${url}`);
  return join(root, 's3', match[1], match[2]);
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Copies via a temp file and rename, keeping the source's mtime (as `aws s3` does). */
function download(source: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.standin-${process.pid}`;
  copyFileSync(source, tmp);
  const { mtime } = statSync(source);
  utimesSync(tmp, mtime, mtime);
  renameSync(tmp, dest);
}

/** CloudWatch's StandardUnit values. */
const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits',
  'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second',
  'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]);

interface RecordedMetric {
  readonly name: string;
  readonly value: number;
  readonly unit?: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Checks put-metric-data's MetricData (the CLI's JSON shape) as the API would, and keeps what a test needs. */
function recordedMetrics(text: string): RecordedMetric[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('--metric-data is not JSON');
  }
  if (!Array.isArray(data) || data.length === 0 || data.length > 1000) throw new Error('--metric-data must be a list of 1-1000 metrics');
  return data.map((entry: { MetricName?: unknown; Value?: unknown; Unit?: unknown; Dimensions?: unknown }, i) => {
    const where = `metric ${i + 1}`;
    if (typeof entry.MetricName !== 'string' || !/^[^:].{0,254}$/s.test(entry.MetricName)) throw new Error(`${where}: MetricName must be 1-255 characters`);
    if (typeof entry.Value !== 'number' || !Number.isFinite(entry.Value)) throw new Error(`${where}: Value must be a finite number`);
    if (entry.Unit !== undefined && !UNITS.has(entry.Unit as string)) throw new Error(`${where}: Unit ${JSON.stringify(entry.Unit)} is not a CloudWatch unit`);
    const dimensions: Record<string, string> = {};
    for (const d of (entry.Dimensions ?? []) as { Name?: unknown; Value?: unknown }[]) {
      if (typeof d.Name !== 'string' || typeof d.Value !== 'string' || d.Name === '' || d.Value === '' || d.Name.length > 255 || d.Value.length > 1024) {
        throw new Error(`${where}: each dimension needs a Name and a Value`);
      }
      dimensions[d.Name] = d.Value;
    }
    if (Object.keys(dimensions).length > 30) throw new Error(`${where}: at most 30 dimensions`);
    return { name: entry.MetricName, value: entry.Value, ...(entry.Unit !== undefined ? { unit: entry.Unit as string } : {}), dimensions };
  });
}

function run(root: string, argv: readonly string[]): string {
  // Global options (--region) may come before the service, as with the real CLI.
  const { positional: words, options, flags } = parse(argv);
  const [service, command, ...positional] = words;
  if (service === 'route53') return route53(root, command ?? '', options);
  if (service === 's3api') return s3api(root, command ?? '', positional, options);
  if (service === 'ssm' && command === 'get-parameter') {
    const name = options.get('--name') ?? '';
    const file = join(root, 'ssm', name);
    if (!name.startsWith('/') || !existsSync(file)) throw new NotFound(`An error occurred (ParameterNotFound) when calling the GetParameter operation: Parameter ${name} not found.`);
    const value = readFileSync(file, 'utf8').replace(/\n$/, '');
    if (options.get('--query') === 'Parameter.Value' && options.get('--output') === 'text') return `${value}\n`;
    return `${JSON.stringify({ Parameter: { Name: name, Value: value } }, null, 4)}\n`;
  }
  if (service === 's3' && command === 'ls') {
    const file = s3Path(root, positional[0]);
    if (!existsSync(file) || !statSync(file).isFile()) throw new NotFound('');
    const stat = statSync(file);
    return `${stat.mtime.toISOString().slice(0, 19).replace('T', ' ')} ${stat.size} ${positional[0].split('/').pop()}\n`;
  }
  if (service === 's3' && command === 'cp') {
    const [source, dest] = positional;
    if (source.startsWith('s3://')) {
      const file = s3Path(root, source);
      if (!existsSync(file)) throw new NotFound(`fatal error: An error occurred (404) when calling the HeadObject operation: Key "${source}" does not exist`);
      download(file, dest);
    } else {
      download(source, s3Path(root, dest));
    }
    return '';
  }
  if (service === 's3' && command === 'sync') {
    const [source, dest] = positional;
    if (!source.startsWith('s3://') || dest.startsWith('s3://')) throw new Error('the stand-in syncs from S3 to a folder only');
    const from = s3Path(root, source);
    const wanted = new Set<string>();
    for (const file of listFiles(from)) {
      const rel = relative(from, file);
      wanted.add(rel);
      const target = join(dest, rel);
      const src = statSync(file);
      const same = existsSync(target) && statSync(target).size === src.size && Math.abs(statSync(target).mtimeMs - src.mtimeMs) < 1000;
      if (!same) download(file, target);
    }
    if (flags.has('--delete')) {
      for (const file of listFiles(dest)) if (!wanted.has(relative(dest, file))) rmSync(file);
    }
    mkdirSync(dest, { recursive: true });
    return '';
  }
  if (service === 'cloudwatch' && command === 'put-metric-data') {
    const namespace = options.get('--namespace') ?? '';
    const source = options.get('--metric-data') ?? '';
    if (!/^[^:].{0,254}$/s.test(namespace) || namespace.startsWith('AWS/')) throw new Error(`--namespace ${JSON.stringify(namespace)} is not one a caller may write`);
    if (!source.startsWith('file://')) throw new Error('the stand-in reads --metric-data from file:// only');
    const metrics = recordedMetrics(readFileSync(source.slice('file://'.length), 'utf8'));
    mkdirSync(join(root, 'cloudwatch'), { recursive: true });
    appendFileSync(join(root, 'cloudwatch', 'metrics.jsonl'), `${JSON.stringify({ namespace, region: options.get('--region') ?? null, metrics })}\n`);
    return '';
  }
  if (service === 'sesv2' && command === 'send-email') {
    const { id, record } = sendEmail(root, options);
    mkdirSync(join(root, 'ses'), { recursive: true });
    appendFileSync(join(root, 'ses', 'outbox.jsonl'), `${JSON.stringify(record)}\n`);
    if (options.get('--query') === 'MessageId' && options.get('--output') === 'text') return `${id}\n`;
    return `${JSON.stringify({ MessageId: id }, null, 4)}\n`;
  }
  throw new Error(`the stand-in does not implement "aws ${service} ${command}"`);
}

function main(argv: readonly string[]): number {
  const root = process.env.PH_AWS_STANDIN_ROOT;
  if (!root) {
    process.stderr.write('aws stand-in: PH_AWS_STANDIN_ROOT is not set (the folder holding s3/ and ssm/)\n');
    return 255;
  }
  // Arguments only: values travel through files and stdout, never in argv.
  const described = argv.filter((arg, i) => !arg.startsWith('--') || argv[i - 1] === '--name').join(' ');
  appendFileSync(join(root, 'calls.log'), `${described}\n`);
  try {
    process.stdout.write(run(root, argv));
    return 0;
  } catch (error) {
    if (error instanceof ServiceError || error instanceof AwsServiceError) {
      process.stderr.write(`\n${error.message}\n`);
      return 254;
    }
    if (error instanceof NotFound) {
      if (error.message) process.stderr.write(`${error.message}\n`);
      return 1;
    }
    process.stderr.write(`aws stand-in: ${(error as Error).message}\n`);
    return 255;
  }
}

process.exitCode = main(process.argv.slice(2));
