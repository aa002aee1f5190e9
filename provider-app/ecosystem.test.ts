import { join } from 'node:path';

interface AppEntry {
  name: string;
  script: string;
  exec_mode: string;
  instances: number;
  wait_ready: boolean;
  kill_timeout: number;
  env: Record<string, string>;
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

  it('falls back to 2 instances on a nonsense count', () => {
    expect(loadWith({ PROVIDER_INSTANCES: 'many' }).instances).toBe(2);
  });
});
