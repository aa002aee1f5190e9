/**
 * The fleet replica's stand-in for the Network Load Balancer: HAProxy (Debian's package)
 * in TCP mode, passing TLS through to each host's nginx untouched, as the NLB's TCP
 * listener does, with the target group's health check: HTTPS GET /ping (no client
 * certificate: nginx answers /ping without one), healthy on 200.
 *
 * Faithful where it matters for the proof: no retry of a failed connection on another
 * host (retries 0, no redispatch: an NLB forwards a connection to one target and does
 * not retry it), a host leaves rotation only after `unhealthyThreshold` failed checks
 * `intervalMs` apart, and a deregistered host is drained (no new connections, the open
 * ones finish) before it is removed. Hosts are registered and deregistered at run time
 * through HAProxy's admin socket, as the Auto Scaling group registers instances.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { sleep, waitFor } from '../../lib/child-process';
import { freePort } from '../../lib/ports';
import type { ChildProcesses } from './child-processes';

export const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';

/** The target group's health check, in the units HAProxy takes. */
export interface HealthCheck {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive failed checks before a host leaves rotation. */
  readonly unhealthyThreshold: number;
  /** Consecutive good checks before a (new) host enters rotation. */
  readonly healthyThreshold: number;
}

/** How long a dead host can still receive connections: every check of the threshold fails, the last one by timeout at worst. */
export const failoverBoundMs = (check: HealthCheck): number => check.intervalMs * check.unhealthyThreshold + check.timeoutMs;

export type HostState = 'UP' | 'DOWN' | 'MAINT' | 'DRAIN' | 'NOLB' | string;

export class HaproxyBalancer {
  private constructor(
    readonly port: number,
    private readonly socket: string,
    private readonly domain: string,
    private readonly check: HealthCheck,
  ) {}

  static async start(processes: ChildProcesses, dir: string, domain: string, check: HealthCheck): Promise<HaproxyBalancer> {
    if (!existsSync(HAPROXY_BIN)) throw new Error(`${HAPROXY_BIN} not found: the fleet replica's load balancer is Debian's haproxy (apt-get install -y haproxy)`);
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const socket = join(dir, 'admin.sock');
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(
      config,
      [
        'global',
        `    stats socket ${socket} mode 600 level admin`,
        '    maxconn 4096',
        'defaults',
        '    mode tcp',
        '    timeout connect 2s',
        '    timeout client 30s',
        '    timeout server 30s',
        `    timeout check ${check.timeoutMs}ms`,
        // An NLB hands a connection to one target and never retries it elsewhere.
        '    retries 0',
        '    option dontlognull',
        'frontend fleet',
        `    bind 127.0.0.1:${port}`,
        '    default_backend hosts',
        'backend hosts',
        '    balance roundrobin',
        '    option httpchk',
        `    http-check send meth GET uri /ping ver HTTP/1.1 hdr Host ${domain}`,
        '    http-check expect status 200',
        '',
      ].join('\n'),
    );
    const check1 = processes.spawn('haproxy', HAPROXY_BIN, ['-db', '-f', config], { logFile: join(dir, 'haproxy.log') });
    const balancer = new HaproxyBalancer(port, socket, domain, check);
    await waitFor('haproxy to open its admin socket', async () => (existsSync(socket) && (await balancer.command('show info').catch(() => '')).includes('Name: HAProxy') ? true : undefined), 10000, 50)
      .catch((error: Error) => {
        throw new Error(`${error.message} (pid ${check1.pid}); log:\n${readFileSync(join(dir, 'haproxy.log'), 'utf8').slice(-2000)}`);
      });
    return balancer;
  }

  /** One admin-socket command; its answer. */
  command(line: string): Promise<string> {
    return new Promise((resolveAnswer, reject) => {
      const connection = createConnection(this.socket);
      let answer = '';
      const timer = setTimeout(() => connection.destroy(new Error(`haproxy did not answer "${line}"`)), 5000);
      connection.on('connect', () => connection.write(`${line}\n`));
      connection.on('data', (chunk) => (answer += chunk.toString()));
      connection.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      connection.on('close', () => {
        clearTimeout(timer);
        resolveAnswer(answer);
      });
    });
  }

  private async admin(line: string): Promise<void> {
    const answer = (await this.command(line)).trim();
    // Successful admin commands answer nothing, or a line saying so.
    if (answer !== '' && !/^(New server registered|Server deleted|Health check)/i.test(answer)) throw new Error(`haproxy refused "${line}": ${answer}`);
  }

  /** Registers a host (its nginx's HTTPS port) and starts checking it; it takes traffic once healthy. */
  async register(name: string, port: number): Promise<void> {
    const { intervalMs, healthyThreshold, unhealthyThreshold } = this.check;
    await this.admin(
      `add server hosts/${name} 127.0.0.1:${port} check check-ssl verify none check-sni ${this.domain} inter ${intervalMs} fastinter ${intervalMs} downinter ${intervalMs} rise ${healthyThreshold} fall ${unhealthyThreshold}`,
    );
    await this.admin(`enable health hosts/${name}`);
    await this.admin(`enable server hosts/${name}`);
  }

  /** Each registered host's state (UP, DOWN, DRAIN, MAINT) and open connections. */
  async hosts(): Promise<Map<string, { state: HostState; connections: number }>> {
    const csv = await this.command('show stat');
    const lines = csv.split('\n').filter((line) => line.startsWith('hosts,'));
    const header = csv.split('\n')[0]!.replace(/^# /, '').split(',');
    const at = (name: string) => header.indexOf(name);
    const out = new Map<string, { state: HostState; connections: number }>();
    for (const line of lines) {
      const fields = line.split(',');
      const name = fields[at('svname')]!;
      if (name === 'BACKEND') continue;
      out.set(name, { state: fields[at('status')]!.split(' ')[0]!, connections: Number(fields[at('scur')]) });
    }
    return out;
  }

  async state(name: string): Promise<HostState | undefined> {
    return (await this.hosts()).get(name)?.state;
  }

  /** Waits, bounded, until the host's health check puts it in `state`; resolves with the time it took. */
  async waitFor(name: string, state: HostState, timeoutMs = 30000): Promise<number> {
    const started = Date.now();
    await waitFor(`haproxy to see ${name} ${state}`, async () => ((await this.state(name)) === state ? true : undefined), timeoutMs, 20);
    return Date.now() - started;
  }

  /** Deregisters a host as the NLB does: draining (no new connections), until its open ones are done (bounded), then removed. */
  async deregister(name: string, drainTimeoutMs = 30000): Promise<void> {
    await this.admin(`set server hosts/${name} state drain`);
    const deadline = Date.now() + drainTimeoutMs;
    while (Date.now() < deadline && ((await this.hosts()).get(name)?.connections ?? 0) > 0) await sleep(50);
    await this.admin(`set server hosts/${name} state maint`);
    await this.admin(`shutdown sessions server hosts/${name}`);
    await this.admin(`del server hosts/${name}`);
  }
}
