/**
 * A private nginx under a temporary prefix: the distribution's binary with our
 * own main config, so tests never touch /etc/nginx or the system nginx.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { renderTemplateFile } from '../../lib/render-template';
import { stopPids } from '../../lib/child-process';
import { templateDir } from './paths';

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

export interface NginxPrefix {
  /** The prefix folder (pid, logs, temp files). */
  readonly prefix: string;
  /** The main config file. */
  readonly mainConf: string;
  /** The folder whose `*.conf` files are included in `http {}`. */
  readonly confDir: string;
  /** Arguments selecting this prefix and config: `-p <prefix> -e <log> -c <conf>`. */
  readonly args: readonly string[];
}

/**
 * Writes a main config under `prefix` including `confDir/*.conf`.
 * @param user the worker user; as root, a user that can reach the socket and files.
 */
export function createNginxPrefix(prefix: string, confDir: string, user = defaultWorkerUser(), workerProcesses = '1'): NginxPrefix {
  for (const sub of ['logs', 'tmp']) mkdirSync(join(prefix, sub), { recursive: true });
  mkdirSync(confDir, { recursive: true });
  const mainConf = join(prefix, 'nginx.conf');
  writeFileSync(
    mainConf,
    renderTemplateFile(join(templateDir(), 'nginx-main.conf.tmpl'), {
      user,
      worker_processes: workerProcesses,
      prefix,
      conf_dir: confDir,
    }),
  );
  return { prefix, mainConf, confDir, args: ['-p', prefix, '-e', join(prefix, 'logs', 'error.log'), '-c', mainConf] };
}

function defaultWorkerUser(): string {
  return userInfo().username;
}

/** Why nginx could not be run at all (not installed, most often), and the fix. */
export function nginxMissing(error: NodeJS.ErrnoException, bin = NGINX_BIN): string {
  return error.code === 'ENOENT'
    ? `nginx is not installed (no ${bin}): install the Debian package nginx (apt-get install -y nginx; npm test does it when run as root), or set NGINX_BIN`
    : `cannot run ${bin}: ${error.message}`;
}

/** `nginx -t`; returns nginx's output, throws with it when the configuration is invalid. */
export function testNginxConfig(nginx: NginxPrefix): string {
  const result = spawnSync(NGINX_BIN, [...nginx.args, '-t'], { encoding: 'utf8' });
  if (result.error) throw new Error(nginxMissing(result.error));
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`nginx -t failed:\n${output}`);
  return output;
}

/** Starts nginx (it daemonises) and returns the master's PID. */
export function startNginx(nginx: NginxPrefix): number {
  testNginxConfig(nginx);
  const result = spawnSync(NGINX_BIN, nginx.args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`nginx failed to start:\n${result.stderr}`);
  return readNginxPid(nginx);
}

export function readNginxPid(nginx: NginxPrefix): number {
  const file = join(nginx.prefix, 'nginx.pid');
  if (!existsSync(file)) throw new Error(`nginx wrote no pid file ${file}`);
  return Number(readFileSync(file, 'utf8').trim());
}

/** Stops the nginx master by PID (fast shutdown) and waits, bounded, for it to exit. */
export function stopNginx(pid: number, timeoutMs = 5000): Promise<void> {
  return stopPids([pid], timeoutMs);
}

/** The PIDs of the master's children (its workers, and a cache manager if any). */
function childPids(masterPid: number): number[] {
  const result = spawnSync('ps', ['-o', 'pid=', '--ppid', String(masterPid)], { encoding: 'utf8' });
  return result.stdout.split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0);
}

/**
 * `nginx -s reload`, then waits (bounded) until every worker of the old
 * configuration has exited: until then a new connection may still reach an
 * old worker, and a test that asserts the new configuration would race it.
 */
export async function reloadNginx(nginx: NginxPrefix, masterPid: number, timeoutMs = 10000): Promise<void> {
  const before = childPids(masterPid);
  const reload = spawnSync(NGINX_BIN, [...nginx.args, '-s', 'reload'], { encoding: 'utf8' });
  if (reload.status !== 0) throw new Error(`nginx -s reload failed: ${reload.stderr}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = childPids(masterPid);
    if (now.length > 0 && !now.some((pid) => before.includes(pid))) return;
    if (Date.now() > deadline) throw new Error(`nginx reload: the old workers ${before.join(', ')} had not exited after ${timeoutMs} ms`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}
