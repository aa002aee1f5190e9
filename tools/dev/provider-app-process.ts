import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { readyMessage } from '../../lib/child-process';

/** The app's config file keys the sandbox sets (contract: provider-app config JSON). */
export interface ProviderAppConfig {
  readonly socket: string;
  readonly socketMode?: string;
  readonly dataDir: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly tlsCa?: string;
  readonly scope?: string;
  readonly accelRedirectPrefix?: string;
  /** ib1 (the app's config schema says what each needs). */
  readonly profile?: 'open-energy' | 'ib1';
  readonly tokenValidation?: 'introspection' | 'jwt';
  readonly heartbeatPath?: string;
  readonly accessLogFile?: string;
  readonly stateDir?: string;
}

export interface ProviderAppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly configFile: string;
}

/**
 * Starts the built provider app (`start-provider-app.js --config <file>`) as a child with an IPC
 * channel and resolves once it reports `ready` (PM2's wait_ready protocol) and
 * its socket exists.
 */
export interface ProviderAppLaunch {
  /** The built entry point. */
  readonly mainJs: string;
  /** Where its node_modules are (the build leaves packages external). */
  readonly nodeModules: string;
  /** Folder for its config file. */
  readonly workDir: string;
  /** Its stdout and stderr are appended here. */
  readonly logFile: string;
  /** @default 20000 */
  readonly timeoutMs?: number;
}

export async function startProviderApp(launch: ProviderAppLaunch, config: ProviderAppConfig): Promise<ProviderAppProcess> {
  const { mainJs, workDir, timeoutMs = 20_000 } = launch;
  const configFile = join(workDir, 'provider-app.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  // a socket left by a killed run would make listen() fail with EADDRINUSE
  if (existsSync(config.socket)) rmSync(config.socket);
  const output = openSync(launch.logFile, 'a');
  let child;
  try {
    child = spawn(process.execPath, [mainJs, '--config', configFile], {
      stdio: ['ignore', output, output, 'ipc'],
      env: { ...process.env, NODE_PATH: launch.nodeModules, NODE_ENV: process.env.NODE_ENV ?? 'development' },
    });
  } finally {
    closeSync(output);
  }
  const handle: ProviderAppProcess = { name: 'provider-app', child, configFile };
  try {
    await readyMessage(child, { what: 'the provider app', timeoutMs, explain: () => logTail(launch.logFile) });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // the IPC channel is only for the ready signal; keep it from holding our event loop
  child.channel?.unref();
  if (!existsSync(config.socket)) throw new Error(`the provider app said ready but ${config.socket} does not exist`);
  return handle;
}

/** The last lines of a log, to explain a failed start without sending the user digging. */
function logTail(file: string, lines = 8): string {
  try {
    const tail = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n  ');
    return tail ? `; last lines of ${file}:\n  ${tail}` : '';
  } catch {
    return '';
  }
}
