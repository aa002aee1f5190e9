/**
 * The host contract (contract/host-settings.ts) is the one definition of what crosses
 * stack → host → nginx and app: every consumer agrees with it, and these tests fail
 * when one drifts — the stack's env file, the bash scripts, the bootstrap's line check,
 * the renderer's layout, the app's config schema, the environment schema, the nginx site.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeHostEnv, HOST_SETTINGS, hostEnvLines } from './host-settings';
import { SHELL_SAFE_CHARS } from './rules';
import { PROJECT_ROOT } from '../lib/project-paths';
import { environmentSchema } from '../config/schema';
import { LAYOUT_VARIABLES } from '../host/render/host-layout';
import { DATASETS_LOCATION } from '../nginx/sites';
import { parseProviderConfig, providerConfigSchema } from '../provider-app/config';
import { builtHostRenderer } from '../testing/host-renderer';
import { exampleDocument, only, removeTempDirs, synthStack, tempDir } from '../testing/synth';

afterAll(removeTempDirs);

const COMMON_SH = fs.readFileSync(path.join(PROJECT_ROOT, 'host', 'scripts', 'lib', 'common.sh'), 'utf8');
const settings = Object.entries(HOST_SETTINGS) as [string, { env: string; rule: { safeParse: (v: unknown) => { success: boolean } }; default?: unknown }][];

/** The synthesized host config, with the bucket name Terraform fills in at apply time. */
function synthesizedHostEnv(): string {
  const { doc } = synthStack();
  const value = (only(doc, 'aws_ssm_parameter').value as string).replace('${aws_s3_bucket.data_bucket.bucket}', 'provider-example-20261122140000000000000001');
  expect(value).not.toContain('${');
  return value;
}

it('the host scripts read every key of the synthesized host config, through the shipped renderer', () => {
  const value = synthesizedHostEnv();
  const etc = tempDir('contract-etc');
  fs.writeFileSync(path.join(etc, 'host.env'), value);
  const keys = value.trim().split('\n').map((line) => line.split('=')[0]);
  const script = [
    `source ${JSON.stringify(path.join(PROJECT_ROOT, 'host', 'scripts', 'lib', 'common.sh'))}`,
    'set_defaults',
    ...keys.map((key) => `printf '%s=%s\\n' ${key} "$${key}"`),
  ].join('\n');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PH_')));
  const result = spawnSync('bash', ['-c', script], { env: { ...clean, PH_ETC: etc, PH_RENDER: builtHostRenderer(), PH_NODE: process.execPath }, encoding: 'utf8' });
  expect(result.stderr).not.toMatch(/host-render|ERROR/);
  expect(result.status).toBe(0);
  expect(result.stdout).toBe(value);
});

it('decodes what the stack encodes to the values the stack was given', () => {
  const decoded = decodeHostEnv(synthesizedHostEnv());
  expect(decoded).toMatchObject({ domain: 'example.energydata.org.uk', scope: 'energydata', authzCacheSeconds: 1, appInstances: 2, acmeStaging: true });
  expect(decoded.acmeServer).toBeUndefined();
  // And back: what bash exports holds every setting, defaults included.
  expect(hostEnvLines(decoded).trim().split('\n').map((l) => l.split('=')[0])).toEqual(settings.map(([, s]) => s.env));
});

it('bash holds no default for any contract setting (no second set of defaults)', () => {
  for (const [, s] of settings) {
    expect({ env: s.env, defaulted: new RegExp(`\\$\\{${s.env}:?=`).test(COMMON_SH) }).toEqual({ env: s.env, defaulted: false });
  }
});

it('every layout variable the renderer reads has its one default in common.sh, and is exported to it', () => {
  for (const name of LAYOUT_VARIABLES) {
    const defined = new RegExp(`(\\$\\{${name}:=|^\\s*${name}=)`, 'm').test(COMMON_SH);
    const exported = new RegExp(`export [^\\n]*(\\\\\\n[^\\n]*)*\\b${name}\\b`).test(COMMON_SH);
    expect({ name, defined, exported }).toEqual({ name, defined: true, exported: true });
  }
});

it("every default passes its own setting's rule", () => {
  for (const [name, s] of settings) {
    if (s.default === undefined) continue;
    expect({ name, ok: s.rule.safeParse(s.default).success }).toEqual({ name, ok: true });
  }
});

it("the bootstrap's host.env line check uses the contract's shell-safe characters", () => {
  const bootstrap = fs.readFileSync(path.join(PROJECT_ROOT, 'host', 'bootstrap.sh'), 'utf8');
  const check = /grep -Evq '\^\(PH_\[A-Z0-9_\]\+=\[([^\]]+)\]\*\)\?\$'/.exec(bootstrap);
  expect(check?.[1]).toBe(SHELL_SAFE_CHARS);
});

describe('the app and the environment file use the contract rules', () => {
  const appConfig = (overrides: Record<string, unknown>) =>
    providerConfigSchema.safeParse({ socket: '/s', dataDir: '/d', issuer: 'https://issuer.example.com/', clientId: 'c', tlsCert: '/c', tlsKey: '/k', ...overrides });
  const environment = (section: string, overrides: Record<string, unknown>) => {
    const doc = exampleDocument();
    doc[section] = { ...(doc[section] as object), ...overrides };
    return environmentSchema.safeParse(doc);
  };

  it.each([
    ['scope', 'oauth', 'a b'],
    ['scope', 'oauth', 'x"y'],
    ['clientId', 'oauth', 'a b'],
    ['issuer', 'oauth', 'http://issuer.example.com/'],
    ['authzCacheSeconds', 'app', 11],
  ] as const)('%s = %j is refused by the contract, the app and the environment file alike', (name, section, value) => {
    expect(HOST_SETTINGS[name].rule.safeParse(value).success).toBe(false);
    expect(appConfig({ [name]: value }).success).toBe(false);
    expect(environment(section, { [name]: value }).success).toBe(false);
  });

  it('defaults agree: authzCacheSeconds and the PM2 cluster size', () => {
    expect(parseProviderConfig({ socket: '/s', dataDir: '/d', issuer: 'https://i.example.com/', clientId: 'c', tlsCert: '/c', tlsKey: '/k' }, '/').authzCacheSeconds).toBe(HOST_SETTINGS.authzCacheSeconds.default);
    const parsed = environmentSchema.parse({ ...exampleDocument(), app: {} });
    expect(parsed.app.authzCacheSeconds).toBe(HOST_SETTINGS.authzCacheSeconds.default);
    expect(parsed.app.instances).toBe(HOST_SETTINGS.appInstances.default);
  });
});

it("the nginx site's internal dataset location is the app's X-Accel-Redirect prefix", () => {
  const template = fs.readFileSync(path.join(PROJECT_ROOT, 'nginx', 'templates', 'mtls-site.conf.tmpl'), 'utf8');
  expect(template).toContain(`location ^~ ${DATASETS_LOCATION} {`);
});
