/**
 * The local replica of the EC2 host: the real host scripts (setup.sh,
 * update.sh, the certbot deploy hook) run as root against a temporary root,
 * with every PH_* path pointing inside it, and with:
 *   - pebble as the ACME server, pebble-challtestsrv as DNS (the domain → 127.0.0.1),
 *   - the real nginx (private prefix), real certbot, real PM2 (private PM2_HOME),
 *   - a stand-in `aws` CLI serving "S3" and "SSM" from folders, and an IMDSv2 stand-in.
 * Nothing outside the temporary root changes except the app user, which
 * stop() deletes. Everything started is stopped by PID, on failure too, and on
 * SIGINT/SIGTERM (signals.ts); whatever still runs as the app user or from the
 * root after that is ended too, and named.
 */
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import { encodeHostEnv, HOST_SETTINGS, type HostSettingsInput } from '../../contract/host-settings';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signal } from '../../lib/child-process';
import { freePort } from '../../lib/ports';
import { type AcmeServer, startAcmeServer } from './acme-server';
import { publishDatasets } from './release-seed';
import { ChildProcesses } from './child-processes';
import { secondLoopbackListen } from './loopback';
import { startImdsStandin, type ImdsStandin } from './imds-standin';
import { endReplicaProcesses, groupExists, userUid } from './leftovers';
import { createNginxPrefix, stopNginx, type NginxPrefix } from './nginx-process';
import { repoRoot } from './paths';
import { stopOnSignal, type Interruptible } from './signals';

export interface ReplicaOptions {
  /** The host bundle to install. @default $PH_REPLICA_BUNDLE, else dist/host-bundle (`npm run bundle`) */
  readonly bundleDir?: string;
  /** @default provider.replica.test */
  readonly domain?: string;
  /** The app user created for the run (deleted by stop()); unique per process so an e2e run and a bench can share a machine. @default phreplica<pid> */
  readonly appUser?: string;
  /** @default 2 */
  readonly appInstances?: number;
  /** Kept for callers (bench): PM2's logs are rotated by the system's logrotate now (a file, no PM2 module). @default true */
  readonly pm2Logrotate?: boolean;
  /** nginx worker user and the socket folder's group (Debian: www-data). @default www-data */
  readonly nginxUser?: string;
  /** Where progress lines go. @default stderr */
  readonly log?: (line: string) => void;
  /** A host of a fleet (fleet-replica.ts): pebble and the stand-in AWS are the fleet's. */
  readonly fleet?: ReplicaFleet;
}

/** What the hosts of a fleet share (fleet-replica.ts). */
export interface ReplicaFleet {
  readonly acme: AcmeServer;
  /** The stand-in AWS root: one bucket, one zone for every host. */
  readonly awsRoot: string;
  /** Whether this host's prepare() lays out the bucket (trust bundle, secrets, first release): the first host only. */
  readonly seedBucket: boolean;
}

/** What the host config (host.env) and SSM need from the authorization side. */
export interface ReplicaIdentity {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  /** The provider's transport certificate and key (stored in "SSM"). */
  readonly transportCertPem: string;
  readonly transportKeyPem: string;
  /** CA of the authorization server's HTTPS certificate (the app's tlsCa). */
  readonly issuerCaPem: string;
  /** The trust framework's client-CA bundle (stored in "S3"). */
  readonly trustBundlePem: string;
  /** Where the trust framework's CAs publish their CRLs (the contract's crlUrls). */
  readonly crlUrls?: readonly string[];
  /** Host settings over the replica's own (the ib1 profile's, a cache time): they win. */
  readonly settings?: Partial<HostSettingsInput>;
}

export interface ScriptRun {
  readonly code: number;
  readonly output: string;
}

export class Replica implements Interruptible {
  readonly processes = new ChildProcesses();
  readonly root: string;
  readonly domain: string;
  readonly appUser: string;
  readonly repo = repoRoot();
  readonly awsRoot: string;
  readonly bucketDir: string;
  httpPort = 0;
  httpsPort = 0;
  acme?: AcmeServer;
  imds?: ImdsStandin;
  nginx?: NginxPrefix;
  private readonly log: (line: string) => void;
  private env: NodeJS.ProcessEnv = {};
  /** Set by abort(): the next step throws it. */
  private aborted?: Error;
  /** Host scripts, certbot and pm2 commands running now (ended by abort()). */
  private readonly commands = new Set<ChildProcess>();
  private stopping?: Promise<void>;
  private stopRequested = false;
  private readonly signals: { release(): void };

  constructor(private readonly options: ReplicaOptions = {}) {
    if (process.getuid?.() !== 0) throw new Error('the replica runs the host scripts as root (they create a user and manage nginx); run it as root');
    this.root = mkdtempSync(join(tmpdir(), 'ph-replica-'));
    chmodSync(this.root, 0o755);
    this.domain = options.domain ?? 'provider.replica.test';
    this.appUser = options.appUser ?? `phreplica${process.pid}`;
    this.awsRoot = options.fleet?.awsRoot ?? join(this.root, 'aws');
    this.bucketDir = join(this.awsRoot, 's3', 'replica-bucket');
    this.log = options.log ?? ((line) => process.stderr.write(`[replica] ${line}\n`));
    this.signals = stopOnSignal(this);
    this.log(`root ${this.root}, app user ${this.appUser}`);
  }

  /** Ends the start-up or operation in progress: running commands get SIGTERM, the next step throws `reason`. */
  abort(reason: Error): void {
    this.aborted ??= reason;
    for (const child of this.commands) if (child.pid) signal(child.pid, 'SIGTERM');
  }

  /** Throws the abort reason, if any: called between the steps of a start-up. */
  checkpoint(): void {
    if (this.aborted) throw this.aborted;
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** Pebble, DNS, IMDS, the private nginx prefix and the bundle; then the host config. */
  async prepare(identity: ReplicaIdentity, datasets: Readonly<Record<string, string | Buffer>>, publicFiles: Readonly<Record<string, string | Buffer>> = {}): Promise<void> {
    const logs = this.path('logs');
    mkdirSync(logs, { recursive: true });
    [this.httpPort, this.httpsPort] = await Promise.all([freePort(), freePort()]);
    this.checkpoint();
    this.acme = this.options.fleet?.acme ?? (await startAcmeServer(this.processes, logs, this.httpPort));
    this.checkpoint();
    this.imds = await startImdsStandin('127.0.0.1');
    this.checkpoint();
    this.log(`pebble ${this.acme.directoryUrl}, DNS ${this.acme.dnsServer}, IMDS ${this.imds.url}`);

    const nginxUser = this.options.nginxUser ?? 'www-data';
    this.nginx = createNginxPrefix(this.path('nginx'), this.path('etc', 'nginx', 'conf.d'), nginxUser, '2');

    this.installBundle(this.options.bundleDir ?? process.env.PH_REPLICA_BUNDLE ?? join(this.repo, 'dist', 'host-bundle'));
    if (this.options.fleet?.seedBucket !== false) {
      this.writeAws(identity, publicFiles);
      // Datasets are published releases, as `provider-host publish` writes them.
      await publishDatasets(this.bucketDir, datasets, this.path('seed-data'));
    }
    this.writeHostEnv(identity);
    writeFileSync(this.path('etc', 'provider-host', 'issuer-ca.pem'), identity.issuerCaPem, { mode: 0o644 });
    this.env = this.scriptEnv(nginxUser, await secondLoopbackListen(this.httpPort), await secondLoopbackListen(this.httpsPort));
  }

  private installBundle(bundleDir: string): void {
    if (!existsSync(join(bundleDir, 'VERSION'))) throw new Error(`no host bundle at ${bundleDir}: run \`npm run build && npm run bundle\` first`);
    const version = readFileSync(join(bundleDir, 'VERSION'), 'utf8').trim();
    const release = this.path('opt', 'provider-host', 'releases', version);
    mkdirSync(join(release, '..'), { recursive: true });
    cpSync(bundleDir, release, { recursive: true });
    // As bootstrap.sh does: an atomic `current` symlink to the release.
    symlinkSync(release, this.path('opt', 'provider-host', 'current'));
  }

  /** Replaces the installed bundle's app with another build (an "app deploy"). */
  deployBundle(bundleDir: string): void {
    const version = readFileSync(join(bundleDir, 'VERSION'), 'utf8').trim();
    const release = this.path('opt', 'provider-host', 'releases', version);
    if (!existsSync(release)) cpSync(bundleDir, release, { recursive: true });
    const next = this.path('opt', 'provider-host', 'current.next');
    rmSync(next, { force: true });
    symlinkSync(release, next);
    spawnSync('mv', ['-Tf', next, this.path('opt', 'provider-host', 'current')]);
  }

  private writeAws(identity: ReplicaIdentity, publicFiles: Readonly<Record<string, string | Buffer>>): void {
    const ssm = join(this.awsRoot, 'ssm', 'replica', 'provider');
    mkdirSync(ssm, { recursive: true });
    writeFileSync(join(ssm, 'tls-cert'), identity.transportCertPem);
    writeFileSync(join(ssm, 'tls-key'), identity.transportKeyPem, { mode: 0o600 });
    mkdirSync(join(this.bucketDir, 'trust'), { recursive: true });
    this.putObject(BUCKET_LAYOUT.trustBundleKey, identity.trustBundlePem);
    mkdirSync(join(this.bucketDir, 'public'), { recursive: true });
    for (const [name, content] of Object.entries(publicFiles)) this.putObject(`public/${name}`, content);
  }

  /** Writes an object into the stand-in bucket (a dataset upload by the stack). */
  putObject(key: string, content: string | Buffer): void {
    const file = join(this.bucketDir, key);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, content);
  }

  private writeHostEnv(identity: ReplicaIdentity): void {
    const etc = this.path('etc', 'provider-host');
    mkdirSync(etc, { recursive: true });
    // What the stack writes to the host-config parameter, through the same contract.
    const hostEnv = encodeHostEnv({
      domain: this.domain,
      region: 'eu-west-2',
      environment: 'replica',
      bucket: 'replica-bucket',
      bundleKey: `${BUCKET_LAYOUT.bundles}replica.zip`,
      trustBundleKey: BUCKET_LAYOUT.trustBundleKey,
      dataPrefix: BUCKET_LAYOUT.data,
      publicPrefix: BUCKET_LAYOUT.public,
      leBackupPrefix: BUCKET_LAYOUT.letsencrypt,
      acmeEmail: 'ops@replica.test',
      acmeStaging: false,
      acmeServer: this.acme!.directoryUrl,
      issuer: identity.issuer,
      clientId: identity.clientId,
      scope: identity.scope,
      tlsCertParam: '/replica/provider/tls-cert',
      tlsKeyParam: '/replica/provider/tls-key',
      appInstances: this.options.appInstances ?? HOST_SETTINGS.appInstances.default,
      authzCacheSeconds: HOST_SETTINGS.authzCacheSeconds.default,
      ...(identity.crlUrls && identity.crlUrls.length > 0 ? { crlUrls: identity.crlUrls.join(',') } : { revocation: false }),
      hostConfigParam: '/replica/provider/host-config',
      ...identity.settings,
    });
    writeFileSync(join(etc, 'host.env'), hostEnv);
  }

  /** Only paths, ports and commands: the settings come from host.env, as on EC2. */
  private scriptEnv(nginxUser: string, httpListenV6: string, httpsListenV6: string): NodeJS.ProcessEnv {
    const nginx = this.nginx!;
    const home = this.path('home', this.appUser);
    return {
      ...withoutNpmSettings(process.env),
      PATH: `${join(this.repo, 'testing', 'replica', 'bin')}:${process.env.PATH}`,
      PH_AWS_STANDIN_ROOT: this.awsRoot,
      // The Route53 stand-in serves a fleet's DNS-01 TXT records through pebble's DNS.
      PH_AWS_STANDIN_DNS_MANAGEMENT: this.acme!.dnsManagementUrl,
      PH_DNS_CHANGE_POLL_SECONDS: '1',
      PH_FLEET_POLL_SECONDS: '1',
      REQUESTS_CA_BUNDLE: this.acme!.tlsCaFile,
      PH_ETC: this.path('etc', 'provider-host'),
      PH_PREFIX: this.path('opt', 'provider-host'),
      PH_STATE: this.path('var', 'lib', 'provider-host'),
      PH_SRV: this.path('srv', 'provider'),
      PH_RUN: this.path('run', 'provider'),
      PH_USER: this.appUser,
      PH_USER_HOME: home,
      PH_NGINX_GROUP: nginxUser,
      PH_NGINX_BIN: '/usr/sbin/nginx',
      PH_NGINX_ARGS: nginx.args.join(' '),
      PH_NGINX_PID: join(nginx.prefix, 'nginx.pid'),
      PH_NGINX_CONF_DIR: nginx.confDir,
      PH_NGINX_MAIN_CONF: nginx.mainConf,
      PH_NGINX_DEFAULT_D: this.path('etc', 'nginx', 'default.d'),
      PH_NGINX_SHARE: this.path('etc', 'nginx', 'provider-host'),
      PH_NGINX_LOG_DIR: this.path('var', 'log', 'nginx'),
      PH_NGINX_AUTHZ_CACHE_DIR: this.path('var', 'cache', 'provider-host', 'nginx-authz'),
      PH_HTTP_LISTEN_V4: `127.0.0.1:${this.httpPort}`,
      PH_HTTP_LISTEN_V6: httpListenV6,
      PH_HTTPS_LISTEN_V4: `127.0.0.1:${this.httpsPort}`,
      PH_HTTPS_LISTEN_V6: httpsListenV6,
      PH_HTTPS_ORIGIN: `https://${this.domain}:${this.httpsPort}`,
      PH_LE_DIR: this.path('etc', 'letsencrypt'),
      PH_LE_WORK_DIR: this.path('var', 'lib', 'letsencrypt'),
      PH_LE_LOGS_DIR: this.path('var', 'log', 'letsencrypt'),
      PH_RESOLVE_CMD: `${process.execPath} ${join(this.repo, 'dist', 'testing', 'replica', 'resolve-ipv4.js')} --server ${this.acme!.dnsServer}`,
      PH_IMDS_URL: this.imds!.url,
      PH_DNS_WAIT_SECONDS: '30',
      PH_DNS_POLL_SECONDS: '1',
      PH_SYSTEMD: '0',
      PH_SYSTEMD_DIR: this.path('etc', 'systemd', 'system'),
      PH_TMPFILES_DIR: this.path('etc', 'tmpfiles.d'),
      PH_NODE: process.execPath,
      PH_PM2: join(this.repo, 'node_modules', 'pm2', 'bin', 'pm2'),
      PH_PM2_HOME: join(home, '.pm2'),
      PH_LOGROTATE_DIR: this.path('etc', 'logrotate.d'),
      PH_HOST_LOG_DIR: this.path('var', 'log', 'provider-host'),
      PH_CLOUD_INIT_LOG: this.path('var', 'log', 'cloud-init-output.log'),
      PH_ISSUER_CA_FILE: this.path('etc', 'provider-host', 'issuer-ca.pem'),
    };
  }

  /** The value of one PH_* setting the host scripts run with (e.g. PH_PM2_HOME). */
  setting(name: `PH_${string}`): string | undefined {
    return this.env[name];
  }

  /** Overrides one PH_* setting for the next script runs (e.g. PH_ACCEL_REDIRECT=false). */
  setEnv(name: `PH_${string}`, value: string): void {
    this.env = { ...this.env, [name]: value };
  }

  /** The environment the host scripts (and certbot, for its deploy hook) run with. */
  scriptEnvironment(): NodeJS.ProcessEnv {
    return this.env;
  }

  /** Runs host/scripts/<name>.sh from the installed bundle, as bootstrap.sh does. */
  runHostScript(name: 'setup' | 'update' | 'release-sync' | 'revocation-refresh' | 'publish-metrics' | 'daily-report' | 'fleet-certificate-refresh', timeoutMs = 240000, args: readonly string[] = []): Promise<ScriptRun> {
    return this.run('bash', [this.path('opt', 'provider-host', 'current', 'host', 'scripts', `${name}.sh`), ...args], timeoutMs);
  }

  /** certbot with the replica's directories, as the renewal timer runs it. */
  certbot(args: readonly string[], timeoutMs = 120000): Promise<ScriptRun> {
    return this.run('certbot', [
      ...args,
      '--config-dir', this.path('etc', 'letsencrypt'),
      '--work-dir', this.path('var', 'lib', 'letsencrypt'),
      '--logs-dir', this.path('var', 'log', 'letsencrypt'),
    ], timeoutMs);
  }

  /** `pm2 <args>` as the app user, with the replica's PM2_HOME. */
  pm2(args: readonly string[], timeoutMs = 60000): Promise<ScriptRun> {
    return this.run('runuser', ['-u', this.appUser, '--', 'env', `HOME=${this.env.PH_USER_HOME}`, `PM2_HOME=${this.env.PH_PM2_HOME}`, `PATH=${this.env.PATH}`, this.env.PH_PM2!, ...args], timeoutMs);
  }

  /** PIDs of the app's workers as PM2 reports them. */
  async appWorkerPids(): Promise<number[]> {
    const { output } = await this.pm2(['jlist']);
    const list = JSON.parse(output.slice(output.indexOf('['))) as { name: string; pid: number; pm2_env: { status: string } }[];
    return list.filter((entry) => entry.name === 'provider' && entry.pm2_env.status === 'online').map((entry) => entry.pid);
  }

  private run(command: string, args: readonly string[], timeoutMs: number): Promise<ScriptRun> {
    // After an abort only stop() still runs commands (pm2 kill, jlist).
    if (this.aborted && !this.stopRequested) return Promise.reject(this.aborted);
    return new Promise((resolveRun) => {
      const child = spawn(command, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      this.commands.add(child);
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const timer = setTimeout(() => child.pid && signal(child.pid, 'SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        this.commands.delete(child);
        resolveRun({ code: code ?? -1, output });
      });
    });
  }

  /**
   * Stops PM2 (daemon and workers), nginx and the helpers by PID, then anything else
   * still running as the app user or from the root (named in the log: it should not
   * be there), deletes the user and the root. Every step is bounded; a second call
   * waits for the first.
   */
  stop(keepRoot = false): Promise<void> {
    if (!this.stopping) {
      this.stopRequested = true;
      this.stopping = this.stopOnce(keepRoot);
    }
    return this.stopping;
  }

  private async stopOnce(keepRoot: boolean): Promise<void> {
    try {
      for (const child of this.commands) if (child.pid) signal(child.pid, 'SIGKILL');
      const pm2Home = this.env.PH_PM2_HOME;
      if (pm2Home && existsSync(join(pm2Home, 'pm2.pid'))) {
        const daemon = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8').trim());
        const workers = await this.appWorkerPids().catch(() => []);
        await this.pm2(['kill'], 20000).catch(() => undefined);
        for (const pid of [daemon, ...workers]) signal(pid, 'SIGKILL');
      }
      const nginxPid = this.nginx && existsSync(join(this.nginx.prefix, 'nginx.pid')) ? Number(readFileSync(join(this.nginx.prefix, 'nginx.pid'), 'utf8').trim()) : 0;
      if (nginxPid > 0) await stopNginx(nginxPid);
      await this.imds?.stop();
      await this.processes.stopAll();
      const strays = await endReplicaProcesses(this.root, userUid(this.appUser));
      for (const stray of strays) this.log(`ended a process left behind: ${stray.pid} (uid ${stray.uid}, ${stray.reason}): ${stray.cmdline.slice(0, 200)}`);
      if (userUid(this.appUser) !== undefined) spawnSync('userdel', [this.appUser]);
      if (groupExists(this.appUser)) spawnSync('groupdel', [this.appUser]);
      if (!keepRoot) rmSync(this.root, { recursive: true, force: true });
    } finally {
      this.signals.release();
    }
  }
}

/**
 * The environment without what `npm run` adds (npm_config_cache=/root/.npm, ...):
 * a host has none of it, and `pm2 install` as the app user must use its own npm
 * cache, not root's, which it cannot open.
 */
function withoutNpmSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^npm_/i.test(name)));
}
