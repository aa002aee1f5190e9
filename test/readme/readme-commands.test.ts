/**
 * The README's commands are true: the quick start is exactly the two commands CI
 * runs, every `npm run` script it names exists, the sandbox session it shows is
 * re-run for real, and every other command it shows is accounted for — exercised
 * by a named test or by CI, or listed here as needing AWS or a real host.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../tools/dev/sandbox';
import { codeBlocks, commandLines, transcriptCommands } from './markdown';

const repo = join(__dirname, '..', '..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const ciRun = readFileSync(join(repo, '.ci', 'run'), 'utf8');
const scripts = Object.keys((JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

/** Commands from ```sh blocks that a test or CI runs: the file that does, and what it must contain. */
const EXERCISED: Record<string, { by: string; contains: string }> = {
  'npm ci && npm run synth': { by: 'test/synth/npm-synth.test.ts', contains: "'synth'" },
  'npm test': { by: '.ci/run', contains: 'npm test' },
  'npm run e2e': { by: '.ci/run', contains: 'npm run e2e' },
  'PROVIDER_ENV=prod npm run synth': { by: 'main.test.ts', contains: 'PROVIDER_ENV' },
  'npm run synth': { by: 'test/synth/npm-synth.test.ts', contains: "'synth'" },
  'npm run build': { by: 'test/synth/npm-synth.test.ts', contains: "'synth'" },
  'node dist/provider-app/start-provider-app.js --config provider.json': { by: 'provider-app/start-provider-app.test.ts', contains: '--config' },
  'npm run bench': { by: 'bench/replica-bench.ts', contains: 'nginx static' },
  // Against the AWS SDK's own client mocks: every check, good and failing.
  'npm run preflight -- --env prod': { by: 'tools/preflight/preflight-cli.test.ts', contains: "['--env', 'prod']" },
};

/** Commands that need an AWS account or the deployed host; what they consume is tested by synth and the replica. */
const NEEDS_AWS_OR_HOST = new Set([
  'cp config/environments/example.yaml config/environments/prod.yaml',
  'PROVIDER_ENV=prod npx cdktf deploy prod',
  'PROVIDER_ENV=prod npx cdktf output prod',
  'cd cdktf.out/stacks/example',
  'terraform init',
  'terraform apply',
  'sudo -u provider pm2 logs provider',
  'sudo -u provider pm2 ls',
  'sudo tail -f /var/log/nginx/access.json.log',
  'systemctl list-timers provider-certbot-renew.timer provider-host-revocation.timer',
  'sudo cat /etc/provider-host/revocation/status.json',
]);

describe('README quick start', () => {
  it('is exactly two commands: install + synthesize, then the tests', () => {
    const section = readme.split('\n## Quick start')[1].split('\n## ')[0];
    expect(commandLines(codeBlocks(section, 'sh')[0])).toEqual(['npm ci && npm run synth', 'npm test']);
  });

  it('is what CI runs after installing the Debian packages', () => {
    expect(ciRun).toMatch(/^npm ci\b/m);
    expect(ciRun).toMatch(/^npm test$/m);
  });
});

describe('README commands', () => {
  const shCommands = codeBlocks(readme, 'sh').flatMap(commandLines);

  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it('are each exercised by a test or CI, or marked as needing AWS or the host', () => {
    const unaccounted = shCommands.filter((command) => !(command in EXERCISED) && !NEEDS_AWS_OR_HOST.has(command));
    expect(unaccounted).toEqual([]);
    for (const [command, { by, contains }] of Object.entries(EXERCISED)) {
      expect({ command, found: readFileSync(join(repo, by), 'utf8').includes(contains) }).toEqual({ command, found: true });
    }
  });

  it('lists no stale entry: every accounted command is still in the README', () => {
    const stale = [...Object.keys(EXERCISED), ...NEEDS_AWS_OR_HOST].filter((command) => !shCommands.includes(command));
    expect(stale).toEqual([]);
  });
});

/** Runs `npm run <script> -- <args>` from the repository; resolves with exit code and output. */
function npmRun(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

describe('README sandbox session, re-run against a real sandbox', () => {
  let stateDir: string;
  let workDir: string;
  let sandbox: Sandbox;
  const shown = transcriptCommands(readme).filter((command) => /^npm run (client|verify)\b/.test(command));

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'readme-sandbox-'));
    workDir = mkdtempSync(join(tmpdir(), 'readme-work-'));
    sandbox = await startSandbox({ stateDir, port: 0 });
  }, 90_000);

  afterAll(async () => {
    await sandbox?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('shows `npm run dev` (run for real by tools/dev/dev-command.test.ts), then the client and verify commands', () => {
    expect(transcriptCommands(readme)[0]).toBe('npm run dev');
    expect(readFileSync(join(repo, 'tools', 'dev', 'dev-command.test.ts'), 'utf8')).toContain("'run', '--silent', 'dev'");
    expect(shown).toEqual(['npm run client -- list', 'npm run client -- get carbon-intensity -o carbon-intensity.csv', 'npm run verify']);
  });

  it('`npm run client -- list` lists the sample datasets the README shows', async () => {
    const { code, out } = await npmRun(['client', '--', 'list', '--sandbox-dir', stateDir]);
    expect(code).toBe(0);
    expect(out.trim().split('\n').map((line) => line.split(/\s+/)[0])).toEqual(['carbon-intensity', 'generation-mix', 'half-hourly-consumption']);
  }, 60_000);

  it('`npm run client -- get … -o …` saves the dataset, as shown', async () => {
    const file = join(workDir, 'carbon-intensity.csv');
    const { code, out } = await npmRun(['client', '--', 'get', 'carbon-intensity', '-o', file, '--sandbox-dir', stateDir]);
    expect(code).toBe(0);
    expect(out).toContain(`Saved carbon-intensity to ${file}`);
    expect(readFileSync(file)).toEqual(readFileSync(join(repo, 'sample-data', 'carbon-intensity.csv')));
  }, 60_000);

  it('`npm run verify` passes all 8 checks, as shown', async () => {
    const { code, out } = await npmRun(['verify', '--', '--sandbox-dir', stateDir]);
    expect(out.trim().split('\n').at(-1)).toBe('all 8 checks passed');
    expect(code).toBe(0);
  }, 60_000);
});
