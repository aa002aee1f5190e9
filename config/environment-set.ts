/**
 * Several environments synthesized together must not step on each other: one stack
 * each, and none of the names that AWS, DNS or the state backend hold once. A pure
 * check over validated environments; main.ts runs it before building any stack.
 *
 * What may not be shared, and where it collides:
 *   name                     the cdktf stack, the local state file, the Environment tag
 *   namePrefix               IAM role and instance profile (account-wide, every region),
 *                            security group and SSM association names
 *   ssmPrefix                `<ssmPrefix>/host-config` (per region: SSM is regional)
 *   secrets.*Parameter       the transport certificate and key (per region)
 *   domain                   the Route53 record (and the certificate issued for it)
 *   backend.s3 bucket + key  the Terraform state file
 *
 * A clash that only follows from another one (two environments with the same `name` and
 * the default `namePrefix` `provider-<name>`) is reported once, at its source.
 */
import { EnvironmentError, type EnvironmentConfig } from './load';
import { defaultNamePrefix, defaultSecretParameter, defaultSsmPrefix } from './schema';

/** The parts of an environment that must differ between environments. */
export type EnvironmentIdentity = Pick<EnvironmentConfig, 'name' | 'namePrefix' | 'region' | 'domain' | 'ssmPrefix' | 'secrets' | 'backend' | 'sourceFile'>;

const show = (value: unknown): string => JSON.stringify(value);

/** "both a and b", "a, b and c". */
function listed(items: readonly string[]): string {
  const last = `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
  return items.length === 2 ? `both ${last}` : last;
}

const who = (env: EnvironmentIdentity): string => `${show(env.name)} (${env.sourceFile})`;

interface Use {
  readonly env: EnvironmentIdentity;
  /** The field that holds the value, e.g. "secrets.tlsKeyParameter". */
  readonly field: string;
  /** The value is the default derived from another field, whose own clash is reported. */
  readonly derived: boolean;
}

/** Groups uses by key, in first-seen order; keeps the groups used more than once. */
function shared(uses: ReadonlyArray<Use & { readonly key: string }>): Use[][] {
  const groups = new Map<string, Use[]>();
  for (const { key, ...use } of uses) groups.set(key, [...(groups.get(key) ?? []), use]);
  return [...groups.values()].filter((group) => group.length > 1 && !group.every((use) => use.derived));
}

/**
 * One line per clash, naming the field, the shared value, every environment that shares
 * it and the fix. Empty when the environments can coexist.
 */
export function environmentClashes(envs: readonly EnvironmentIdentity[]): string[] {
  return clashes(envs).map((clash) => clash.problem);
}

interface Clash {
  readonly problem: string;
  readonly envs: readonly EnvironmentIdentity[];
}

function clashes(given: readonly EnvironmentIdentity[]): Clash[] {
  const problems: Clash[] = [];
  const add = (group: readonly Use[], problem: string): void => {
    problems.push({ problem, envs: group.map((use) => use.env) });
  };

  // The same file twice (PROVIDER_ENV=prod,prod): said once, then checked once.
  const envs: EnvironmentIdentity[] = [];
  for (const group of shared(given.map((env) => ({ key: env.sourceFile, env, field: 'name', derived: false })))) {
    add(group, `name: ${show(group[0].env.name)}: ${group[0].env.sourceFile} is listed more than once; list each environment once`);
  }
  for (const env of given) if (!envs.some((other) => other.sourceFile === env.sourceFile)) envs.push(env);

  for (const group of shared(envs.map((env) => ({ key: env.name, env, field: 'name', derived: false })))) {
    add(group, `name: ${show(group[0].env.name)} is the name of ${listed(group.map((use) => use.env.sourceFile))}; each environment needs its own name (one stack each)`);
  }

  for (const group of shared(envs.map((env) => ({ key: env.namePrefix, env, field: 'namePrefix', derived: env.namePrefix === defaultNamePrefix(env.name) })))) {
    add(
      group,
      `namePrefix: ${show(group[0].env.namePrefix)} is used by ${listed(group.map((use) => who(use.env)))}; ` +
        'their IAM role and instance profile (account-wide, whatever the region), security group and SSM association names would collide; give each environment its own namePrefix',
    );
  }

  for (const group of shared(envs.map((env) => ({ key: `${env.region} ${env.ssmPrefix}`, env, field: 'ssmPrefix', derived: env.ssmPrefix === defaultSsmPrefix(env.name) })))) {
    const { ssmPrefix, region } = group[0].env;
    add(
      group,
      `ssmPrefix: ${show(ssmPrefix)} is used by ${listed(group.map((use) => who(use.env)))} in region ${region}; ` +
        `they would write the same parameter ${show(`${ssmPrefix}/host-config`)}; give each environment its own ssmPrefix`,
    );
  }

  const secretFields = ['tlsCertParameter', 'tlsKeyParameter'] as const;
  const secretUses = envs.flatMap((env) =>
    secretFields.map((field) => ({
      key: `${env.region} ${env.secrets[field]}`,
      env,
      field: `secrets.${field}`,
      derived: env.secrets[field] === defaultSecretParameter(env.ssmPrefix, field),
    })),
  );
  for (const group of shared(secretUses)) {
    const { env, field } = group[0];
    const parameter = show(env.secrets[field.slice('secrets.'.length) as (typeof secretFields)[number]]);
    const sameField = group.every((use) => use.field === field);
    const users = sameField ? group.map((use) => who(use.env)) : group.map((use) => `${use.field} of ${who(use.env)}`);
    add(
      group,
      `${sameField ? field : 'secrets'}: ${parameter} is used by ${listed(users)} in region ${env.region}; ` +
        'each environment needs its own transport certificate and key (shared, they are rotated and revoked together); ' +
        'give each environment its own secrets parameters (or ssmPrefix)',
    );
  }

  for (const group of shared(envs.map((env) => ({ key: env.domain, env, field: 'domain', derived: false })))) {
    add(
      group,
      `domain: ${show(group[0].env.domain)} is used by ${listed(group.map((use) => who(use.env)))}; ` +
        'they would claim the same DNS record (and certificate); give each environment its own domain',
    );
  }

  const backendUses = envs.flatMap((env) => (env.backend?.s3 ? [{ key: `${env.backend.s3.bucket}/${env.backend.s3.key}`, env, field: 'backend.s3.key', derived: false }] : []));
  for (const group of shared(backendUses)) {
    const s3 = group[0].env.backend!.s3;
    add(
      group,
      `backend.s3.key: ${show(s3.key)} in bucket ${show(s3.bucket)} is used by ${listed(group.map((use) => who(use.env)))}; ` +
        'they would share (and overwrite) one Terraform state; give each environment its own backend.s3.key',
    );
  }

  return problems;
}

/** Throws one EnvironmentError listing every clash between `envs`, naming the files involved. */
export function checkEnvironmentSet(envs: readonly EnvironmentIdentity[]): void {
  const found = clashes(envs);
  if (found.length === 0) return;
  const files = [...new Set(found.flatMap((clash) => clash.envs.map((env) => env.sourceFile)))];
  throw new EnvironmentError(files.join(', '), found.map((clash) => clash.problem));
}
