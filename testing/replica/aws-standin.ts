/**
 * A local stand-in for the few AWS CLI calls the host scripts make — AWS is the
 * one thing that cannot exist on this machine. S3 and SSM are folders under
 * $PH_AWS_STANDIN_ROOT:
 *
 *   s3/<bucket>/<key>     objects
 *   ssm/<name>            parameter values (name starts with "/")
 *   calls.log             one line per call: the command and names, never values
 *
 * Supported: `ssm get-parameter --name N [--with-decryption] [--query Parameter.Value --output text]`,
 * `s3 cp <src> <dst>` (one side s3://), `s3 ls s3://b/key`, `s3 sync s3://b/prefix <dir> [--delete]`.
 * Like the real CLI, downloads go to a temp file then rename (a hard-linked
 * copy of the old file keeps its content), and sync compares size and mtime.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const IGNORED_FLAGS = new Set(['--only-show-errors', '--no-progress', '--with-decryption', '--quiet']);
const VALUE_FLAGS = new Set(['--region', '--name', '--query', '--output', '--sse', '--profile']);

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

function run(root: string, argv: readonly string[]): string {
  // Global options (--region) may come before the service, as with the real CLI.
  const { positional: words, options, flags } = parse(argv);
  const [service, command, ...positional] = words;
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
    if (error instanceof NotFound) {
      if (error.message) process.stderr.write(`${error.message}\n`);
      return 1;
    }
    process.stderr.write(`aws stand-in: ${(error as Error).message}\n`);
    return 255;
  }
}

process.exitCode = main(process.argv.slice(2));
