import { requestPath, targetOf } from './request-target';

const target = (request: string) => targetOf(requestPath(request));

describe('what a request line asked for', () => {
  it('a dataset, with or without .csv, whatever the query string', () => {
    expect(target('GET /meters HTTP/2.0')).toEqual({ kind: 'dataset', label: 'meters' });
    expect(target('HEAD /meters.csv HTTP/1.1')).toEqual({ kind: 'dataset', label: 'meters' });
    expect(target('GET /meters?access_token=x HTTP/1.1')).toEqual({ kind: 'dataset', label: 'meters' });
    expect(target('GET https://provider.example/half-hourly.v2 HTTP/1.1')).toEqual({ kind: 'dataset', label: 'half-hourly.v2' });
    expect(target('GET /met%65rs HTTP/1.1')).toEqual({ kind: 'dataset', label: 'meters' });
  });

  it('the app routes, in any case, as their paths; /ping.csv is the dataset "ping", as in Express', () => {
    expect(target('GET /datasets HTTP/2.0')).toEqual({ kind: 'route', label: '/datasets' });
    expect(target('GET /PING HTTP/1.1')).toEqual({ kind: 'route', label: '/ping' });
    expect(target('GET /ping.csv HTTP/1.1')).toEqual({ kind: 'dataset', label: 'ping' });
  });

  it('(other) for anything that names no dataset or route', () => {
    for (const request of ['GET / HTTP/1.1', 'GET /a/b HTTP/1.1', 'GET /.env HTTP/1.1', 'GET /a..b HTTP/1.1', 'GET /%E0%A4%A HTTP/1.1', '', '\u0016\u0003\u0001', 'GET /"><script> HTTP/1.1', `GET /${'a'.repeat(200)} HTTP/1.1`]) {
      expect({ request, target: target(request) }).toEqual({ request, target: { kind: 'other', label: '(other)' } });
    }
  });
});
