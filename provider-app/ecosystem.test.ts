import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PM2 = require.resolve('pm2/bin/pm2');

interface AppEntry {
  name: string;
  script: string;
  exec_mode: string;
  instances: number;
  wait_ready: boolean;
  kill_timeout: number;
  env: Record<string, string>;
  pmx: boolean;
}

function loadWith(env: Record<string, string | undefined>): AppEntry {
  const saved = { ...process.env };
  const file = require.resolve('./ecosystem.config.js');
  try {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    let app: AppEntry | undefined;
    // A fresh module registry, so the file reads the environment again.
    jest.isolateModules(() => {
      app = (require(file) as { apps: AppEntry[] }).apps[0];
    });
    return app!;
  } finally {
    process.env = saved;
  }
}

describe('PM2 ecosystem file', () => {
  it('starts dist/provider-app/start-provider-app.js next to it, in cluster mode with wait_ready and defaults', () => {
    const app = loadWith({ PROVIDER_INSTANCES: undefined, PROVIDER_APP_NAME: undefined, PROVIDER_CONFIG: undefined });
    expect(app.script).toBe(join(__dirname, '..', 'dist', 'provider-app', 'start-provider-app.js'));
    expect(app).toMatchObject({ name: 'provider', exec_mode: 'cluster', instances: 2, wait_ready: true });
    expect(app.kill_timeout).toBeGreaterThan(10000); // above the app's default drainTimeoutMs
    expect(app.env.PROVIDER_CONFIG).toBeUndefined();
  });

  it('takes instances, name and config file from the environment', () => {
    const app = loadWith({ PROVIDER_INSTANCES: '4', PROVIDER_APP_NAME: 'energy', PROVIDER_CONFIG: '/etc/provider-host/provider.json' });
    expect(app).toMatchObject({ name: 'energy', instances: 4 });
    expect(app.env.PROVIDER_CONFIG).toBe('/etc/provider-host/provider.json');
  });

  it('keeps @pm2/io out of the workers (pmx: false), for their memory and CPU per request', () => {
    expect(loadWith({}).pmx).toBe(false);
  });

  it('starts workers under real PM2 without @pm2/io loaded', async () => {
    // The file as the bundle ships it, with a probe in the app's place that reports
    // whether PM2 injected its metrics module before running it.
    const dir = mkdtempSync(join(tmpdir(), 'ecosystem-pmx-'));
    const env = { ...process.env, PM2_HOME: join(dir, 'pm2'), PROVIDER_INSTANCES: '1', PROVIDER_APP_NAME: 'pmx-probe' };
    const pm2 = (...args: string[]) => execFileSync(process.execPath, [PM2, ...args], { env, encoding: 'utf8', timeout: 60000 });
    const report = join(dir, 'report.json');
    try {
      mkdirSync(join(dir, 'provider-app'));
      mkdirSync(join(dir, 'dist', 'provider-app'), { recursive: true });
      copyFileSync(join(__dirname, 'ecosystem.config.js'), join(dir, 'provider-app', 'ecosystem.config.js'));
      writeFileSync(
        join(dir, 'dist', 'provider-app', 'start-provider-app.js'),
        `require('fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({
          io: Object.getOwnPropertySymbols(global).includes(Symbol.for('@pm2/io')),
          modules: Object.keys(require.cache).filter((file) => /pm2-io|@pm2[\\/]io/.test(file)),
        }));
        process.send && process.send('ready');
        setInterval(() => {}, 1000);`,
      );
      pm2('start', join(dir, 'provider-app', 'ecosystem.config.js'));
      const deadline = Date.now() + 20000;
      while (!existsSync(report) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(JSON.parse(readFileSync(report, 'utf8'))).toEqual({ io: false, modules: [] });
    } finally {
      try {
        pm2('kill');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 60000);

  it('falls back to 2 instances on a nonsense count', () => {
    expect(loadWith({ PROVIDER_INSTANCES: 'many' }).instances).toBe(2);
  });
});
