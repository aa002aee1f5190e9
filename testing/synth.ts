/**
 * Test support for the synth tests: temporary bundle/data folders and stacks built
 * from the example environment with overrides. No test touches dist/ or cdktf.out/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Testing } from 'cdktf';
import { parse as parseYaml } from 'yaml';
import { parseEnvironment, type EnvironmentConfig } from '../config/load';
import { PROJECT_ROOT } from '../lib/project-paths';
import { ProviderStack } from '../stacks/provider-stack';

export const EXAMPLE_FILE = path.join(PROJECT_ROOT, 'config', 'environments', 'example.yaml');

const tempDirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ph-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes files (relative path → content) into a new temp folder. */
export function folderWith(prefix: string, files: Readonly<Record<string, string>>): string {
  const dir = tempDir(prefix);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

/** A small stand-in for dist/host-bundle. */
export function fixtureBundle(version = 'fixture-1'): string {
  const dir = folderWith('bundle', {
    VERSION: `${version}\n`,
    'host/scripts/setup.sh': '#!/bin/bash\necho "setup ${PH_DOMAIN}"\n',
    'host/scripts/update.sh': '#!/bin/bash\necho "update ${PH_DOMAIN}"\n',
    'dist/provider-app/start-provider-app.js': `console.log(${JSON.stringify(version)});\n`,
    'provider-app/ecosystem.config.js': 'module.exports = { apps: [] };\n',
  });
  for (const script of ['setup.sh', 'update.sh']) fs.chmodSync(path.join(dir, 'host', 'scripts', script), 0o755);
  return dir;
}

/** The example environment's raw document (YAML parsed), to override fields. */
export function exampleDocument(): Record<string, unknown> {
  return parseYaml(fs.readFileSync(EXAMPLE_FILE, 'utf8')) as Record<string, unknown>;
}

/** The example environment merged (one level deep per section) with overrides, validated. */
export function exampleConfig(overrides: Record<string, unknown> = {}): EnvironmentConfig {
  const doc = exampleDocument();
  for (const [key, value] of Object.entries(overrides)) {
    const current = doc[key];
    doc[key] = value !== null && typeof value === 'object' && !Array.isArray(value) && current !== null && typeof current === 'object'
      ? { ...(current as object), ...(value as object) }
      : value;
  }
  return parseEnvironment(doc, EXAMPLE_FILE);
}

export interface Synthesized {
  readonly stack: ProviderStack;
  /** Testing.synth output (the string the matchers take). */
  readonly json: string;
  /** The same, parsed. */
  readonly doc: TerraformJson;
}

export interface TerraformJson {
  resource: Record<string, Record<string, Record<string, unknown>>>;
  data: Record<string, Record<string, Record<string, unknown>>>;
  output: Record<string, { value: string; description?: string }>;
  terraform: Record<string, unknown>;
  provider: Record<string, unknown[]>;
}

export function synthStack(config: EnvironmentConfig = exampleConfig(), bundleDir: string = fixtureBundle()): Synthesized {
  const app = Testing.app();
  const stack = new ProviderStack(app, config.name, { config, bundleDir });
  const json = Testing.synth(stack);
  return { stack, json, doc: JSON.parse(json) as TerraformJson };
}

/** Resources of one type, by logical id. */
export function resources(doc: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return doc.resource[type] ?? {};
}

/** The one resource of a type (fails if there are several). */
export function only(doc: TerraformJson, type: string): Record<string, unknown> {
  const all = Object.values(resources(doc, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

export { App };
