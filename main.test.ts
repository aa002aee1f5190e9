/**
 * Several environments coexist: one stack each, distinct names, nothing shared, and
 * main.ts picks them from PROVIDER_ENV / PROVIDER_CONFIG.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Testing } from 'cdktf';
import { stringify } from 'yaml';
import { buildStacks, loadEnvironments } from './main';
import { EnvironmentError } from './config/load';
import { ProviderStack } from './stacks/provider-stack';
import { PROJECT_ROOT } from './lib/project-paths';
import { exampleConfig, exampleDocument, EXAMPLE_FILE, fixtureBundle, only, removeTempDirs, resources, tempDir, type TerraformJson } from './testing/synth';

afterAll(removeTempDirs);

/** Writes an environment file next to nothing: content paths made absolute. */
function environmentFileWith(name: string, overrides: Record<string, unknown>): string {
  const doc: Record<string, unknown> = { ...exampleDocument(), ...overrides, name };
  const examples = path.join(path.dirname(EXAMPLE_FILE), '..', 'examples');
  doc.content = { trustBundleFile: path.join(examples, 'trust-bundle.example.pem'), datasetsDir: path.join(examples, 'shared_data') };
  const file = path.join(tempDir('env'), `${name}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  return file;
}

describe('two environments side by side', () => {
  it('synthesize as two stacks with distinct names, parameters and records', () => {
    const app = Testing.app();
    const bundleDir = fixtureBundle();
    const prod = new ProviderStack(app, 'prod', { config: exampleConfig({ name: 'prod', domain: 'data.energydata.org.uk' }), bundleDir });
    const staging = new ProviderStack(app, 'staging', { config: exampleConfig({ name: 'staging', domain: 'staging.energydata.org.uk' }), bundleDir });
    const docs = [prod, staging].map((s) => JSON.parse(Testing.synth(s)) as TerraformJson);

    const distinct = (pick: (d: TerraformJson) => unknown) => expect(new Set(docs.map((d) => JSON.stringify(pick(d)))).size).toBe(2);
    distinct((d) => only(d, 'aws_s3_bucket').bucket_prefix);
    distinct((d) => only(d, 'aws_iam_role').name);
    distinct((d) => only(d, 'aws_iam_instance_profile').name);
    distinct((d) => only(d, 'aws_security_group').name);
    distinct((d) => only(d, 'aws_ssm_parameter').name);
    distinct((d) => Object.values(resources(d, 'aws_ssm_association')).map((a) => a.association_name));
    distinct((d) => Object.values(resources(d, 'aws_route53_record')).map((r) => r.name));
    distinct((d) => d.provider.aws);
    expect(only(docs[0], 'aws_ssm_parameter').name).toBe('/provider-host/prod/host-config');
    expect(only(docs[1], 'aws_iam_role').name).toBe('provider-staging-host');
  });
});

describe('main.ts', () => {
  it('defaults to the example environment', () => {
    expect(loadEnvironments({}).map((c) => c.name)).toEqual(['example']);
  });

  it('builds one stack per environment file named in PROVIDER_CONFIG', () => {
    const a = environmentFileWith('alpha', { domain: 'alpha.energydata.org.uk' });
    const b = environmentFileWith('beta', { domain: 'beta.energydata.org.uk', region: 'eu-west-1' });
    const app = new App({ outdir: tempDir('main-out') });
    const stacks = buildStacks(app, { PROVIDER_CONFIG: `${a},${b}`, PROVIDER_BUNDLE_DIR: fixtureBundle() });
    expect(stacks.map((s) => s.node.id)).toEqual(['alpha', 'beta']);
    app.synth();
    expect(fs.existsSync(path.join(app.outdir, 'stacks', 'alpha', 'cdk.tf.json'))).toBe(true);
    expect(fs.existsSync(path.join(app.outdir, 'stacks', 'beta', 'cdk.tf.json'))).toBe(true);
  });

  it('refuses two environments with the same name', () => {
    const a = environmentFileWith('twin', {});
    const b = environmentFileWith('twin', { domain: 'other.energydata.org.uk' });
    expect(() => loadEnvironments({ PROVIDER_CONFIG: `${a},${b}` })).toThrow(/name: "twin" is the name of both .*twin\.yaml and .*twin\.yaml; each environment needs its own name/);
  });

  it('names a missing bundle folder and how to build it', () => {
    const missing = path.join(tempDir('nobundle'), 'host-bundle');
    expect(() => buildStacks(new App({ outdir: tempDir('o') }), { PROVIDER_BUNDLE_DIR: missing })).toThrow(EnvironmentError);
    expect(() => buildStacks(new App({ outdir: tempDir('o') }), { PROVIDER_BUNDLE_DIR: missing })).toThrow(/run "npm run bundle" first/);
  });

  it('names an unknown environment', () => {
    expect(() => loadEnvironments({ PROVIDER_ENV: 'nope' })).toThrow(/no environment "nope"/);
  });

  it('prints configuration errors as a list, without a stack trace, and exits 1', () => {
    const bad = environmentFileWith('broken', { region: 'london', acme: { email: 'nobody' } });
    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'main.ts'], {
      cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30000, env: { ...process.env, PROVIDER_CONFIG: bad, PROVIDER_BUNDLE_DIR: fixtureBundle() },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `Invalid configuration in ${bad}:\n` +
        '  - region: "london" is not an AWS region code; use e.g. "eu-west-2"\n' +
        '  - acme.email: "nobody" is not an e-mail address; use e.g. "ops@example.org"\n',
    );
  });
});
