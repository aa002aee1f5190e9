import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { httpsRequest, readText } from '../client/https-request';
import { join, resolve } from 'node:path';
import { ConsumerClient } from '../client/consumer-client';
import { MemoryTokenCache } from '../client/access-token-store';
import { loadTlsIdentity } from '../client/tls-identity';
import { stopChild } from '../../lib/child-process';
import { canListen } from '../../lib/ports';
import { startAuthz, type AuthzHandle } from './authz';
import { buildEntries } from './build';
import { ensureDevPki } from './dev-pki';
import { createIb1SandboxPki, ib1AuthzServerConfig, ib1DataDir, IB1_SANDBOX_MEMBERS } from './ib1-sandbox';
import { IB1_SANDBOX } from '../../testing/pki/ib1-set';
import { writeSandboxCrls } from './sandbox-crls';
import { sandboxInstructions } from './instructions';
import { findNginx, startNginxTerminator } from './nginx-terminator';
import { startNodeTerminator } from './node-terminator';
import { startProviderApp, type ProviderAppProcess } from './provider-app-process';
import { defaultStateDir, readSandboxState, removeSandboxState, repoRoot, writeSandboxState, type SandboxState } from './sandbox-state';
import type { Terminator, TerminatorOptions } from './terminator';

export interface SandboxOptions {
  /** PKI, socket, logs and state. @default `<repo>/.dev` */
  readonly stateDir?: string;
  /** Datasets to serve. @default `<repo>/sample-data` */
  readonly dataDir?: string;
  /** HTTPS port; 0 = any free port. @default 8443, or a free port when 8443 is taken */
  readonly port?: number;
  /** `auto` = nginx when installed, else the Node terminator. @default 'auto' */
  readonly terminator?: 'auto' | 'nginx' | 'node';
  /** The app's entry point (TypeScript source, bundled with esbuild). @default `<repo>/provider-app/start-provider-app.ts` */
  readonly providerAppSource?: string;
  /** Progress lines (stderr in the CLI). @default silent */
  readonly log?: (line: string) => void;
  /**
   * The trust framework. ib1: an IB1 PKI (ECDSA, Directory URLs, roles), the authorization
   * server issuing JWTs with client_id = the Directory URL, the app in the ib1 profile (open
   * and role-gated datasets, heartbeat) behind nginx. @default 'open-energy'
   */
  readonly profile?: 'open-energy' | 'ib1';
}

export interface Sandbox {
  readonly url: string;
  readonly issuer: string;
  readonly state: SandboxState;
  /** The banner: URL and copy-paste commands. */
  readonly instructions: string;
  /** Resolves (with a reason) when a process of the sandbox dies on its own. */
  readonly failed: Promise<string>;
  /** Stops everything the sandbox started, removes its socket and state; idempotent. */
  stop(): Promise<void>;
}

/** The consumer and provider clients registered at the sandbox's authorization server. */
export const SANDBOX_CLIENTS = { consumer: 'sandbox-consumer', provider: 'sandbox-provider' } as const;
export const SANDBOX_SCOPE = 'datasets:read';
const DEFAULT_PORT = 8443;
const HEARTBEAT_PATH = '/heartbeat';

/**
 * Starts the whole provider locally: dev PKI (once), the authorization server,
 * the provider app on a UNIX socket, a TLS terminator requiring client
 * certificates, then checks the path end to end with the consumer client before
 * declaring itself ready. On any failure it stops what it started and throws.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const log = options.log ?? (() => undefined);
  const repo = repoRoot();
  const stateDir = resolve(options.stateDir ?? defaultStateDir());
  const dataDir = resolve(options.dataDir ?? join(repo, 'sample-data'));
  if (!existsSync(dataDir)) throw new Error(`datasets folder ${dataDir} does not exist (--data-dir)`);
  const running = readSandboxState(stateDir);
  if (running) throw new Error(`a sandbox is already running from ${stateDir} (pid ${running.pids.sandbox}, ${running.url}); stop it first`);

  const dirs = { run: join(stateDir, 'run'), logs: join(stateDir, 'logs'), build: join(stateDir, 'build'), work: join(stateDir, 'work'), appState: join(stateDir, 'work', 'app-state') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = join(dirs.run, 'provider.sock');
  const stops: Array<() => Promise<void>> = [];
  const pids: Record<string, number> = { sandbox: process.pid };
  let stopped = false;
  let reportFailure: (why: string) => void = () => undefined;
  const failed = new Promise<string>((resolveFailure) => (reportFailure = resolveFailure));

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const step of stops.reverse()) await step().catch((error: unknown) => log(`dev: while stopping: ${(error as Error).message}`));
    rmSync(socket, { force: true });
    removeSandboxState(stateDir);
  };

  try {
    const ib1 = options.profile === 'ib1';
    const kind = chooseTerminator(options.terminator ?? 'auto', log);
    // The ib1 site (TLS 1.3, certificate optional, heartbeat from nginx's log) is nginx's.
    if (ib1 && kind.kind !== 'nginx') throw new Error('the ib1 sandbox needs nginx (its heartbeat counts nginx\'s access log): install nginx or set NGINX_BIN');
    const { files: pki, created } = ensureDevPki(join(stateDir, 'pki'));
    log(created ? `dev PKI created in ${pki.dir}` : `dev PKI reused from ${pki.dir}`);
    const ib1Pki = ib1 ? await createIb1SandboxPki(join(stateDir, 'pki-ib1'), join(dirs.work, 'crl-ib1.pem')) : undefined;
    if (ib1Pki) log(`IB1 PKI created in ${ib1Pki.files.dir} (ECDSA P-256; consumer ${IB1_SANDBOX_MEMBERS.consumer.directoryUrl})`);
    const servedDir = ib1 ? ib1DataDir(dataDir, dirs.work) : dataDir;
    const appSource = resolve(options.providerAppSource ?? join(repo, 'provider-app', 'start-provider-app.ts'));
    if (!existsSync(appSource)) throw new Error(`the provider app's entry point ${appSource} does not exist`);
    const built = await buildEntries(dirs.build, { 'provider-app': appSource });

    const authz: AuthzHandle = await startAuthz({
      pki,
      logFile: join(dirs.logs, 'authz-server.log'),
      clients: SANDBOX_CLIENTS,
      scope: SANDBOX_SCOPE,
      ...(ib1Pki ? { serverConfig: ib1AuthzServerConfig(ib1Pki.files, 600) } : {}),
    });
    stops.push(() => authz.stop());
    pids.authz = authz.pid;
    void authz.exited.then((why: string) => !stopped && reportFailure(`the authorization server exited (${why})`));
    log(`authorization server: ${authz.issuer} (pid ${authz.pid})`);

    const ib1Provider = ib1Pki?.files.members.provider;
    const app: ProviderAppProcess = await startProviderApp(
      { mainJs: built['provider-app']!, nodeModules: join(repo, 'node_modules'), workDir: dirs.work, logFile: join(dirs.logs, 'provider-app.log') },
      {
        socket,
        socketMode: '0660',
        dataDir: servedDir,
        issuer: authz.issuer,
        clientId: ib1Provider ? IB1_SANDBOX_MEMBERS.provider.directoryUrl : SANDBOX_CLIENTS.provider,
        tlsCert: ib1Provider?.cert ?? pki.providerCert,
        tlsKey: ib1Provider?.key ?? pki.providerKey,
        tlsCa: ib1Pki?.files.serverCaBundle ?? pki.caBundle,
        scope: ib1 ? IB1_SANDBOX.licence : SANDBOX_SCOPE,
        // nginx sends the file itself, like production; the Node terminator lets the app stream
        ...(kind.kind === 'nginx' ? { accelRedirectPrefix: '/_datasets/' } : {}),
        ...(ib1
          ? {
              profile: 'ib1' as const,
              tokenValidation: 'jwt' as const,
              heartbeatPath: HEARTBEAT_PATH,
              // Where the nginx terminator logs (its prefix is <work>/nginx).
              accessLogFile: join(dirs.work, 'nginx', 'logs', 'access.json.log'),
              stateDir: dirs.appState,
            }
          : {}),
      },
    );
    stops.push(() => stopChild(app.child, 10_000));
    pids.app = app.child.pid!;
    app.child.once('exit', (code, signal) => !stopped && reportFailure(`the provider app exited (${code ?? signal})`));
    log(`provider app: ${socket} (pid ${app.child.pid})`);

    const terminatorOptions: TerminatorOptions = {
      listenHost: '127.0.0.1',
      port: await choosePort(options.port),
      serverCertFile: ib1Pki?.files.serverChain ?? pki.serverChain,
      serverKeyFile: ib1Pki?.files.serverKey ?? pki.serverKey,
      clientCaFile: ib1Pki?.files.clientCaBundle ?? pki.caBundle,
      appSocket: socket,
      datasetsDir: servedDir,
      errorPagesDir: join(repo, 'nginx', 'errors'),
      workDir: dirs.work,
      crlFile: ib1Pki?.crlFile ?? writeSandboxCrls(pki.dir, join(dirs.work, 'crl.pem')),
      ...(ib1 ? { trustProfile: 'ib1' as const, heartbeatPath: HEARTBEAT_PATH } : {}),
    };
    const terminator: Terminator =
      kind.kind === 'nginx' ? await startNginxTerminator(terminatorOptions, kind.bin) : await startNodeTerminator(terminatorOptions);
    stops.push(() => terminator.stop());
    Object.assign(pids, terminator.pids);
    void terminator.exited?.then((why) => !stopped && reportFailure(`${terminator.kind} exited (${why})`));

    const state: SandboxState = {
      version: 1,
      url: `https://localhost:${terminator.port}/`,
      issuer: authz.issuer,
      ...(ib1 ? { profile: 'ib1' as const, heartbeatPath: HEARTBEAT_PATH } : {}),
      terminator: terminator.kind,
      consumer: ib1Pki
        ? {
            clientId: IB1_SANDBOX_MEMBERS.consumer.directoryUrl,
            scope: IB1_SANDBOX.licence,
            certFile: ib1Pki.files.members.consumer!.cert,
            keyFile: ib1Pki.files.members.consumer!.key,
            // Signs nginx's and the authorization server's certificates.
            caFile: ib1Pki.files.serverCaBundle,
          }
        : { clientId: SANDBOX_CLIENTS.consumer, scope: SANDBOX_SCOPE, certFile: pki.consumerCert, keyFile: pki.consumerKey, caFile: pki.caBundle },
      socket,
      pids: { ...pids },
      startedAt: new Date().toISOString(),
    };
    const check = await selfCheck(state);
    writeSandboxState(stateDir, state);
    return {
      url: state.url,
      issuer: state.issuer,
      state,
      instructions: sandboxInstructions({
        state,
        tokenEndpoint: check.tokenEndpoint,
        terminatorDescription: terminator.description,
        datasets: check.datasets,
        ...(check.openDatasets ? { openDatasets: check.openDatasets } : {}),
        cwd: process.cwd(),
        stateDirFlag: stateDir === defaultStateDir() ? undefined : stateDir,
      }),
      failed,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function chooseTerminator(wanted: 'auto' | 'nginx' | 'node', log: (line: string) => void): { kind: 'nginx'; bin: string } | { kind: 'node' } {
  if (wanted === 'node') return { kind: 'node' };
  const bin = findNginx();
  if (bin) return { kind: 'nginx', bin };
  if (wanted === 'nginx') throw new Error('--terminator nginx, but no nginx found (NGINX_BIN, /usr/sbin/nginx or PATH)');
  log('nginx is not installed: using the Node https terminator instead');
  return { kind: 'node' };
}

async function choosePort(port: number | undefined): Promise<number> {
  if (port !== undefined) return port;
  return (await canListen('127.0.0.1', DEFAULT_PORT)) ? DEFAULT_PORT : 0;
}

/** The consumer's whole path once (token, list) before telling anyone it works. */
async function selfCheck(state: SandboxState): Promise<{ tokenEndpoint: string; datasets: string[]; openDatasets?: string[] }> {
  const client = new ConsumerClient({
    issuer: state.issuer,
    clientId: state.consumer.clientId,
    scope: state.consumer.scope,
    baseUrl: state.url,
    tls: loadTlsIdentity({ certFile: state.consumer.certFile, keyFile: state.consumer.keyFile, caFile: state.consumer.caFile }),
    cache: new MemoryTokenCache(),
  });
  const { tokenEndpoint } = await client.discover();
  const datasets = (await client.listDatasets()).map((d) => d.name);
  if (state.profile !== 'ib1') return { tokenEndpoint, datasets };
  // ib1: what anyone may read, without a certificate.
  const anonymous = await httpsRequest({ url: new URL('datasets', state.url).toString(), tls: { ca: readFileSync(state.consumer.caFile, 'utf8') }, presentCertificate: false });
  const text = await readText(anonymous.body);
  if (anonymous.status !== 200) throw new Error(`GET /datasets without a certificate answered ${anonymous.status}: ${text.slice(0, 200)}`);
  const listing = JSON.parse(text) as unknown;
  const entries = (Array.isArray(listing) ? listing : ((listing as { datasets?: unknown[] }).datasets ?? [])) as unknown[];
  const openDatasets = entries.map((e) => (typeof e === 'string' ? e : (e as { name?: string }).name)).filter((n): n is string => typeof n === 'string');
  return { tokenEndpoint, datasets, openDatasets };
}
