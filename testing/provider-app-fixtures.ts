import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createIntermediateCa, createRootCa, issueClientCert, thumbprintS256, type IssuedCertificate } from './pki';
import { createApp, type AppDeps } from '../provider-app/app';
import { AuthorizationServerUnavailable, type IntrospectionResult, type Introspector } from '../provider-app/introspection';
import { createLogger } from '../provider-app/logger';

/** A CA and two consumer certificates, made once per test file. */
export function makeCerts() {
  const root = createRootCa({ subject: { commonName: 'Unit Root' } });
  const ca = createIntermediateCa(root, { subject: { commonName: 'Unit Issuing' } });
  const alice = issueClientCert(ca, { subject: { commonName: 'alice', organization: 'Consumers' } });
  const bob = issueClientCert(ca, { subject: { commonName: 'bob', organization: 'Consumers' } });
  return { root, ca, alice, bob };
}

/** nginx's `$ssl_client_escaped_cert` form. */
export function escapedCert(cert: IssuedCertificate): string {
  return encodeURIComponent(cert.certPem);
}

/** nginx's legacy `$ssl_client_cert` form as nginx sends it: continuation lines indented with a tab (obs-fold). */
export function legacyCert(cert: IssuedCertificate): string {
  return cert.certPem.trimEnd().split(/\r?\n/).join('\n\t');
}

/** The legacy form as the app sees it after Node's (lenient) parser unfolds it: lines joined by a tab. */
export function legacyCertUnfolded(cert: IssuedCertificate): string {
  return cert.certPem.trimEnd().split(/\r?\n/).join('\t');
}

/** Introspection results by token; `down` makes it behave like an unreachable server. */
export class FakeIntrospector implements Introspector {
  readonly tokens = new Map<string, IntrospectionResult>();
  down = false;
  calls = 0;

  async introspect(token: string): Promise<IntrospectionResult> {
    this.calls += 1;
    if (this.down) throw new AuthorizationServerUnavailable('connect ECONNREFUSED 127.0.0.1:1');
    return this.tokens.get(token) ?? { active: false };
  }

  /** An active token bound to `cert`, valid for an hour, with `scope`. */
  bound(token: string, cert: IssuedCertificate, scope = 'datasets:read', clientId = 'alice'): string {
    const now = Math.floor(Date.now() / 1000);
    this.tokens.set(token, { active: true, client_id: clientId, scope, iat: now - 10, exp: now + 3600, cnf: { 'x5t#S256': thumbprintS256(cert.certPem) } });
    return token;
  }
}

/** A logger writing into an array, for assertions on log lines. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('debug', stream), lines };
}

/** A temp data folder with a few datasets; `cleanup()` removes it. */
export function makeDataDir(files: Record<string, string> = { meters: 'id,kwh\n1,2.5\n2,3.5\n' }) {
  const dir = mkdtempSync(join(tmpdir(), 'provider-data-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, `${name}.csv`), content);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The request handler's deps in X-Accel-Redirect mode, as the host runs it; tests give what they vary. */
export function accelModeDeps(given: Partial<AppDeps> & Pick<AppDeps, 'logger' | 'dataDir' | 'introspector'>): AppDeps {
  return {
    scope: 'datasets:read',
    clientCertHeader: 'x-oe-client-cert',
    accelRedirectPrefix: '/_datasets/',
    clockSkewSeconds: 5,
    retryAfterSeconds: 7,
    dataCacheTtlMs: 60_000,
    ...given,
  };
}

export function testApp(overrides: Partial<AppDeps> & Pick<AppDeps, 'dataDir' | 'introspector'>) {
  const { logger, lines } = memoryLogger();
  const app = createApp({
    logger,
    scope: 'datasets:read',
    clientCertHeader: 'x-oe-client-cert',
    clockSkewSeconds: 5,
    retryAfterSeconds: 7,
    ...overrides,
  });
  return { app, lines };
}
