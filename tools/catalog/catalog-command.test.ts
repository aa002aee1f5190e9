import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { runReleaseCli } from '../publish/cli';
import { runCatalogCli } from './catalog-command';

const MEMBER = 'https://directory.core.trust.ib1.org/member/827252';
const SCHEME = 'https://registry.core.trust.ib1.org/scheme/electricity';
const ROLE = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';
const LICENCE = 'https://registry.core.trust.ib1.org/scheme/electricity/license/voltage-reporting/1.4';
const MANIFEST = {
  datasets: {
    voltage: { roles: [ROLE], licence: LICENCE, title: 'Supply voltage', description: 'Half-hourly supply voltage' },
    carbon: { access: 'open', licence: 'https://creativecommons.org/licenses/by/4.0/', title: 'Carbon', description: 'Grid carbon intensity' },
  },
};

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'catalog-cli-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const sink = (into: string[]) => ({ isTTY: false, write: (t: string | Uint8Array) => into.push(String(t)) > 0 }) as never;

async function catalog(args: string[], extra: { s3Client?: (region: string) => S3Client } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCatalogCli(args, { stdout: sink(out), stderr: sink(err), env: {}, stateDir: root, ...extra });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** A folder as it is published: datasets and manifest.json. */
function folder(manifest: unknown = MANIFEST): string {
  const dir = join(root, `data-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'voltage.csv'), 'at,volts\n2026-01-22T10:00Z,231\n');
  writeFileSync(join(dir, 'carbon.csv'), 'at,gco2\n2026-01-22T10:00Z,120\n');
  if (manifest !== undefined) writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

const IB1 = ['--publisher', MEMBER, '--scheme', SCHEME];

/** The records' node ids by type, from the JSON the command wrote. */
function idsByType(text: string): Record<string, string[]> {
  const graph = (JSON.parse(text) as { '@graph': { '@id': string; '@type': string }[] })['@graph'];
  const byType: Record<string, string[]> = {};
  for (const node of graph) (byType[node['@type']] ??= []).push(node['@id']);
  return byType;
}

describe('provider-host catalog', () => {
  it('--help: the usage on stdout, exit 0', async () => {
    const run = await catalog(['--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^Usage: provider-host catalog /);
  });

  it('a folder: the JSON-LD on stdout, a summary on stderr, exit 0', async () => {
    const run = await catalog([folder(), '--base-url', 'https://data.example.com', ...IB1]);
    expect(run.code).toBe(0);
    expect(idsByType(run.stdout)).toEqual({
      'dcat:Dataset': ['https://data.example.com/carbon#dataset', 'https://data.example.com/voltage#dataset'],
      'dcat:Distribution': ['https://data.example.com/carbon#csv', 'https://data.example.com/voltage#csv'],
    });
    expect(run.stderr).toMatch(/^2 dataset record\(s\) from /);
  });

  it('the sizes and hashes are those of the files', async () => {
    const dir = folder();
    const run = await catalog([dir, '--base-url', 'https://data.example.com', ...IB1]);
    const csv = (JSON.parse(run.stdout) as { '@graph': Record<string, unknown>[] })['@graph'].find((n) => n['@id'] === 'https://data.example.com/voltage#csv')!;
    const bytes = readFileSync(join(dir, 'voltage.csv'));
    expect(csv['dcat:byteSize']).toEqual({ '@value': String(bytes.length), '@type': 'xsd:nonNegativeInteger' });
    expect((csv['spdx:checksum'] as { 'spdx:checksumValue': { '@value': string } })['spdx:checksumValue']['@value']).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('--out writes the document there, nothing on stdout', async () => {
    const out = join(root, 'catalog.jsonld');
    const run = await catalog([folder(), '--base-url', 'https://data.example.com', '--out', out, '--heartbeat-url', 'https://data.example.com/ping', ...IB1]);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toMatch(/^wrote .*catalog\.jsonld: 2 dataset record\(s\)/);
    expect(idsByType(readFileSync(out, 'utf8'))['dcat:DataService']).toEqual(['https://data.example.com#heartbeat']);
  });

  it('--bucket-dir: the live release, the same records as its folder', async () => {
    const dir = folder();
    const bucket = join(root, 'bucket');
    expect(await runReleaseCli('publish', ['--bucket-dir', bucket, dir], { stdout: sink([]), stderr: sink([]), env: {} })).toBe(0);
    const fromBucket = await catalog(['--bucket-dir', bucket, '--base-url', 'https://data.example.com', ...IB1]);
    expect(fromBucket.code).toBe(0);
    expect(fromBucket.stderr).toMatch(/2 dataset record\(s\) from folder .* release \S+/);
    expect(JSON.parse(fromBucket.stdout)).toEqual(JSON.parse((await catalog([dir, '--base-url', 'https://data.example.com', ...IB1])).stdout));
  });

  it('--bucket-dir with nothing published: exit 1, saying so', async () => {
    const run = await catalog(['--bucket-dir', join(root, 'empty'), '--base-url', 'https://data.example.com', ...IB1]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: nothing published to folder .*empty yet/);
  });

  it('--env: the live release of its bucket, at https://<its domain> by default', async () => {
    const dir = folder();
    const bucket = join(root, 'bucket');
    expect(await runReleaseCli('publish', ['--bucket-dir', bucket, dir], { stdout: sink([]), stderr: sink([]), env: {} })).toBe(0);
    writeFileSync(join(root, 'terraform.example.tfstate'), JSON.stringify({ outputs: { bucket: { value: 'provider-example-123' } } }));
    const s3 = mockClient(S3Client);
    // The bucket's objects are those the folder store wrote.
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const file = join(bucket, input.Key);
      if (!existsSync(file)) throw Object.assign(new Error('no'), { name: 'NoSuchKey' });
      return { Body: { transformToString: async () => readFileSync(file, 'utf8') } };
    });
    try {
      const run = await catalog(['--env', 'example', ...IB1], { s3Client: (region) => new S3Client({ region }) });
      expect(run.stderr).toMatch(/2 dataset record\(s\) from s3:\/\/provider-example-123/);
      expect(run.code).toBe(0);
      expect(idsByType(run.stdout)['dcat:Dataset']).toEqual(['https://example.energydata.org.uk/carbon#dataset', 'https://example.energydata.org.uk/voltage#dataset']);
    } finally {
      s3.restore();
    }
  });

  it.each<[string, string[], string]>([
    ['no release named', ['--base-url', 'https://data.example.com', ...IB1], 'error: which release? name the folder you publish'],
    ['no publisher', ['DIR', '--base-url', 'https://data.example.com'], 'error: --publisher <url> is required'],
    ['no base URL without --env', ['DIR', ...IB1], 'error: --base-url <url> is required'],
    ['a folder and the bucket', ['DIR', '--bucket-dir', 'x', '--base-url', 'https://data.example.com', ...IB1], 'error: read a folder or the bucket'],
    ['another trust framework', ['DIR', '--base-url', 'https://data.example.com', '--trust-framework', 'oe', ...IB1], 'error: --trust-framework "oe": use ib1 or open-energy'],
    ['an unknown option', ['DIR', '--frobnicate'], "error: Unknown option '--frobnicate'"],
    ['--bucket-dir with --env', ['--bucket-dir', 'x', '--env', 'example', '--base-url', 'https://data.example.com', ...IB1], 'error: --bucket-dir stands in for the bucket'],
  ])('bad usage (%s): exit 2 with a hint', async (_what, args, start) => {
    const dir = folder();
    const run = await catalog(args.map((a) => (a === 'DIR' ? dir : a)));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.startsWith(start)).toBe(true);
    expect(run.stderr).toContain('hint: provider-host catalog --help');
  });

  it('a file instead of a folder: exit 2, saying what to name', async () => {
    const run = await catalog([join(folder(), 'voltage.csv'), '--base-url', 'https://data.example.com', ...IB1]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/voltage\.csv is not a folder: name the folder you publish/);
  });

  it('ib1 records lacking mandatory fields: exit 2, every problem named with its manifest field, nothing on stdout', async () => {
    const run = await catalog([folder({ datasets: { voltage: { licence: LICENCE } } }), '--base-url', 'https://data.example.com', ...IB1]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      'error: the catalog records cannot be written:',
      expect.stringMatching(/^ {2}manifest\.json datasets\.carbon: not in manifest\.json/),
      expect.stringMatching(/^ {2}manifest\.json datasets\.voltage\.title: required in an IB1 catalog record/),
      expect.stringMatching(/^ {2}manifest\.json datasets\.voltage\.description: required/),
      expect.stringMatching(/^ {2}manifest\.json datasets\.voltage\.roles: shared data needs at least one role/),
      '',
    ]);
  });

  it('the same folder as open-energy: records without the IB1 mandatory fields', async () => {
    const run = await catalog([folder(undefined), '--base-url', 'https://data.example.com', '--publisher', MEMBER, '--trust-framework', 'open-energy']);
    expect(run.code).toBe(0);
    expect(idsByType(run.stdout)['dcat:Dataset']).toHaveLength(2);
  });

  it('a bad provider fact is named by its flag', async () => {
    const run = await catalog([folder(), '--base-url', 'http://data.example.com', ...IB1]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('  --base-url: must be an https URL');
  });

  it('an invalid manifest.json: exit 2 naming the dataset and field', async () => {
    const run = await catalog([folder({ datasets: { carbon: { access: 'open', sensitivity: 'IB1-SA' } } }), '--base-url', 'https://data.example.com', ...IB1]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('datasets.carbon.sensitivity: an open dataset is IB1-O, not IB1-SA');
  });

  it('--out into a folder that does not exist: exit 2 naming it', async () => {
    const run = await catalog([folder(), '--base-url', 'https://data.example.com', '--out', join(root, 'missing', 'c.jsonld'), ...IB1]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: cannot write ${join(root, 'missing', 'c.jsonld')}: the folder ${join(root, 'missing')} does not exist; choose another --out\n`);
  });

  it('warns of a manifest entry with no dataset file, and still writes the rest', async () => {
    const run = await catalog([folder({ datasets: { ...MANIFEST.datasets, gone: { access: 'open' } } }), '--base-url', 'https://data.example.com', ...IB1]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('warning: datasets.gone: in manifest.json but the release has no gone.csv; not catalogued\n');
  });
});
