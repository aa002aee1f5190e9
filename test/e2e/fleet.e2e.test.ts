/**
 * Fleet mode end to end (docs/fleet.md "The replica proof"): two replica hosts — the real
 * setup.sh with PH_FLEET=true, nginx, PM2 and the app each — behind HAProxy in TCP
 * passthrough standing in for the Network Load Balancer, with the target group's HTTPS
 * /ping health check scaled down (REPLICA_HEALTH_CHECK). Requests are real mTLS requests
 * through the balancer (testing/replica/traffic.ts: one connection per request).
 *
 * Proven: the certificate obtained once by DNS-01 (pebble, the TXT record written through
 * the Route53 stand-in) and served by both hosts; renewal by one host under the S3 lock,
 * picked up by the other; a publish and a revocation reaching both; a host's nginx
 * SIGKILLed and a whole host gone with failures only inside the health check bound; a
 * rolling replacement of both hosts with zero failed requests.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import type { DenyList } from '../../contract/deny-list';
import { sleep, waitFor } from '../../lib/child-process';
import { FleetReplica, FLEET_ZONE } from '../../testing/replica/fleet-replica';
import { failoverBoundMs } from '../../testing/replica/haproxy-balancer';
import { mtlsRequest } from '../../testing/replica/mtls-request';
import { sampleDatasets } from '../../testing/replica/provider-replica';
import { publishDatasets } from '../../testing/replica/release-seed';
import { standinRecordSets } from '../../testing/replica/route53-standin';
import { Traffic, type TrafficResult } from '../../testing/replica/traffic';
import { servedCertificate } from './served-certificate';

const DATASET = 'half-hourly-consumption';
const samples = sampleDatasets();
const original = samples[`${DATASET}.csv`]!;
const published = Buffer.concat([original, Buffer.from('2099-01-01T00:00:00Z,fleet,1.0\n')]);

let fleet: FleetReplica;
let token: string;
let otherToken: string;
/** Bodies the dataset may have (before and after the publish). */
let accepted: Buffer[] = [original];

const measure = (line: string) => process.stdout.write(`[measure] ${line}\n`);

beforeAll(async () => {
  const started = Date.now();
  fleet = await FleetReplica.start({ datasets: samples });
  measure(`fleet of 2 hosts set up (concurrently) and healthy behind haproxy in ${Date.now() - started} ms`);
  token = await fleet.token('consumer');
  otherToken = await fleet.token('other-consumer');
}, 600000);

afterAll(async () => {
  await fleet?.stop();
}, 180000);

function traffic(): Traffic {
  return new Traffic({
    port: fleet.balancer.port, servername: fleet.domain, ca: fleet.siteCaPem, cert: fleet.pki.consumer.chainPem, key: fleet.pki.consumer.keyPem,
    token, path: `/${DATASET}`, acceptedBodies: accepted, concurrency: 4, maxDurationMs: 120000,
  }).start();
}

/** A request straight to one host's nginx (bypassing the balancer). */
function direct(name: string, who: 'consumer' | 'other-consumer' = 'consumer') {
  const cert = who === 'consumer' ? fleet.pki.consumer : fleet.otherConsumer;
  return mtlsRequest({ port: fleet.host(name).replica.httpsPort, path: `/${DATASET}`, ca: fleet.siteCaPem, servername: fleet.domain, cert: cert.chainPem, key: cert.keyPem, headers: { Authorization: `Bearer ${who === 'consumer' ? token : otherToken}` } });
}

async function servedSerial(name: string): Promise<string> {
  const peer = await servedCertificate(fleet.host(name).replica.httpsPort, fleet.domain, fleet.siteCaPem, fleet.pki.consumer.chainPem, fleet.pki.consumer.keyPem);
  return peer.serialNumber;
}

async function hostScript(name: string, script: 'release-sync' | 'fleet-certificate-refresh', args: readonly string[] = []): Promise<string> {
  const run = await fleet.host(name).replica.runHostScript(script, 120000, args);
  if (run.code !== 0) throw new Error(`${script}.sh failed on ${name} (${run.code}):\n${run.output}`);
  return run.output;
}

/** Failures of a run after `from`, and after the health check bound from `from`. */
function failover(result: TrafficResult, from: number): { inside: number; after: number } {
  const bound = from + failoverBoundMs(fleet.healthCheck);
  return { inside: result.failedAt.filter((t) => t >= from && t <= bound).length, after: result.failedAt.filter((t) => t > bound).length };
}

const noPrivateKey = (text: string) => expect(text).not.toMatch(/PRIVATE KEY/);

describe('fleet replica: two hosts behind a TCP passthrough load balancer', () => {
  it('obtains the certificate once, by DNS-01 through Route53, and serves it from both hosts (same serial)', async () => {
    const outputs = [...fleet.hosts.values()].map((host) => host.setup.output);
    const requested = outputs.filter((output) => /requesting the fleet certificate for \S+ by DNS-01/.test(output));
    const installed = outputs.filter((output) => /changed: \S+ \(the fleet certificate from the bucket: serial=/.test(output));
    expect(requested).toHaveLength(1);
    expect(installed).toHaveLength(1);
    // The host that did not obtain it waited for the one holding the lock.
    expect(installed[0]).toMatch(/the renewal lock is held by .* another host renews|no fleet certificate|restoring/);
    // pebble issued one certificate, after validating a DNS-01 challenge.
    const pebbleLog = readFileSync(join(fleet.root, 'logs', 'pebble.log'), 'utf8');
    expect(pebbleLog.match(/Issued certificate serial/g)).toHaveLength(1);
    // The validation was DNS-01 (pebble and challtestsrv answer no HTTP-01 here): certbot's log on the requesting host.
    const requester = [...fleet.hosts.values()].find((host) => host.setup.output === requested[0])!;
    expect(readFileSync(requester.replica.path('var', 'log', 'letsencrypt', 'letsencrypt.log'), 'utf8')).toMatch(/dns-01/);
    expect(requested[0]).toMatch(/published _acme-challenge\.provider\.replica\.test\. TXT \(change \/change\/C[0-9A-F]+\); waiting for INSYNC/);
    // The cleanup hook removed the record; the lock is released.
    expect(standinRecordSets(fleet.awsRoot, FLEET_ZONE.id)).toEqual([]);
    expect(existsSync(join(fleet.bucketDir, BUCKET_LAYOUT.letsencryptLockKey))).toBe(false);
    const serials = [await servedSerial('h1'), await servedSerial('h2')];
    expect(serials[0]).toMatch(/^[0-9A-F]+$/);
    expect(serials[1]).toBe(serials[0]);
    measure(`fleet certificate: one issuance (serial ${serials[0]}), served by h1 and h2`);
    for (const output of outputs) noPrivateKey(output);
    // Both hosts answer through the balancer.
    const seen = await Promise.all([direct('h1'), direct('h2')]);
    expect(seen.map((r) => (r.ok ? r.status : r.error))).toEqual([200, 200]);
  });

  it('renews on one host only, under the S3 lock; the other picks the new certificate up on its timer; zero failed requests', async () => {
    const before = await servedSerial('h1');
    const load = traffic();
    await load.warm();
    const lock = join(fleet.bucketDir, BUCKET_LAYOUT.letsencryptLockKey);
    // Both hosts' timers fire together (forced: pebble's certificates are years from due).
    const first = hostScript('h1', 'fleet-certificate-refresh', ['--force-renewal']);
    await waitFor('h1 to hold the renewal lock', () => (existsSync(lock) ? true : undefined), 90000, 20);
    const second = await hostScript('h2', 'fleet-certificate-refresh', ['--force-renewal']);
    const renewer = await first;
    expect(renewer).toMatch(/renewal lock taken/);
    expect(renewer).toMatch(/changed: \S+ \(renewed for the fleet: serial=/);
    expect(second).toMatch(/the renewal lock is held by \S+ for \d+s more; another host renews/);
    expect(second).not.toMatch(/renewed for the fleet/);
    // nginx's reload is graceful: the new workers serve the renewed certificate within moments.
    const renewed = await waitFor('h1 to serve the renewed certificate', async () => {
      const serial = await servedSerial('h1');
      return serial !== before ? serial : undefined;
    }, 10000, 100);
    expect(renewed).not.toBe(before);
    expect(await servedSerial('h2')).toBe(before);
    // h2's next timer run: installs the renewed certificate, reloads nginx, renews nothing.
    const pickup = await hostScript('h2', 'fleet-certificate-refresh');
    expect(pickup).toMatch(/changed: \S+ \(the fleet certificate from the bucket: serial=/);
    expect(pickup).toMatch(/not due for renewal/);
    await waitFor('h2 to serve the renewed certificate', async () => ((await servedSerial('h2')) === renewed ? true : undefined), 10000, 100);
    const result = await load.stop();
    const pebbleLog = readFileSync(join(fleet.root, 'logs', 'pebble.log'), 'utf8');
    expect(pebbleLog.match(/Issued certificate serial/g)).toHaveLength(2);
    expect(existsSync(lock)).toBe(false);
    for (const output of [renewer, second, pickup]) noPrivateKey(output);
    measure(`renewal under the lock: h1 renewed (${before} -> ${renewed}), h2 skipped then installed it; traffic ${result.ok} ok, ${result.failed} failed`);
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
  }, 300000);

  it('a publish reaches both hosts (each host\'s release timer), with zero failed requests', async () => {
    accepted = [original, published];
    const load = traffic();
    await load.warm();
    await publishDatasets(fleet.bucketDir, { ...samples, [`${DATASET}.csv`]: published }, join(fleet.root, 'publish-2'));
    for (const name of ['h1', 'h2']) expect(await hostScript(name, 'release-sync')).toMatch(/changed/);
    for (const name of ['h1', 'h2']) {
      const response = await waitFor(`${name} to serve the new release`, async () => {
        const r = await direct(name);
        return r.ok && r.status === 200 && r.body.equals(published) ? r : undefined;
      }, 10000, 100);
      expect(response.ok).toBe(true);
    }
    const result = await load.stop();
    measure(`publish reached both hosts; traffic ${result.ok} ok (old ${result.bodies[0]}, new ${result.bodies[1]}), ${result.failed} failed`);
    expect(result.failures).toEqual([]);
    accepted = [published];
  }, 300000);

  it('a certificate on the deny list is refused by both hosts, directly and through the balancer; the others are served', async () => {
    for (const name of ['h1', 'h2']) {
      const before = await direct(name, 'other-consumer');
      expect(before.ok && before.status).toBe(200);
    }
    const fingerprint = createHash('sha1').update(Buffer.from(fleet.otherConsumer.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')).digest('hex');
    const list: DenyList = { version: 1, entries: [{ sha1Fingerprint: fingerprint, reason: 'fleet test', addedAt: new Date().toISOString() }] };
    fleet.host('h1').replica.putObject(BUCKET_LAYOUT.denyListKey, JSON.stringify(list));
    for (const name of ['h1', 'h2']) expect(await hostScript(name, 'release-sync')).toMatch(/changed: deny list: 1 entry/);
    for (const name of ['h1', 'h2']) {
      const refused = await waitFor(`${name} to refuse the revoked certificate`, async () => {
        const r = await direct(name, 'other-consumer');
        return r.ok && r.status === 400 ? r : undefined;
      }, 5000, 50);
      expect(refused.ok && JSON.parse(refused.body.toString()).error_description).toMatch(/revoked/);
      const served = await direct(name);
      expect(served.ok && served.status).toBe(200);
    }
    // Through the balancer, whichever host answers: refused every time.
    const cert = fleet.otherConsumer;
    const through = await Promise.all(Array.from({ length: 8 }, () => mtlsRequest({ port: fleet.balancer.port, path: `/${DATASET}`, ca: fleet.siteCaPem, servername: fleet.domain, cert: cert.chainPem, key: cert.keyPem, headers: { Authorization: `Bearer ${otherToken}` } })));
    expect(through.map((r) => (r.ok ? r.status : r.error))).toEqual(Array(8).fill(400));
  }, 300000);

  it('SIGKILL of one host\'s nginx: failures only inside the health check bound, none after; back in rotation when it returns', async () => {
    const load = traffic();
    await load.warm();
    const killedAt = Date.now();
    const pids = fleet.killNginx('h1');
    expect(pids.length).toBeGreaterThan(1);
    const outMs = await fleet.balancer.waitFor('h1', 'DOWN', 20000);
    await sleep(failoverBoundMs(fleet.healthCheck) + 2000);
    const result = await load.stop();
    const { inside, after } = failover(result, killedAt);
    measure(`nginx SIGKILL on h1: out of rotation after ${outMs} ms (bound ${failoverBoundMs(fleet.healthCheck)} ms: ${fleet.healthCheck.unhealthyThreshold} x ${fleet.healthCheck.intervalMs} ms + ${fleet.healthCheck.timeoutMs} ms timeout); ${inside} failed requests inside the bound, ${after} after; ${result.ok} ok`);
    expect(outMs).toBeLessThanOrEqual(failoverBoundMs(fleet.healthCheck) + 1000);
    expect(after).toBe(0);
    expect(result.failed).toBe(inside);
    fleet.startNginx('h1');
    const backMs = await fleet.balancer.waitFor('h1', 'UP', 20000);
    measure(`h1's nginx restarted: back in rotation after ${backMs} ms`);
  }, 120000);

  it('a rolling replacement of both hosts (new host healthy, then the old one drained and stopped) has zero failed requests', async () => {
    const serial = await servedSerial('h1');
    const load = traffic();
    await load.warm();
    const steps: string[] = [];
    for (const [fresh, old] of [['h3', 'h1'], ['h4', 'h2']] as const) {
      let t = Date.now();
      const host = await fleet.launch(fresh);
      steps.push(`${fresh} launched and healthy in ${Date.now() - t} ms`);
      expect(host.setup.output).toMatch(/the fleet certificate from the bucket/);
      expect(host.setup.output).not.toMatch(/requesting the fleet certificate/);
      t = Date.now();
      await fleet.terminate(old);
      steps.push(`${old} drained and stopped in ${Date.now() - t} ms`);
    }
    const result = await load.stop();
    measure(`rolling replacement: ${steps.join('; ')}; traffic ${result.ok} ok, ${result.failed} failed`);
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
    // The new hosts serve the fleet's certificate, the current release and the deny list.
    for (const name of ['h3', 'h4']) {
      expect(await servedSerial(name)).toBe(serial);
      const served = await direct(name);
      expect(served.ok && served.body.equals(published)).toBe(true);
      const refused = await direct(name, 'other-consumer');
      expect(refused.ok && refused.status).toBe(400);
    }
    expect(readFileSync(join(fleet.root, 'logs', 'pebble.log'), 'utf8').match(/Issued certificate serial/g)).toHaveLength(2);
  }, 600000);

  it('a whole host gone (nginx, PM2 and the app SIGKILLed): failures only inside the health check bound, none after', async () => {
    const load = traffic();
    await load.warm();
    const killedAt = Date.now();
    expect(fleet.killHost('h3').length).toBeGreaterThan(2);
    const outMs = await fleet.balancer.waitFor('h3', 'DOWN', 20000);
    await sleep(failoverBoundMs(fleet.healthCheck) + 2000);
    const result = await load.stop();
    const { inside, after } = failover(result, killedAt);
    measure(`whole host h3 killed: out of rotation after ${outMs} ms (bound ${failoverBoundMs(fleet.healthCheck)} ms); ${inside} failed requests inside the bound, ${after} after; ${result.ok} ok`);
    expect(outMs).toBeLessThanOrEqual(failoverBoundMs(fleet.healthCheck) + 1000);
    expect(after).toBe(0);
    expect(result.failed).toBe(inside);
  }, 120000);
});
