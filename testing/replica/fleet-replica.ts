/**
 * A fleet on this machine (docs/fleet.md "The replica proof"): several replica hosts — each
 * the real setup.sh with PH_FLEET=true, its own nginx, PM2 and app — sharing one stand-in
 * bucket, one Route53 zone (whose TXT records pebble-challtestsrv serves) and one pebble,
 * behind HAProxy in TCP passthrough standing in for the Network Load Balancer
 * (haproxy-balancer.ts). One dev PKI, authorization server and CRL endpoint serve them all.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_DEFAULTS } from '../../config/fleet-schema';
import { signal } from '../../lib/child-process';
import { freePort } from '../../lib/ports';
import { requestToken, startAuthorizationServer, type AuthorizationServerHandle } from '../authz-server';
import { issueClientCert, subjectDn, type IssuedCertificate } from '../pki';
import { createDevSet, type DevSet } from '../pki/dev-set';
import { startAcmeServer, type AcmeServer } from './acme-server';
import { ChildProcesses } from './child-processes';
import { startCrlPublisher, type CrlPublisher } from './crl-publisher';
import { HaproxyBalancer, type HealthCheck } from './haproxy-balancer';
import { REPLICA_CRL_PATHS, REPLICA_SCOPE } from './provider-replica';
import { Replica, type ReplicaIdentity } from './replica';
import { createStandinZone } from './route53-standin';

/** The stand-in zone holding the fleet's domain (provider.replica.test). */
export const FLEET_ZONE = { id: 'ZREPLICAFLEET01', name: 'replica.test' } as const;

/** How much faster than the stack's the replica's health check runs. */
export const HEALTH_CHECK_SCALE = 10;

/**
 * The NLB target group's health check (config/fleet-schema.ts FLEET_DEFAULTS: HTTPS /ping
 * every 10 s, 5 s timeout, 2 failures out, 3 successes in) with its times divided by
 * HEALTH_CHECK_SCALE for test time: every 1 s, 0.5 s timeout, same thresholds.
 */
export const REPLICA_HEALTH_CHECK: HealthCheck = {
  intervalMs: (FLEET_DEFAULTS.healthCheck.intervalSeconds * 1000) / HEALTH_CHECK_SCALE,
  timeoutMs: (FLEET_DEFAULTS.healthCheck.timeoutSeconds * 1000) / HEALTH_CHECK_SCALE,
  unhealthyThreshold: FLEET_DEFAULTS.healthCheck.unhealthyThreshold,
  healthyThreshold: FLEET_DEFAULTS.healthCheck.healthyThreshold,
};

export interface FleetReplicaOptions {
  readonly datasets: Readonly<Record<string, string | Buffer>>;
  /** Host names of the first hosts, set up at the same time. @default ['h1', 'h2'] */
  readonly hosts?: readonly string[];
  readonly healthCheck?: HealthCheck;
  readonly log?: (line: string) => void;
}

export interface FleetHost {
  readonly name: string;
  readonly replica: Replica;
  /** Its setup.sh run. */
  readonly setup: { code: number; output: string };
}

export class FleetReplica {
  readonly processes = new ChildProcesses();
  readonly root: string;
  readonly awsRoot: string;
  readonly hosts = new Map<string, FleetHost>();
  readonly healthCheck: HealthCheck;
  acme!: AcmeServer;
  pki!: DevSet;
  otherConsumer!: IssuedCertificate;
  authz!: AuthorizationServerHandle;
  crl!: CrlPublisher;
  balancer!: HaproxyBalancer;
  /** Root of the certificates pebble issues. */
  siteCaPem = '';
  private identity!: ReplicaIdentity;
  private readonly log: (line: string) => void;

  private constructor(private readonly options: FleetReplicaOptions) {
    if (process.getuid?.() !== 0) throw new Error('the fleet replica runs the host scripts as root; run it as root');
    this.root = mkdtempSync(join(tmpdir(), 'ph-fleet-'));
    chmodSync(this.root, 0o755);
    this.awsRoot = join(this.root, 'aws');
    this.healthCheck = options.healthCheck ?? REPLICA_HEALTH_CHECK;
    this.log = options.log ?? ((line) => process.stderr.write(`[fleet] ${line}\n`));
  }

  /** Pebble, the zone, the PKI, the authorization server; the first hosts set up at the same time; HAProxy with them registered. */
  static async start(options: FleetReplicaOptions): Promise<FleetReplica> {
    const fleet = new FleetReplica(options);
    try {
      await fleet.prepare();
      const names = options.hosts ?? ['h1', 'h2'];
      // The first prepares the bucket; then all set up at once, racing for the certificate.
      const prepared: Replica[] = [];
      for (const [i, name] of names.entries()) {
        const replica = await fleet.newHost(name, i === 0);
        prepared.push(replica);
        fleet.hosts.set(name, { name, replica, setup: { code: -1, output: '' } });
      }
      const first = prepared[0]!;
      const setups = await Promise.all(prepared.map((replica) => replica.runHostScript('setup')));
      prepared.forEach((replica, i) => fleet.hosts.set(names[i]!, { name: names[i]!, replica, setup: setups[i]! }));
      const failed = setups.findIndex((run) => run.code !== 0);
      if (failed >= 0) throw new Error(`setup.sh failed on ${names[failed]} (exit ${setups[failed]!.code}):\n${setups[failed]!.output}`);
      fleet.siteCaPem = await fleet.acme.issuingRootPem();
      fleet.balancer = await HaproxyBalancer.start(fleet.processes, join(fleet.root, 'haproxy'), first.domain, fleet.healthCheck);
      for (const name of names) await fleet.balancer.register(name, fleet.host(name).replica.httpsPort);
      for (const name of names) await fleet.balancer.waitFor(name, 'UP');
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    }
  }

  private async prepare(): Promise<void> {
    const logs = join(this.root, 'logs');
    mkdirSync(logs, { recursive: true });
    // pebble validates DNS-01 here; its HTTP-01 port is unused.
    this.acme = await startAcmeServer(this.processes, logs, await freePort());
    createStandinZone(this.awsRoot, FLEET_ZONE.id, FLEET_ZONE.name);
    const pkiDir = join(this.root, 'pki');
    this.pki = createDevSet(pkiDir);
    this.otherConsumer = issueClientCert(this.pki.intermediateCa, { subject: { commonName: 'other-consumer', organization: 'Provider Host Dev' } });
    writeFileSync(join(pkiDir, 'server.chain.pem'), this.pki.server.chainPem);
    this.crl = await startCrlPublisher([
      { path: REPLICA_CRL_PATHS.root, ca: this.pki.rootCa },
      { path: REPLICA_CRL_PATHS.issuing, ca: this.pki.intermediateCa },
    ]);
    this.authz = await startAuthorizationServer({
      tlsCert: join(pkiDir, 'server.chain.pem'),
      tlsKey: this.pki.files['server.key']!,
      clientCa: this.pki.files.caBundle!,
      scopes: [REPLICA_SCOPE],
      clients: [
        { clientId: 'consumer', subjectDn: subjectDn(this.pki.consumer.certPem), scope: REPLICA_SCOPE },
        { clientId: 'other-consumer', subjectDn: subjectDn(this.otherConsumer.certPem), scope: REPLICA_SCOPE },
        { clientId: 'provider', subjectDn: subjectDn(this.pki.provider.certPem), scope: REPLICA_SCOPE },
      ],
    });
    this.processes.adopt('authz-server', this.authz.pid);
    this.identity = {
      issuer: this.authz.issuer,
      clientId: 'provider',
      scope: REPLICA_SCOPE,
      transportCertPem: this.pki.provider.chainPem,
      transportKeyPem: this.pki.provider.keyPem,
      issuerCaPem: this.pki.rootCa.certPem,
      trustBundlePem: this.pki.caBundlePem,
      crlUrls: this.crl.urls,
      settings: { fleet: true, hostedZoneId: FLEET_ZONE.id },
    };
  }

  /** A prepared host (bundle, host.env, its own nginx prefix and ports), not set up yet. */
  private async newHost(name: string, seedBucket: boolean): Promise<Replica> {
    if (!/^[a-z][a-z0-9]{0,7}$/.test(name)) throw new Error(`host name ${JSON.stringify(name)}: use up to 8 lower-case letters and digits`);
    const replica = new Replica({ appUser: `phfleet${process.pid}${name}`, fleet: { acme: this.acme, awsRoot: this.awsRoot, seedBucket }, log: (line) => this.log(`${name}: ${line}`) });
    try {
      await replica.prepare(this.identity, seedBucket ? this.options.datasets : {});
    } catch (error) {
      await replica.stop();
      throw error;
    }
    return replica;
  }

  /** Launches a new host as the Auto Scaling group does: set up (the fleet certificate from the bucket, the current release), registered, in rotation once healthy. */
  async launch(name: string): Promise<FleetHost> {
    const replica = await this.newHost(name, false);
    const setup = await replica.runHostScript('setup');
    const host = { name, replica, setup };
    this.hosts.set(name, host);
    if (setup.code !== 0) throw new Error(`setup.sh failed on ${name} (exit ${setup.code}):\n${setup.output}`);
    await this.balancer.register(name, replica.httpsPort);
    await this.balancer.waitFor(name, 'UP');
    return host;
  }

  /** Terminates a host as instance refresh does: deregistered (drained) first, then stopped. */
  async terminate(name: string): Promise<void> {
    await this.balancer.deregister(name);
    await this.host(name).replica.stop(process.env.PH_REPLICA_KEEP === '1');
    this.hosts.delete(name);
  }

  host(name: string): FleetHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no host ${name} in the fleet (${[...this.hosts.keys()].join(', ')})`);
    return host;
  }

  get domain(): string {
    return this.host([...this.hosts.keys()][0]!).replica.domain;
  }

  /** The stand-in bucket's folder. */
  get bucketDir(): string {
    return join(this.awsRoot, 's3', 'replica-bucket');
  }

  /** PIDs of a host's nginx (master and workers). */
  nginxPids(name: string): number[] {
    const pidFile = join(this.host(name).replica.nginx!.prefix, 'nginx.pid');
    if (!existsSync(pidFile)) return [];
    const master = Number(readFileSync(pidFile, 'utf8').trim());
    return [master, ...childPids(master)];
  }

  /** SIGKILL of a host's nginx, master and workers: its port refuses connections. */
  killNginx(name: string): number[] {
    const pids = this.nginxPids(name);
    for (const pid of pids) signal(pid, 'SIGKILL');
    return pids;
  }

  /** Starts a host's nginx again (as systemd's Restart= would). */
  startNginx(name: string): void {
    const { replica } = this.host(name);
    rmSync(join(replica.nginx!.prefix, 'nginx.pid'), { force: true });
    const result = spawnSync('/usr/sbin/nginx', (replica.setting('PH_NGINX_ARGS') ?? '').split(' ').filter(Boolean), { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`nginx did not start on ${name}: ${result.stderr}`);
  }

  /** The whole host gone at once (an instance failure): SIGKILL of nginx, the PM2 daemon and the app's workers. */
  killHost(name: string): number[] {
    const { replica } = this.host(name);
    const pm2Pid = join(replica.setting('PH_PM2_HOME') ?? '', 'pm2.pid');
    const daemon = existsSync(pm2Pid) ? Number(readFileSync(pm2Pid, 'utf8').trim()) : 0;
    const pids = [...this.nginxPids(name), ...(daemon > 0 ? [daemon, ...childPids(daemon)] : [])];
    for (const pid of pids) signal(pid, 'SIGKILL');
    return pids;
  }

  /** A certificate-bound access token for `client`. */
  async token(client: 'consumer' | 'other-consumer'): Promise<string> {
    const cert = client === 'consumer' ? this.pki.consumer : this.otherConsumer;
    const response = await requestToken({ issuer: this.authz.issuer, clientId: client, scope: REPLICA_SCOPE, cert: cert.chainPem, key: cert.keyPem, ca: this.pki.rootCa.certPem });
    return response.access_token;
  }

  /** Stops every host, HAProxy, pebble, the authorization server and the CRL endpoint; deletes the root. */
  async stop(): Promise<void> {
    const keep = process.env.PH_REPLICA_KEEP === '1';
    for (const host of this.hosts.values()) await host.replica.stop(keep).catch((error: Error) => this.log(`stopping ${host.name}: ${error.message}`));
    this.hosts.clear();
    await this.authz?.stop().catch(() => undefined);
    await this.crl?.stop().catch(() => undefined);
    await this.processes.stopAll();
    if (!keep) rmSync(this.root, { recursive: true, force: true });
  }
}

function childPids(pid: number): number[] {
  const result = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}
