#!/usr/bin/env node
/**
 * Before `npm test`: the Debian packages the tests run for real (nginx, cloud-init,
 * shellcheck, systemd-analyze, ...) — the list CI installs, `.ci/debian-packages`, the
 * one place it is kept. Missing ones are installed when this runs as root with apt;
 * otherwise it stops at once with one line naming them and the command that installs
 * them, instead of dozens of failing tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PACKAGE_LIST = resolve(__dirname, '..', '.ci', 'debian-packages');

/** The package names of the list (one per line; `#` comments). */
export function readPackageList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line.length > 0);
}

/** The packages dpkg does not have installed. */
export function missingPackages(packages: readonly string[], isInstalled: (name: string) => boolean): string[] {
  return packages.filter((name) => !isInstalled(name));
}

const dpkgInstalled = (name: string): boolean =>
  spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status}', name], { encoding: 'utf8' }).stdout === 'installed';

export function installCommand(missing: readonly string[]): string {
  return `sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`;
}

/** apt-get as root; a policy-rc.d keeps a freshly installed nginx from starting on :80. */
function aptInstall(missing: readonly string[]): boolean {
  const policy = '/usr/sbin/policy-rc.d';
  const ours = !existsSync(policy);
  if (ours) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args: string[]): boolean => spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env }).status === 0;
    return run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
  } finally {
    if (ours) rmSync(policy, { force: true });
  }
}

function main(): number {
  if (spawnSync('dpkg-query', ['--version']).status !== 0) {
    process.stderr.write(`test prerequisites: not a Debian machine (no dpkg-query); the tests need the equivalents of ${join('.ci', 'debian-packages')}\n`);
    return 0;
  }
  const packages = readPackageList(readFileSync(PACKAGE_LIST, 'utf8'));
  const missing = missingPackages(packages, dpkgInstalled);
  if (missing.length === 0) return 0;
  if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
    process.stderr.write(`test prerequisites: installing ${missing.join(', ')} (apt-get, as root)\n`);
    const still = aptInstall(missing) ? missingPackages(missing, dpkgInstalled) : missing;
    if (still.length === 0) return 0;
    process.stderr.write(`test prerequisites: apt-get could not install ${still.join(', ')}; see its output above\n`);
    return 1;
  }
  process.stderr.write(`npm test needs these Debian packages: ${missing.join(', ')}. Install them: ${installCommand(missing)} (or run npm test as root, which installs them)\n`);
  return 1;
}

if (require.main === module) process.exitCode = main();
