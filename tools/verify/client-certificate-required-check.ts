import { ClientError, TlsRejectedError } from '../client/errors';
import { httpErrorFrom } from '../client/http-errors';
import { httpsRequest, readText } from '../client/https-request';
import { fail, pass, warn, type CheckResult } from './check-result';
import type { VerifyTarget } from './verify-target';

const NAME = 'no client cert → refused';

/** A request without a client certificate must be refused by the TLS terminator. */
export async function checkClientCertificateRequired(target: VerifyTarget): Promise<CheckResult> {
  const url = new URL('datasets', target.url).toString();
  try {
    const res = await httpsRequest({ url, tls: target.tls, presentCertificate: false, resolve: target.resolve, timeoutMs: target.timeoutMs });
    const body = await readText(res.body, 100_000).catch(() => '');
    const refusal = res.status >= 400 ? httpErrorFrom(res.status, url, res.headers, body, false) : undefined;
    if (refusal instanceof TlsRejectedError || res.status === 495 || res.status === 496) {
      return pass(NAME, `HTTP ${res.status} from the TLS terminator: ${refusal?.message.replace(/^.*: /, '') ?? 'client certificate required'}`);
    }
    if (res.status === 401 || res.status === 403) {
      return warn(NAME, `HTTP ${res.status}, but from the app, not the TLS terminator: is ssl_verify_client on?`);
    }
    return fail(NAME, `HTTP ${res.status} for GET ${url} without a client certificate`);
  } catch (error) {
    if (error instanceof TlsRejectedError && error.side === 'server') return pass(NAME, `refused in the TLS handshake (${error.reason})`);
    if (error instanceof TlsRejectedError) return fail(NAME, `not checked: ${error.message}`);
    if (error instanceof ClientError && /closed the connection/.test(error.message)) return pass(NAME, 'the server closed the connection');
    return fail(NAME, `not checked: ${error instanceof Error ? error.message : String(error)}`);
  }
}
