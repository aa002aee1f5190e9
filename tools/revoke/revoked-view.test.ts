import { readHostStatus, renderRevoked, type HostRevocationStatus } from './revoked-view';

const status = (fields: Partial<HostRevocationStatus>): HostRevocationStatus => ({ state: 'ok', checkedAt: '2026-05-01T10:00:00.000Z', lastSuccessAt: null, lastError: null, hoursToNextUpdate: 30, uncoveredIssuers: [], crls: [], ...fields });
const statusLines = (fields: Partial<HostRevocationStatus>): string[] => renderRevoked({ denyListAt: 'k', status: status(fields) }).split('\n').slice(1, -1);

describe('readHostStatus', () => {
  it('takes fields a newer host adds, and keeps them', () => {
    expect(readHostStatus('{"state":"ok","checkedAt":"t","futureField":1}')).toEqual({ status: { state: 'ok', checkedAt: 't', futureField: 1 } });
  });

  it('names what does not fit, by its path', () => {
    expect(readHostStatus('{"state":"ok","crls":[{"issuer":7}]}')).toEqual({ problem: 'crls.0.issuer: Invalid input: expected string, received number' });
    expect(readHostStatus('[')).toEqual({ problem: 'not JSON' });
  });
});

describe('renderRevoked, the host status', () => {
  it('hours: ahead, past (expired), none (no CRL)', () => {
    expect(statusLines({ hoursToNextUpdate: 30 })[1]).toBe('  next CRL update  in 30.0 h');
    expect(statusLines({ state: 'expired', hoursToNextUpdate: -2 })[1]).toBe('  next CRL update  expired 2.0 h ago');
    expect(statusLines({ state: 'missing', hoursToNextUpdate: null })[1]).toBe('  next CRL update  no CRL installed');
  });

  it('no success yet, no error: "never" and "none"', () => {
    expect(statusLines({}).slice(2, 4)).toEqual(['  last success     never', '  last error       none']);
  });

  it('a state it does not know is shown as it is', () => {
    expect(statusLines({ state: 'degraded' })[0]).toBe('host revocation: degraded (checked 2026-05-01T10:00:00.000Z)');
  });
});
