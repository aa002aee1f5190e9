import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAppLine, parseNginxLine, type AppRecord, type NginxRecord } from './parse-logs';
import { describeReason, refusalReason } from './refusal-reason';
import { appAccessLine } from './test-support/app-log-line';
import { nginxLogLine, type NginxVariables } from './test-support/nginx-log-line';

const page = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', 'nginx', 'errors', name), 'utf8')) as { error: string; error_description: string };
const nginx = (variables: NginxVariables): NginxRecord => parseNginxLine(nginxLogLine({ provider_client_id: '', provider_authz_status: '', provider_authz_cache: '', ...variables }))!;
const app = (status: number, error?: string): AppRecord =>
  parseAppLine(appAccessLine({ time: '2026-01-22T10:00:00Z', interactionId: '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f', path: '/meters', status, error })) as AppRecord;

describe('why a request was not served', () => {
  it('none for an answer below 400', () => {
    for (const status of [200, 206, 301, 304]) expect(refusalReason(nginx({ status }), undefined)).toBeUndefined();
  });

  it("the app's refusal: its description, and the code it answered with", () => {
    const line = nginx({ status: 401, upstream_status: '401', provider_authz_status: '403' });
    expect(refusalReason(line, app(401, 'the access token is bound to a different client certificate'))).toEqual({
      status: 401,
      code: 'invalid_token',
      description: 'the access token is bound to a different client certificate',
    });
    expect(refusalReason(nginx({ status: 403, upstream_status: '403' }), app(403, 'this client may not read this resource'))).toMatchObject({ code: 'insufficient_scope' });
  });

  it("the app's answer without its line: the status, and the code where the status tells it", () => {
    expect(refusalReason(nginx({ status: 404, upstream_status: '404' }), undefined)).toEqual({ status: 404, code: 'not_found' });
    expect(refusalReason(nginx({ status: 401, upstream_status: '401' }), undefined)).toEqual({ status: 401 });
  });

  it('no client certificate, or one that failed verification: invalid_client (client-certificate.json), and which case', () => {
    const none = refusalReason(nginx({ status: 400, ssl_client_verify: 'NONE', ssl_client_s_dn: '' }), undefined);
    expect(none).toEqual({ status: 400, code: page('client-certificate.json').error, description: 'no client certificate was sent' });
    const failed = refusalReason(nginx({ status: 400, ssl_client_verify: 'FAILED:certificate has expired' }), undefined);
    expect(failed).toEqual({ status: 400, code: 'invalid_client', description: 'the client certificate failed verification (FAILED:certificate has expired)' });
  });

  it.each([
    [429, '429.json', ''],
    [404, '404.json', ''],
    [502, '502.json', '502, 502, 502'],
    [503, '503.json', ''],
    [504, '504.json', '504'],
  ])("nginx's own %i: what its error page %s told the consumer", (status, file, upstream) => {
    const { error, error_description } = page(file);
    expect(refusalReason(nginx({ status, upstream_status: upstream }), undefined)).toEqual({ status, code: error, description: error_description });
  });

  it('an app line with another status (the decision nginx acted on) does not explain the refusal', () => {
    const decision = { ...app(204), via: 'nginx auth_request' };
    expect(refusalReason(nginx({ status: 429 }), decision)).toMatchObject({ code: 'too_many_requests' });
  });

  it('statuses nginx gives without a page still say something; an unknown one is its number', () => {
    expect(describeReason(refusalReason(nginx({ status: 444, ssl_protocol: '', ssl_client_verify: '' }), undefined)!)).toMatch(/^444: connection closed/);
    expect(describeReason(refusalReason(nginx({ status: 418 }), undefined)!)).toBe('418');
  });
});
