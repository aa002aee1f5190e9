import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { renderMtlsSite } from '../../nginx/sites';
import { writeRevocationNginxFiles } from '../../nginx/revocation';
import { EMPTY_DENY_LIST } from '../../contract/deny-list';
import { readyWhen, stopChild } from '../../lib/child-process';
import { acceptsConnections, canListen, freePort } from '../../lib/ports';
import { createNginxPrefix, NGINX_BIN, nginxMissing } from '../../testing/replica/nginx-process';
import type { Terminator, TerminatorOptions } from './terminator';

/** The nginx binary: $NGINX_BIN, the Debian path, or the first `nginx` on PATH. */
export function findNginx(): string | undefined {
  const candidates = [NGINX_BIN, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'nginx'))];
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Real nginx, run as the current user under a private prefix, with HOST's mTLS
 * site template rendered for the sandbox (the same file production renders).
 * Runs in the foreground (`daemon off`) as our child, so it stops with us.
 */
export async function startNginxTerminator(options: TerminatorOptions, nginxBin: string): Promise<Terminator> {
  const prefix = join(options.workDir, 'nginx');
  const confDir = join(prefix, 'conf.d');
  const nginx = createNginxPrefix(prefix, confDir);
  const dirs = { logs: join(prefix, 'logs'), acme: join(prefix, 'acme'), publicRoot: join(prefix, 'public') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });

  const httpsPort = options.port || (await freePort());
  const httpPort = await freePort();
  // the template listens on IPv4 and IPv6; where ::1 is unavailable the v6 slot gets a spare v4 port
  const v6 = await canListen('::1', httpsPort);
  const spare = async (): Promise<string> => `${options.listenHost}:${await freePort()}`;
  writeFileSync(
    join(confDir, 'provider.conf'),
    renderMtlsSite({
      serverName: 'localhost',
      httpListenV4: `${options.listenHost}:${httpPort}`,
      httpListenV6: v6 ? `[::1]:${httpPort}` : await spare(),
      httpsListenV4: `${options.listenHost}:${httpsPort}`,
      httpsListenV6: v6 ? `[::1]:${httpsPort}` : await spare(),
      httpsOrigin: `https://localhost:${httpsPort}`,
      acmeWebroot: dirs.acme,
      logDir: dirs.logs,
      snippetsDir: join(options.errorPagesDir, '..', 'snippets'),
      sslCertificate: options.serverCertFile,
      sslCertificateKey: options.serverKeyFile,
      clientCa: options.clientCaFile,
      errorPagesDir: options.errorPagesDir,
      publicRoot: dirs.publicRoot,
      appSocket: options.appSocket,
      datasetsDir: options.datasetsDir,
      authzCacheDir: join(prefix, 'authz-cache'),
      ...(options.trustProfile ? { trustProfile: options.trustProfile } : {}),
      ...(options.heartbeatPath ? { heartbeatPath: options.heartbeatPath } : {}),
      revocationDir: writeRevocationNginxFiles(join(prefix, 'revocation'), { checkCrls: options.crlFile !== undefined, denyList: EMPTY_DENY_LIST, ...(options.crlFile !== undefined ? { crlFile: options.crlFile } : {}) }),
    }),
  );
  const test = spawnSync(nginxBin, [...nginx.args, '-t'], { encoding: 'utf8' });
  if (test.error) throw new Error(nginxMissing(test.error, nginxBin));
  if (test.status !== 0) throw new Error(`nginx -t failed for the sandbox site:\n${test.stderr}${test.stdout}`);

  const child = spawn(nginxBin, [...nginx.args, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${code ?? signal}`)));
  try {
    await readyWhen(child, { what: 'nginx', timeoutMs: 10_000 }, () => acceptsConnections(options.listenHost, httpsPort));
  } catch (error) {
    await stopChild(child, 5000);
    const log = join(dirs.logs, 'error.log');
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-10).join('\n') : '';
    throw new Error(`nginx did not start: ${(error as Error).message}\n${stderr}${tail}`);
  }
  return {
    kind: 'nginx',
    port: httpsPort,
    pids: { nginx: child.pid! },
    exited,
    description: `nginx ${nginxVersion(nginxBin)} (${nginxBin}) on ${options.listenHost}:${httpsPort}${v6 ? ` and [::1]:${httpsPort}` : ''}, site rendered from nginx/templates/mtls-site.conf.tmpl`,
    stop: () => stopChild(child, 5000),
  };
}

function nginxVersion(bin: string): string {
  const out = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(`${out.stderr}${out.stdout}`)?.[1] ?? '';
}
