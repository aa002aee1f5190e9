/**
 * Reads one environment file (YAML or JSON), validates it against the schema and the
 * local files it names, and returns the typed configuration. Every failure becomes one
 * EnvironmentError listing each bad field as `<file>: <field>: <problem and fix>`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { environmentSchema, type ParsedEnvironment } from './schema';
import { uncoveredCas } from './revocation-sources';

export interface ContentPaths {
  /** Absolute path of the client-CA trust bundle (PEM, certificates only). */
  readonly trustBundleFile: string;
  /** Absolute path of the datasets folder. */
  readonly datasetsDir: string;
  /** Absolute path of the static files folder, when configured. */
  readonly publicDir?: string;
}

/** A validated environment; content paths are absolute. */
export type EnvironmentConfig = Omit<ParsedEnvironment, 'content'> & {
  readonly content: ContentPaths;
  /** The file it was loaded from (for messages). */
  readonly sourceFile: string;
};

export class EnvironmentError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid configuration in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvironmentError';
  }
}

const ENV_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The file of a named environment in `dir` (config/environments). */
export function environmentFile(dir: string, name: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new EnvironmentError(dir, [`environment name ${JSON.stringify(name)} is not valid: use lower-case letters, digits and hyphens`]);
  }
  for (const ext of ENV_EXTENSIONS) {
    const candidate = path.join(dir, `${name}${ext}`);
    if (fs.existsSync(candidate)) return candidate;
  }
  const known = fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((f) => ENV_EXTENSIONS.includes(path.extname(f))).map((f) => path.basename(f, path.extname(f)))
    : [];
  throw new EnvironmentError(dir, [`no environment ${JSON.stringify(name)} (${name}.yaml); known: ${known.join(', ') || 'none'}`]);
}

/**
 * The environment named `name` (`<dir>/<name>.yaml`), whose `name:` must be `name`: cdktf
 * names the stack after `name:`, so a copied file that still says `name: example` would
 * synthesize a stack `cdktf deploy <name>` cannot find.
 */
export function loadNamedEnvironment(dir: string, name: string): EnvironmentConfig {
  const config = loadEnvironment(environmentFile(dir, name));
  if (config.name !== name) {
    throw new EnvironmentError(config.sourceFile, [
      `name: ${JSON.stringify(config.name)} differs from the file name ${JSON.stringify(name)}; set name: ${name} (the stack is named after it: cdktf deploy ${name})`,
    ]);
  }
  return config;
}

/** Reads, validates and resolves one environment file. Throws EnvironmentError. */
export function loadEnvironment(file: string): EnvironmentConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch {
    throw new EnvironmentError(absolute, ['cannot read the file; check the path']);
  }
  let raw: unknown;
  try {
    raw = absolute.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new EnvironmentError(absolute, [`not valid ${absolute.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`]);
  }
  return parseEnvironment(raw, absolute);
}

/** Validates an already-parsed document; relative content paths resolve against `file`'s folder. */
export function parseEnvironment(raw: unknown, file: string): EnvironmentConfig {
  const result = environmentSchema.safeParse(raw);
  if (!result.success) {
    throw new EnvironmentError(file, result.error.issues.map((issue) => describeIssue(issue, raw)));
  }
  const base = path.dirname(path.resolve(file));
  const { content, ...rest } = result.data;
  const resolved: ContentPaths = {
    trustBundleFile: path.resolve(base, content.trustBundleFile),
    datasetsDir: path.resolve(base, content.datasetsDir),
    ...(content.publicDir !== undefined ? { publicDir: path.resolve(base, content.publicDir) } : {}),
  };
  const problems = checkContent(resolved);
  if (problems.length === 0) problems.push(...checkRevocationSources(rest.revocation, resolved.trustBundleFile));
  if (problems.length > 0) throw new EnvironmentError(file, problems);
  return { ...rest, content: resolved, sourceFile: path.resolve(file) };
}

function checkContent(content: ContentPaths): string[] {
  const problems: string[] = [];
  const bundle = content.trustBundleFile;
  if (!isFile(bundle)) {
    problems.push(`content.trustBundleFile: ${JSON.stringify(bundle)} does not exist; give the PEM file of the trust framework's CA chain`);
  } else {
    const pem = fs.readFileSync(bundle, 'utf8');
    if (/PRIVATE KEY/.test(pem)) {
      problems.push(`content.trustBundleFile: ${JSON.stringify(bundle)} contains a private key; a trust bundle holds CA certificates only — remove the key (and rotate it: it has been copied around)`);
    } else if (!/-----BEGIN CERTIFICATE-----/.test(pem)) {
      problems.push(`content.trustBundleFile: ${JSON.stringify(bundle)} holds no PEM certificate; give a file with "-----BEGIN CERTIFICATE-----" blocks`);
    }
  }
  if (!isDirectory(content.datasetsDir)) {
    problems.push(`content.datasetsDir: ${JSON.stringify(content.datasetsDir)} is not a folder; give the folder of <name>.csv datasets`);
  }
  if (content.publicDir !== undefined && !isDirectory(content.publicDir)) {
    problems.push(`content.publicDir: ${JSON.stringify(content.publicDir)} is not a folder; give a folder of static files or omit the field`);
  }
  return problems;
}

/** With revocation on and no CRL URL given, every CA of the bundle needs a distribution point naming its CRL. */
function checkRevocationSources(revocation: ParsedEnvironment['revocation'], bundleFile: string): string[] {
  if (!revocation.enabled || revocation.crlUrls.length > 0) return [];
  const uncovered = uncoveredCas(fs.readFileSync(bundleFile, 'utf8'), revocation.fromTrustBundle);
  if (uncovered.length === 0) return [];
  return [
    `revocation.crlUrls: no CRL source for ${uncovered.map((s) => JSON.stringify(s)).join(', ')} (no certificate in content.trustBundleFile names ${uncovered.length > 1 ? 'their' : 'its'} CRL); ` +
      "list each CA's CRL URL in revocation.crlUrls, or set revocation.enabled: false (revoked certificates are then accepted)",
  ];
}

function isFile(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isFile();
}

function isDirectory(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isDirectory();
}

function valueAt(raw: unknown, keys: readonly PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const key of keys) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return `${field}: unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; check the spelling against docs/stack.md`;
  }
  if (issue.code === 'invalid_key') {
    return `${field}: ${issue.issues.map((inner) => inner.message).join('; ')}`;
  }
  const value = valueAt(raw, issue.path);
  if (issue.code === 'invalid_type' && value === undefined) {
    return `${field}: is required (expected ${issue.expected}); see docs/stack.md`;
  }
  const shown = JSON.stringify(value);
  const message = shown !== undefined && !issue.message.includes(shown) ? `${issue.message} (got ${shown})` : issue.message;
  return `${field}: ${message}`;
}
