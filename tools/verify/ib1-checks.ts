/**
 * What verify checks in the ib1 profile besides the common checks (IB1 Baseline TLS
 * Configuration and data provider guidance): an ECDSA server key; open data served to anyone
 * without a certificate, while a shared dataset without one is refused; the heartbeat.
 */
import { ConsumerClient } from '../client/consumer-client';
import type { ConsumerSettings } from '../client/consumer-settings';
import { ClientError } from '../client/errors';
import { httpsRequest } from '../client/https-request';
import { formatBytes } from '../client/progress-bar';
import { fail, pass, warn, type CheckResult } from './check-result';
import { probeTls } from './tls-probe';
import type { VerifyTarget } from './verify-target';

/** IB1: server certificates use ECDSA keys on P-256 or P-384. */
const IB1_CURVES = new Set(['prime256v1', 'secp384r1']);

export async function checkEcdsaServerKey(target: VerifyTarget): Promise<CheckResult> {
  const NAME = 'server key (ECDSA)';
  const probe = await probeTls(target);
  if (!probe.ok) return fail(NAME, `no TLS handshake: ${probe.code} ${probe.message}`);
  const curve = probe.peer.asn1Curve;
  if (curve && IB1_CURVES.has(curve)) return pass(NAME, `ECDSA ${curve === 'prime256v1' ? 'P-256' : 'P-384'}`);
  const what = curve ? `ECDSA on ${curve}` : `${probe.peer.bits ?? '?'}-bit ${probe.peer.pubkey ? 'RSA' : 'non-EC'} key`;
  return fail(NAME, `${what}; IB1 wants ECDSA P-256 or P-384 (certbot --key-type ecdsa)`);
}

interface Anonymous {
  readonly status: number;
  readonly body: Buffer;
}

async function anonymousGet(target: VerifyTarget, path: string): Promise<Anonymous> {
  const url = new URL(path, target.url).toString();
  const res = await httpsRequest({ url, tls: target.tls, presentCertificate: false, resolve: target.resolve, timeoutMs: target.timeoutMs });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return { status: res.status, body: Buffer.concat(chunks) };
}

function reason(error: unknown): string {
  if (error instanceof ClientError) return `${error.message}${error.hint ? ` (${error.hint})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

/** The names `GET /datasets` lists to anyone (no certificate, no token): the open datasets. */
export async function listOpenDatasets(target: VerifyTarget): Promise<string[]> {
  const listing = await anonymousGet(target, 'datasets');
  if (listing.status !== 200) throw new Error(`GET /datasets without a certificate answered HTTP ${listing.status}; open data must be listed to anyone`);
  const parsed = JSON.parse(listing.body.toString('utf8')) as { datasets?: unknown } | unknown[];
  const entries = Array.isArray(parsed) ? parsed : Array.isArray((parsed as { datasets?: unknown }).datasets) ? (parsed as { datasets: unknown[] }).datasets : [];
  return entries.map((entry) => (typeof entry === 'string' ? entry : (entry as { name?: string }).name)).filter((name): name is string => typeof name === 'string');
}

/** The first dataset the consumer may read that is not open (what the authorised download should fetch). */
export async function firstSharedDataset(settings: ConsumerSettings, open: readonly string[]): Promise<string | undefined> {
  return (await new ConsumerClient(settings).listDatasets()).map((d) => d.name).find((name) => !open.includes(name));
}

const OPEN = 'open dataset, no cert';
const SHARED = 'shared dataset, no cert';

/** Open data downloads with no certificate and no token at all. */
export async function checkOpenDataset(target: VerifyTarget, open: readonly string[] | Error): Promise<CheckResult> {
  if (open instanceof Error) return fail(OPEN, open.message);
  if (open.length === 0) return warn(OPEN, 'GET /datasets lists no open dataset to anyone: nothing to check');
  try {
    const started = Date.now();
    const res = await anonymousGet(target, encodeURIComponent(open[0]!));
    return res.status === 200 && res.body.length > 0
      ? pass(OPEN, `${open[0]}: HTTP 200, ${formatBytes(res.body.length)} in ${Date.now() - started} ms, no certificate, no token`)
      : fail(OPEN, `${open[0]}: HTTP ${res.status} without a certificate; open data must be served to anyone`);
  } catch (error) {
    return fail(OPEN, `${open[0]}: ${reason(error)}`);
  }
}

/** A shared dataset without a client certificate is refused (by nginx or, in ib1, by the app: 401). */
export async function checkSharedRefused(target: VerifyTarget, name: string | undefined): Promise<CheckResult> {
  if (!name) return warn(SHARED, 'no shared dataset known (the consumer lists none that is not open): pass --dataset');
  try {
    const res = await anonymousGet(target, encodeURIComponent(name));
    if ([400, 401, 403, 495, 496].includes(res.status)) {
      const described = /"error_description"\s*:\s*"([^"]*)"/.exec(res.body.toString('utf8'))?.[1];
      return pass(SHARED, `${name}: HTTP ${res.status}${described ? ` (${described})` : ''}`);
    }
    return fail(SHARED, `${name}: HTTP ${res.status} without a client certificate; shared data must be refused`);
  } catch (error) {
    const text = reason(error);
    // A handshake refused for want of a certificate is a refusal too.
    return /certificate|handshake|alert/i.test(text) ? pass(SHARED, `${name}: refused in the TLS handshake (${text})`) : fail(SHARED, `${name}: ${text}`);
  }
}

/** The heartbeat answers 200 with the statistics of the last period (period_start, period_end, counts). */
export async function checkHeartbeat(settings: ConsumerSettings | undefined, path: string): Promise<CheckResult> {
  const NAME = 'heartbeat';
  if (!settings) return fail(NAME, 'not checked: no consumer identity (it is protected like shared data)');
  try {
    const { status, body } = await new ConsumerClient(settings).getJson(path);
    const stats = body as Record<string, unknown>;
    const rfc3339 = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
    if (!rfc3339(stats.period_start) || !rfc3339(stats.period_end)) {
      return fail(NAME, `${path}: HTTP ${status}, but no period_start/period_end (RFC 3339) in the answer`);
    }
    const counts = Object.entries(stats).filter(([key]) => /^api_call_response_\d{3}_count$/.test(key));
    const summary = counts.map(([key, n]) => `${key.slice(18, 21)}×${String(n)}`).join(' ') || 'no calls';
    return pass(NAME, `${path}: HTTP ${status}, ${String(stats.period_start)} → ${String(stats.period_end)}: ${summary}`);
  } catch (error) {
    return fail(NAME, `${path}: ${reason(error)}`);
  }
}
