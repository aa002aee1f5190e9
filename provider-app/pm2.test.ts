/**
 * The app under real PM2, laid out as the host bundle ships it: the esbuild bundle at
 * dist/provider-app/start-provider-app.js next to provider-app/ecosystem.config.js, in a temp folder,
 * with a throwaway PM2_HOME. Cluster mode, wait_ready, logs, zero-downtime reload, and a
 * stale socket after the PM2 daemon is killed.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createDevSet } from '../testing/pki/dev-set';

jest.setTimeout(120000);

const PM2 = require.resolve('pm2/bin/pm2');

function ping(socket: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/ping', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('provider app under PM2 (cluster mode)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let socket: string;
  const pm2 = (...args: string[]) => execFileSync(process.execPath, [PM2, ...args], { env, encoding: 'utf8', timeout: 60000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provider-pm2-'));
    mkdirSync(join(dir, 'bundle', 'provider-app'), { recursive: true });
    await build({
      entryPoints: [join(__dirname, 'start-provider-app.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      outfile: join(dir, 'bundle', 'dist', 'provider-app', 'start-provider-app.js'),
      logLevel: 'silent',
    });
    copyFileSync(join(__dirname, 'ecosystem.config.js'), join(dir, 'bundle', 'provider-app', 'ecosystem.config.js'));
    const pki = createDevSet(join(dir, 'pki'));
    mkdirSync(join(dir, 'data'));
    socket = join(dir, 'provider.sock');
    const config = join(dir, 'provider.json');
    // The authorization server is not needed: /ping needs no token.
    writeFileSync(
      config,
      JSON.stringify({ socket, dataDir: 'data', issuer: 'https://127.0.0.1:9', clientId: 'provider', tlsCert: pki.files['provider.chain.crt'], tlsKey: pki.files['provider.key'], scope: 'datasets:read' }),
    );
    env = { ...process.env, PM2_HOME: join(dir, 'pm2'), PROVIDER_CONFIG: config, PROVIDER_INSTANCES: '2', PROVIDER_APP_NAME: 'provider-test' };
  });

  afterAll(() => {
    spawnSync(process.execPath, [PM2, 'kill'], { env, timeout: 30000 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts two ready instances sharing one 0660 socket and logs JSON through pm2', async () => {
    pm2('start', join(dir, 'bundle', 'provider-app', 'ecosystem.config.js'));
    const list = JSON.parse(pm2('jlist')) as { name: string; pm2_env: { status: string; exec_mode: string } }[];
    expect(list.filter((p) => p.name === 'provider-test').map((p) => [p.pm2_env.status, p.pm2_env.exec_mode])).toEqual([
      ['online', 'cluster_mode'],
      ['online', 'cluster_mode'],
    ]);
    expect(await ping(socket)).toBe(200);
    expect(statSync(socket).mode & 0o777).toBe(0o660);
    const logged = await waitFor(() => {
      const out = join(dir, 'pm2', 'logs', 'provider-test-out.log');
      return existsSync(out) && readFileSync(out, 'utf8').includes('"path":"/ping"');
    }, 5000);
    expect(logged).toBe(true);
  });

  it('reloads without failing a single request', async () => {
    const statuses: number[] = [];
    let running = true;
    const load = (async () => {
      while (running) statuses.push(await ping(socket));
    })();
    // Asynchronously: a synchronous exec would freeze this process's own client mid-request.
    await promisify(execFile)(process.execPath, [PM2, 'reload', 'provider-test'], { env, timeout: 60000 });
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await load;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('removes the stale socket left when the PM2 daemon dies, on the next start', async () => {
    const daemonPid = Number(readFileSync(join(dir, 'pm2', 'pm2.pid'), 'utf8'));
    const workers = (JSON.parse(pm2('jlist')) as { pid: number }[]).map((p) => p.pid);
    process.kill(daemonPid, 'SIGKILL');
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    if (!(await waitFor(() => workers.every(gone), 5000))) workers.filter((p) => !gone(p)).forEach((p) => process.kill(p, 'SIGKILL'));
    expect(statSync(socket).isSocket()).toBe(true);
    expect(await ping(socket)).toBe(0);
    pm2('start', join(dir, 'bundle', 'provider-app', 'ecosystem.config.js'));
    expect(await waitFor(async () => (await ping(socket)) === 200, 10000)).toBe(true);
  });
});
