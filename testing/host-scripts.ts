/**
 * Helpers for the bash-level tests of host/scripts: run the real library
 * functions or scripts with bash, with stand-in executables (systemctl, pm2,
 * nginx, aws, ...) that record their argv into a file.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtHostRenderer } from './host-renderer';

export const REPO = resolve(__dirname, '..');
export const SCRIPTS = join(REPO, 'host', 'scripts');
export const PROVISIONING = join(SCRIPTS, 'lib', 'provisioning.sh');

export const isRoot = process.getuid?.() === 0;

export interface BashResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs bash asynchronously (an in-process HTTP stand-in can answer it while
 * it runs). `args` are passed to bash as they are.
 */
export function runBash(args: readonly string[], env: Record<string, string>, timeoutMs = 60000): Promise<BashResult> {
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn('bash', [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolveRun({ status, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Sources every host library (set -euo pipefail, as the scripts do), then runs `script`. */
export function runLib(script: string, env: Record<string, string>, timeoutMs?: number): Promise<BashResult> {
  return runBash(['-c', `set -euo pipefail; . "${PROVISIONING}"; ${script}`], env, timeoutMs);
}

export function writeExecutable(path: string, text: string): string {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

export function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : [];
}

/**
 * A systemctl stand-in: appends `systemctl <argv>` to `log`, keeps each unit's
 * enabled/active state as files in `state`, and fails a verb when
 * `state/fail.<verb>` exists.
 */
export function writeSystemctlStub(bin: string, state: string, log: string): string {
  mkdirSync(state, { recursive: true });
  return writeExecutable(
    join(bin, 'systemctl'),
    `#!/usr/bin/env bash
printf 'systemctl %s\\n' "$*" >>'${log}'
state='${state}'
words=()
for arg in "$@"; do [[ $arg == -* ]] || words+=("$arg"); done
verb=\${words[0]:-}
unit=\${words[1]:-}
unit=\${unit%.service}
if [[ -e $state/fail.$verb ]]; then echo "Failed to $verb $unit: stub failure" >&2; exit 1; fi
case $verb in
  is-enabled) [[ -e $state/enabled.$unit ]] ;;
  is-active) [[ -e $state/active.$unit ]] ;;
  enable) touch "$state/enabled.$unit"; if [[ " $* " == *" --now "* ]]; then touch "$state/active.$unit"; fi ;;
  start) touch "$state/active.$unit" ;;
  reload) [[ -e $state/active.$unit ]] ;;
  daemon-reload) ;;
  *) echo "systemctl stub: unexpected $*" >&2; exit 1 ;;
esac
`,
  );
}

/**
 * A pm2 stand-in: appends `pm2 <argv>` to `log`. `startup` writes the unit
 * into `systemdDir` and marks it enabled in the systemctl stub's `systemctlState`
 * (as the real one does with systemctl enable); `jlist` reports the app online
 * once `start`/`startOrReload` ran (state file `pm2State/online`), and those
 * create the app's socket; a module `pm2State/module.<name>` (an older host's
 * pm2-logrotate) is listed too, until `uninstall <name>`. Any verb fails when
 * `pm2State/fail.<verb>` exists.
 */
export function writePm2Stub(opts: { bin: string; log: string; pm2State: string; systemdDir?: string; systemctlState?: string; socket?: string; appName?: string }): string {
  mkdirSync(opts.pm2State, { recursive: true });
  const node = process.execPath;
  return writeExecutable(
    join(opts.bin, 'pm2'),
    `#!/usr/bin/env bash
printf 'pm2 %s\\n' "$*" >>'${opts.log}'
state='${opts.pm2State}'
if [[ -e $state/fail.$1 ]]; then echo "pm2 stub: $1 fails" >&2; exit 1; fi
case $1 in
  startup)
    service=''
    while (($#)); do [[ $1 == --service-name ]] && service=$2; shift; done
    printf '[Unit]\\nDescription=PM2 stub\\n' >'${opts.systemdDir ?? '/nonexistent'}'/"$service.service"
    touch '${opts.systemctlState ?? '/nonexistent'}'/"enabled.$service" ;;
  jlist)
    entries=()
    if [[ -e $state/online ]]; then entries+=('{"name":"${opts.appName ?? 'provider'}","pm2_env":{"status":"online"}}'); fi
    if [[ -e $state/module.pm2-logrotate ]]; then entries+=('{"name":"pm2-logrotate","pm2_env":{"status":"online"}}'); fi
    (IFS=,; printf '[%s]' "\${entries[*]}") ;;
  uninstall) rm -f "$state/module.$2" ;;
  start | startOrReload)
    touch "$state/online"
    [[ -S '${opts.socket ?? '/nonexistent'}' ]] || '${node}' -e "require('net').createServer().listen(process.argv[1], () => process.exit(0))" '${opts.socket ?? '/nonexistent'}' ;;
  save) ;;
  *) echo "pm2 stub: unexpected $*" >&2; exit 1 ;;
esac
`,
  );
}

/** Copies the parts of a bundle the host scripts read (nginx files, systemd units, the logrotate template, the app's ecosystem file). */
export function writeBundle(dir: string, mainJs: string): void {
  for (const part of ['nginx/snippets', 'nginx/errors', 'nginx/templates', 'host/systemd', 'host/logrotate']) {
    cpSync(join(REPO, part), join(dir, part), { recursive: true });
  }
  mkdirSync(join(dir, 'dist', 'host'), { recursive: true });
  cpSync(builtHostRenderer(), join(dir, 'dist', 'host', 'host-render.js'));
  mkdirSync(join(dir, 'provider-app'), { recursive: true });
  cpSync(join(REPO, 'provider-app', 'ecosystem.config.js'), join(dir, 'provider-app', 'ecosystem.config.js'));
  setAppCode(dir, mainJs);
}

export function setAppCode(bundle: string, mainJs: string): void {
  mkdirSync(join(bundle, 'dist', 'provider-app'), { recursive: true });
  writeFileSync(join(bundle, 'dist', 'provider-app', 'start-provider-app.js'), mainJs);
}
