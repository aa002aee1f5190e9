/**
 * Authorization server for development and tests: oidc-provider 9 over HTTPS with
 * client_credentials, `tls_client_auth`, certificate-bound access tokens (`cnf.x5t#S256`),
 * introspection and revocation. oidc-provider is ESM-only, so it always runs in a child
 * process (`main.ts`); this module spawns it and talks to it.
 *
 * API
 * - `startAuthorizationServer(config: AuthzServerConfig, options?)` → `{ issuer, port, pid, rotateSigningKey(), publishSigningKeys(), stop() }`
 * - `requestToken({ issuer, clientId, scope?, cert, key, ca })` → `{ access_token, token_type, expires_in, scope? }`
 * - `revokeToken({ issuer, clientId, token, cert, key, ca })` → resolves when revoked
 * - `httpsRequest(...)` → the small mTLS HTTP helper the two above use
 * PEM arguments (`cert`, `key`, `ca`) are strings or Buffers, not paths.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { httpsRequest as clientHttpsRequest, readText } from '../../tools/client/https-request';
import { readyLine, stopChild } from '../../lib/child-process';
import type { AuthzServerConfig } from './config';

export type { AuthzClientConfig, AuthzServerConfig } from './config';

export interface StartOptions {
  /** Give up waiting for the ready line after this long. @default 20000 */
  readonly readyTimeoutMs?: number;
  /** Receives the child's stderr (it is buffered for error messages either way). */
  readonly onStderr?: (chunk: string) => void;
}

export interface AuthorizationServerHandle {
  readonly issuer: string;
  readonly port: number;
  readonly pid: number;
  /**
   * JWT mode: a new key signs every token from now on, while `jwks_uri` does not list it yet
   * (a resource server sees an unknown `kid`). Resolves with that kid.
   */
  rotateSigningKey(): Promise<string>;
  /** `jwks_uri` lists every signing key, the rotated-in one too. */
  publishSigningKeys(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

function entryCommand(): string[] {
  // From TypeScript sources (jest, ts-node) run the command through ts-node; from dist its .js.
  if (extname(__filename) === '.ts') {
    return ['-r', require.resolve('ts-node/register/transpile-only'), join(__dirname, 'authz-server-command.ts')];
  }
  return [join(__dirname, 'authz-server-command.js')];
}

/** Spawns the authorization server and resolves once it printed its ready line. */
export async function startAuthorizationServer(config: AuthzServerConfig, options: StartOptions = {}): Promise<AuthorizationServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'authz-server-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const child = spawn(process.execPath, [...entryCommand(), '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_PROJECT: join(__dirname, '..', '..', 'tsconfig.json') },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
    options.onStderr?.(chunk);
  });
  const stop = async () => {
    await stopChild(child, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ready = await readyLine(
      child,
      { what: 'authz-server', timeoutMs: options.readyTimeoutMs ?? 20000, explain: () => `; stderr: ${stderr}` },
      (line) => {
        if (!line.startsWith('{')) return undefined;
        const parsed = JSON.parse(line) as { ready?: boolean; issuer: string; port: number };
        return parsed.ready ? parsed : undefined;
      },
    );
    // Only for the key operations: it must not keep the parent alive.
    child.channel?.unref();
    let nextId = 0;
    const ask = (op: string): Promise<{ kid?: string }> =>
      new Promise((resolveAnswer, reject) => {
        const id = (nextId += 1);
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`authz-server did not answer ${op} within 5 s`));
        }, 5000);
        const onMessage = (message: { id?: number; kid?: string; error?: string }) => {
          if (message?.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          if (message.error) reject(new Error(`authz-server: ${message.error}`));
          else resolveAnswer(message);
        };
        child.on('message', onMessage);
        child.send({ id, op });
      });
    return {
      issuer: ready.issuer,
      port: ready.port,
      pid: child.pid!,
      rotateSigningKey: async () => (await ask('rotate-signing-key')).kid!,
      publishSigningKeys: async () => void (await ask('publish-signing-keys')),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface MtlsCredentials {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca: string | Buffer;
}

export interface HttpsResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * One HTTPS request presenting a client certificate, the body read as text; `form`
 * is sent url-encoded. The consumer client's request, so errors say which side refused.
 */
export async function httpsRequest(
  url: string,
  credentials: MtlsCredentials,
  init: { method?: 'GET' | 'POST'; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<HttpsResult> {
  const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  const res = await clientHttpsRequest({
    url,
    method: init.method ?? (body ? 'POST' : 'GET'),
    headers: { ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers },
    body,
    tls: { cert: credentials.cert.toString(), key: credentials.key.toString(), ca: credentials.ca.toString() },
    timeoutMs: 10000,
  });
  return { status: res.status, headers: res.headers, body: await readText(res.body) };
}

async function discover(issuer: string, credentials: MtlsCredentials): Promise<Record<string, string>> {
  const res = await httpsRequest(`${issuer}/.well-known/openid-configuration`, credentials);
  if (res.status !== 200) throw new Error(`discovery at ${issuer} answered ${res.status}`);
  return JSON.parse(res.body) as Record<string, string>;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope?: string;
}

/** client_credentials grant authenticated with `tls_client_auth`; the token is bound to `cert`. */
export async function requestToken(input: MtlsCredentials & { issuer: string; clientId: string; scope?: string }): Promise<TokenResponse> {
  const metadata = await discover(input.issuer, input);
  const res = await httpsRequest(metadata.token_endpoint!, input, {
    form: { grant_type: 'client_credentials', client_id: input.clientId, ...(input.scope ? { scope: input.scope } : {}) },
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${res.body}`);
  return JSON.parse(res.body) as TokenResponse;
}

/** RFC 7009 revocation by the client that owns the token. */
export async function revokeToken(input: MtlsCredentials & { issuer: string; clientId: string; token: string }): Promise<void> {
  const metadata = await discover(input.issuer, input);
  const res = await httpsRequest(metadata.revocation_endpoint!, input, {
    form: { token: input.token, token_type_hint: 'access_token', client_id: input.clientId },
  });
  if (res.status !== 200) throw new Error(`revocation endpoint answered ${res.status}: ${res.body}`);
}
