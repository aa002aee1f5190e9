#!/usr/bin/env node
/**
 * Entry point: `node dist/provider-app/start-provider-app.js --config <file>` (or `PROVIDER_CONFIG=<file>`).
 * Validates the config, listens, tells PM2 it is ready, drains on SIGTERM/SIGINT.
 */
import { promises as fs, readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { parseArgs } from 'node:util';
import { createRequestHandler } from './app';
import { ConfigError, loadProviderConfig, type ProviderConfig } from './config';
import { Heartbeat } from './heartbeat/heartbeat';
import { IntrospectionClient, type Introspector } from './introspection';
import { createLogger } from './logger';
import { MANIFEST_FILE, ManifestStore } from './manifest';
import { startServer, type ListenTarget } from './server';
import { tlsMaterialProblems } from './tls-material';
import { CachingIntrospector } from './token-cache';
import { agentFetch } from './tokens/agent-fetch';

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
  if (config.profile === 'ib1') {
    const stateDir = await fs.stat(config.stateDir!).catch(() => undefined);
    if (!stateDir?.isDirectory()) problems.push(`config stateDir: ${config.stateDir} is not a directory (the heartbeat keeps its state there; create it, writable by the app)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * The token check the config asks for, behind the pipeline's one interface, cached per token
 * (never past its exp). JWT mode: refusals are not cached, so a token naming a key the issuer
 * has just rotated in is accepted once the JWKS is re-fetched.
 */
function tokenChecker(config: ProviderConfig): CachingIntrospector {
  const cache = { ttlSeconds: config.introspectionCacheTtlSeconds, maxEntries: config.introspectionCacheMaxEntries };
  if (config.tokenValidation === 'jwt') {
    // Metadata and keys through the provider's agent: its CA (tlsCa) and kept-alive connections.
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 8,
      cert: readFileSync(config.tlsCert),
      key: readFileSync(config.tlsKey),
      ca: config.tlsCa ? [...rootCertificates, readFileSync(config.tlsCa, 'utf8')] : undefined,
    });
    // Loaded only in jwt mode: jose stays out of an introspection-mode worker's heap.
    const { JwtIntrospector } = require('./tokens/jwt-introspector') as typeof import('./tokens/jwt-introspector');
    const jwt: Introspector = new JwtIntrospector({
      issuer: config.issuer,
      algorithms: config.tokenAlgorithms,
      clockSkewSeconds: config.clockSkewSeconds,
      timeoutMs: config.introspectionTimeoutMs,
      refetchCooldownMs: config.jwksRefetchCooldownSeconds * 1000,
      fetchImpl: agentFetch(agent),
      ...(config.tokenAudience === undefined ? {} : { audience: config.tokenAudience }),
    });
    jwt.close = () => agent.destroy();
    return new CachingIntrospector(jwt, { ...cache, cacheInactive: false });
  }
  return new CachingIntrospector(
    new IntrospectionClient({
      issuer: config.issuer,
      clientId: config.clientId,
      tlsCert: config.tlsCert,
      tlsKey: config.tlsKey,
      tlsCa: config.tlsCa,
      timeoutMs: config.introspectionTimeoutMs,
    }),
    cache,
  );
}

async function main(): Promise<void> {
  const config = loadProviderConfig(configPath(process.argv.slice(2)));
  await checkFiles(config);
  const logger = createLogger(config.logLevel);
  if (!config.scope && config.profile !== 'ib1') {
    logger.warn(
      'no "scope" configured: a dataset is served only if its manifest.json entry names scopes; every other dataset is refused (403 insufficient_scope) and left out of /datasets. Set "scope" in the config, or scopes per dataset in the manifest',
    );
  }
  const introspector = tokenChecker(config);
  let heartbeat: Heartbeat | undefined;
  if (config.profile === 'ib1') {
    heartbeat = new Heartbeat({ accessLogFile: config.accessLogFile!, stateDir: config.stateDir!, path: config.heartbeatPath, logger });
    // The first period starts at the first start with no state (docs/provider-app.md "Heartbeat").
    await heartbeat.initialize();
  }
  let running: Awaited<ReturnType<typeof startServer>> | undefined;
  const app = createRequestHandler({
    logger,
    introspector,
    dataDir: config.dataDir,
    scope: config.scope,
    profile: config.profile,
    heartbeatPath: config.heartbeatPath,
    ...(heartbeat ? { heartbeat } : {}),
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
  logger.info(
    { address: running.address, issuer: config.issuer, dataDir: config.dataDir, accelRedirect: Boolean(config.accelRedirectPrefix), profile: config.profile, tokenValidation: config.tokenValidation },
    'listening',
  );
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
