#!/usr/bin/env node
/**
 * Entry point: `node dist/provider-app/start-provider-app.js --config <file>` (or `PROVIDER_CONFIG=<file>`).
 * Validates the config, listens, tells PM2 it is ready, drains on SIGTERM/SIGINT.
 */
import { promises as fs } from 'node:fs';
import { parseArgs } from 'node:util';
import { createRequestHandler } from './app';
import { ConfigError, loadProviderConfig, type ProviderConfig } from './config';
import { IntrospectionClient } from './introspection';
import { createLogger } from './logger';
import { MANIFEST_FILE, ManifestStore } from './manifest';
import { startServer, type ListenTarget } from './server';
import { tlsMaterialProblems } from './tls-material';
import { CachingIntrospector } from './token-cache';

function configPath(argv: string[]): string {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' } }, allowPositionals: false });
  const path = values.config ?? process.env.PROVIDER_CONFIG;
  if (!path) throw new ConfigError(['config: no config file; pass --config <file> or set PROVIDER_CONFIG']);
  return path;
}

/**
 * Checks what the schema cannot: the files can be read, the TLS certificate, key and CA
 * are what they should be (and the key matches the certificate), the data folder and its
 * manifest. One line per problem.
 */
async function checkFiles(config: ProviderConfig): Promise<void> {
  const problems: string[] = [];
  const read = async (key: string, path: string | undefined): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return await fs.readFile(path);
    } catch {
      problems.push(`config ${key}: cannot read ${path}`);
      return undefined;
    }
  };
  const contents = { tlsCert: await read('tlsCert', config.tlsCert), tlsKey: await read('tlsKey', config.tlsKey), tlsCa: await read('tlsCa', config.tlsCa) };
  problems.push(...tlsMaterialProblems(config, contents));
  const dataDir = await fs.stat(config.dataDir).catch(() => undefined);
  if (!dataDir?.isDirectory()) problems.push(`config dataDir: ${config.dataDir} is not a directory`);
  else {
    try {
      await new ManifestStore(config.dataDir, config.scope).load();
    } catch (error) {
      problems.push(`config dataDir: ${MANIFEST_FILE} is invalid: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

async function main(): Promise<void> {
  const config = loadProviderConfig(configPath(process.argv.slice(2)));
  await checkFiles(config);
  const logger = createLogger(config.logLevel);
  if (!config.scope) {
    logger.warn(
      'no "scope" configured: a dataset is served only if its manifest.json entry names scopes; every other dataset is refused (403 insufficient_scope) and left out of /datasets. Set "scope" in the config, or scopes per dataset in the manifest',
    );
  }
  const introspector = new CachingIntrospector(
    new IntrospectionClient({
      issuer: config.issuer,
      clientId: config.clientId,
      tlsCert: config.tlsCert,
      tlsKey: config.tlsKey,
      tlsCa: config.tlsCa,
      timeoutMs: config.introspectionTimeoutMs,
    }),
    { ttlSeconds: config.introspectionCacheTtlSeconds, maxEntries: config.introspectionCacheMaxEntries },
  );
  let running: Awaited<ReturnType<typeof startServer>> | undefined;
  const app = createRequestHandler({
    logger,
    introspector,
    dataDir: config.dataDir,
    scope: config.scope,
    clientCertHeader: config.clientCertHeader,
    accelRedirectPrefix: config.accelRedirectPrefix,
    clockSkewSeconds: config.clockSkewSeconds,
    retryAfterSeconds: config.retryAfterSeconds,
    dataCacheTtlMs: config.dataCacheTtlMs,
    authzCacheSeconds: config.authzCacheSeconds,
    isDraining: () => running?.isDraining() ?? false,
  });
  const target: ListenTarget = config.socket
    ? { socket: config.socket, socketMode: parseInt(config.socketMode, 8) }
    : { port: config.port!, host: config.host };
  running = await startServer(app, target, logger, { lenientHeaders: config.legacyCertHeader });
  logger.info({ address: running.address, issuer: config.issuer, dataDir: config.dataDir, accelRedirect: Boolean(config.accelRedirectPrefix) }, 'listening');
  // PM2 `wait_ready`: the new instance takes traffic only once it listens.
  process.send?.('ready');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    void running!.drain(config.drainTimeoutMs).then(() => {
      introspector.close();
      logger.info('stopped');
      logger.flush();
      // Under PM2 cluster mode stdout travels over IPC; give the last lines a moment to leave.
      process.exitCode = 0;
      setTimeout(() => process.exit(0), 100);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // PM2 asks cluster workers to stop with a message on some platforms.
  process.on('message', (message) => {
    if (message === 'shutdown') stop('SIGTERM');
  });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    for (const line of error.problems) process.stderr.write(`provider-app: ${line}\n`);
    process.exit(2);
  }
  process.stderr.write(`provider-app: cannot start: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
