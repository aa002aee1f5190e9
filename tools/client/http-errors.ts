import type { IncomingHttpHeaders } from 'node:http';
import { classifyNginxCertPage } from './classify-error';
import { ClientError, ProviderAnswerError } from './errors';

export interface BearerChallenge {
  readonly error?: string;
  readonly errorDescription?: string;
  readonly scope?: string;
}

/**
 * Parses an RFC 6750 `WWW-Authenticate: Bearer realm="x", error="invalid_token",
 * error_description="..."` challenge. Returns undefined for other schemes.
 */
export function parseBearerChallenge(header: string | undefined): BearerChallenge | undefined {
  if (!header || !/^\s*Bearer\b/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return { error: params.error, errorDescription: params.error_description, scope: params.scope };
}

const HINTS: Record<string, string> = {
  invalid_client: 'Check --client-id and that the client certificate is the one registered for it.',
  invalid_scope: 'Ask for a scope the client is registered for (--scope).',
  unauthorized_client: 'The client is not allowed the client_credentials grant.',
  invalid_token: 'The token is expired, revoked or bound to another certificate: fetch a new one with the same --cert.',
  insufficient_scope: 'The token lacks the scope this resource needs: ask for it with --scope.',
  invalid_request: 'The request is missing the token or the client certificate.',
};

/**
 * Builds the error for a non-2xx answer from its headers and (small) body: the RFC
 * 6750 challenge first, then an OAuth JSON error body, then nginx's client
 * certificate pages.
 */
export function httpErrorFrom(
  status: number,
  url: string,
  headers: IncomingHttpHeaders,
  body: string,
  sentClientCert: boolean,
): ClientError {
  const nginxPage = classifyNginxCertPage(status, body, { url, sentClientCert });
  if (nginxPage) return nginxPage;
  const challenge = parseBearerChallenge(headerValue(headers['www-authenticate']));
  let error = challenge?.error;
  let description = challenge?.errorDescription;
  let requiredScope = challenge?.scope;
  if (/json/i.test(headerValue(headers['content-type']) ?? '')) {
    try {
      const json = JSON.parse(body) as { error?: unknown; error_description?: unknown; scope?: unknown };
      if (typeof json.error === 'string') error ??= json.error;
      if (typeof json.error_description === 'string') description ??= json.error_description;
      if (typeof json.scope === 'string') requiredScope ??= json.scope;
    } catch {
      // not JSON after all: keep what the challenge said
    }
  }
  const hint =
    error === 'insufficient_scope' && requiredScope
      ? `The token lacks the scope this resource needs: ask for it with --scope ${requiredScope}`
      : ((error ? HINTS[error] : undefined) ?? (status === 404 ? 'Check the dataset name (`list` shows what you may read).' : undefined));
  return new ProviderAnswerError(status, url, error, description, headerValue(headers['x-fapi-interaction-id']), hint);
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
