/**
 * The cdktf app. The only place that reads the process environment:
 *   PROVIDER_ENV         comma-separated environment names (config/environments/<name>.yaml);
 *                        default "example"
 *   PROVIDER_CONFIG      alternatively, comma-separated paths of environment files
 *   PROVIDER_BUNDLE_DIR  the host bundle folder; default dist/host-bundle (npm run bundle)
 * A configuration or input error is printed as a list of fields and fixes, without a stack trace.
 */
import * as fs from 'node:fs';
import { App } from 'cdktf';
import { EnvironmentError, loadEnvironment, loadNamedEnvironment, type EnvironmentConfig } from './config/load';
import { checkEnvironmentSet } from './config/environment-set';
import { DEFAULT_BUNDLE_DIR, ENVIRONMENTS_DIR } from './lib/project-paths';
import { InputError } from './lib/input-error';
import { ProviderStack } from './stacks/provider-stack';
import { TemplateError } from './lib/render-template';

export interface MainEnv {
  readonly PROVIDER_ENV?: string;
  readonly PROVIDER_CONFIG?: string;
  readonly PROVIDER_BUNDLE_DIR?: string;
}

const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/**
 * Loads every requested environment; throws EnvironmentError on the first bad one, then on
 * anything two of them would share (name, namePrefix, SSM names, domain, state file).
 */
export function loadEnvironments(env: MainEnv): EnvironmentConfig[] {
  const files = list(env.PROVIDER_CONFIG);
  const configs = files.length > 0
    ? files.map((file) => loadEnvironment(file))
    : (list(env.PROVIDER_ENV).length > 0 ? list(env.PROVIDER_ENV) : ['example']).map((name) => loadNamedEnvironment(ENVIRONMENTS_DIR, name));
  checkEnvironmentSet(configs);
  return configs;
}

/** Builds one stack per environment into `app`. */
export function buildStacks(app: App, env: MainEnv): ProviderStack[] {
  const bundleDir = env.PROVIDER_BUNDLE_DIR ?? DEFAULT_BUNDLE_DIR;
  if (!fs.existsSync(bundleDir)) {
    throw new EnvironmentError(bundleDir, ['the host bundle folder does not exist; run "npm run bundle" first (or set PROVIDER_BUNDLE_DIR)']);
  }
  const stacks = loadEnvironments(env).map((config) => new ProviderStack(app, config.name, { config, bundleDir }));
  for (const stack of stacks) stack.checkAwsRules();
  return stacks;
}

if (require.main === module) {
  try {
    const app = new App();
    buildStacks(app, process.env);
    app.synth();
  } catch (error) {
    if (error instanceof EnvironmentError || error instanceof InputError || error instanceof TemplateError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
