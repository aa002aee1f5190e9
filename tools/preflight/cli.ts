/**
 * `npm run preflight`: options → environment → checks → report. Returns the exit code
 * (0 all passed, warnings allowed; 1 a check failed; 2 bad usage or configuration).
 * Nothing here reads process.env or process.argv: the entry passes them in.
 */
import { parseArgs } from 'node:util';
import { EnvironmentError, environmentFile, loadEnvironment, type EnvironmentConfig } from '../../config/load';
import { ENVIRONMENTS_DIR } from '../../lib/project-paths';
import { createPreflightDeps, type PreflightDeps } from './aws-clients';
import { formatReport, runPreflight } from './run-preflight';

export const PREFLIGHT_HELP = `Usage: npm run preflight -- [--env <name> | --config <file>] [options]

Checks an AWS account before a deploy, read-only, with your AWS credentials (AWS_PROFILE,
environment variables, SSO): account and region, default VPC or subnet, the public hosted
zone and its delegation, an existing DNS record, the TLS SecureStrings (type, tier, PEM,
key matches certificate, expiry), the trust bundle, the AL2023 AMI and the Terraform version.
One line per check; exit code 0 all passed (warnings allowed), 1 a check failed, 2 bad usage.

  --env <name>         config/environments/<name>.yaml (default: $PROVIDER_ENV, else "example")
  --config <file>      an environment file elsewhere (default: $PROVIDER_CONFIG)
  --warn-days <n>      warn when a certificate expires sooner (default 30)
  --fail-days <n>      fail when a certificate expires sooner (default 7)
  -h, --help           this text`;

/** What the CLI reads from its surroundings; all injectable for tests. */
export interface PreflightCliDeps {
  /** The process environment (PROVIDER_ENV, PROVIDER_CONFIG, TERRAFORM_BINARY_NAME). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Builds the AWS clients, resolver and runner for the environment's region. @default createPreflightDeps */
  readonly makeDeps?: (region: string) => PreflightDeps;
  /** Where `--env <name>` looks. @default config/environments */
  readonly environmentsDir?: string;
  /** @default new Date() */
  readonly now?: Date;
}

class UsageError extends Error {}

function days(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a whole number of days, got "${value}"`);
  return n;
}

interface Parsed {
  readonly help: boolean;
  readonly env?: string;
  readonly config?: string;
  readonly warnDays: number;
  readonly failDays: number;
}

function parse(argv: readonly string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        env: { type: 'string' },
        config: { type: 'string' },
        'warn-days': { type: 'string' },
        'fail-days': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || (positionals.length === 1 && positionals[0] === 'help')) return { help: true, warnDays: 30, failDays: 7 };
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"; name the environment with --env <name>`);
  if (values.env !== undefined && values.config !== undefined) throw new UsageError('give --env <name> or --config <file>, not both');
  const warnDays = days(values['warn-days'], '--warn-days', 30);
  const failDays = days(values['fail-days'], '--fail-days', 7);
  if (failDays > warnDays) throw new UsageError(`--fail-days (${failDays}) must not exceed --warn-days (${warnDays})`);
  return { help: false, env: values.env, config: values.config, warnDays, failDays };
}

/** --config, --env, PROVIDER_CONFIG, PROVIDER_ENV, then "example" (one environment: preflight checks one account). */
function loadSelected(options: Parsed, env: Readonly<Record<string, string | undefined>>, dir: string): EnvironmentConfig {
  if (options.config !== undefined) return loadEnvironment(options.config);
  if (options.env !== undefined) return loadEnvironment(environmentFile(dir, options.env));
  const single = (variable: string): string | undefined => {
    const items = (env[variable] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length > 1) throw new UsageError(`${variable} names ${items.length} environments (${items.join(', ')}); preflight checks one: pass --env <name> or --config <file>`);
    return items[0];
  };
  const file = single('PROVIDER_CONFIG');
  if (file !== undefined) return loadEnvironment(file);
  return loadEnvironment(environmentFile(dir, single('PROVIDER_ENV') ?? 'example'));
}

export async function runPreflightCli(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream, deps: PreflightCliDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  let options: Parsed;
  let config: EnvironmentConfig;
  try {
    options = parse(argv);
    if (options.help) {
      out.write(`${PREFLIGHT_HELP}\n`);
      return 0;
    }
    config = loadSelected(options, env, deps.environmentsDir ?? ENVIRONMENTS_DIR);
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`error: ${error.message}\n  hint: npm run preflight -- --help\n`);
      return 2;
    }
    if (error instanceof EnvironmentError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const report = await runPreflight(config, (deps.makeDeps ?? createPreflightDeps)(config.region), {
    warnDays: options.warnDays,
    failDays: options.failDays,
    now: deps.now,
    terraformBinaryName: env.TERRAFORM_BINARY_NAME || undefined,
  });
  out.write(`${formatReport(report)}\n`);
  return report.ok ? 0 : 1;
}
