/**
 * The `operations:` section, one rule per test: every default, every override, and each
 * bad value refused with a message that names the field, the value and what to write.
 */
import { EnvironmentError } from './load';
import { DEFAULT_ALARM_THRESHOLDS, LOG_RETENTION_DAYS, operationsSchema } from './operations-schema';
import { exampleConfig, removeTempDirs } from '../testing/synth';

afterAll(removeTempDirs);

/** The problems of the example environment with this `operations:` section (fails if it parses). */
function problems(operations: unknown): string[] {
  try {
    exampleConfig({ operations });
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return [...(error as EnvironmentError).problems];
  }
  throw new Error(`expected operations ${JSON.stringify(operations)} to be refused`);
}
const operationsOf = (operations: unknown) => exampleConfig({ operations }).operations;

const DEFAULTS = {
  notify: { emails: [], httpsEndpoints: [] },
  alarms: {
    certificateDaysLeft: 14, crlHoursLeft: 24, error5xxPerFiveMinutes: 5, authzUnavailable503PerFiveMinutes: 1,
    refusalsPerFiveMinutes: 200, appRestartsPerHour: 3, diskUsedPercent: 85, memoryUsedPercent: 90,
  },
  logs: { retentionDays: 30 },
  outsideCheck: { enabled: true, path: '/ping' },
  dashboard: true,
  // Off: no SES identity, no DKIM records, no report timer on the host.
  report: { enabled: false, hourUtc: 6 },
};

describe('operations: defaults', () => {
  it('an environment without the section gets every default', () => {
    expect(exampleConfig().operations).toEqual(DEFAULTS);
    expect(DEFAULT_ALARM_THRESHOLDS).toEqual(DEFAULTS.alarms);
  });

  it('a partial section keeps the defaults of everything it does not name', () => {
    const ops = operationsOf({ alarms: { diskUsedPercent: 70 }, notify: { emails: ['ops@example.org'] } });
    expect(ops.alarms).toEqual({ ...DEFAULTS.alarms, diskUsedPercent: 70 });
    expect(ops.notify).toEqual({ emails: ['ops@example.org'], httpsEndpoints: [] });
    expect(ops.logs).toEqual(DEFAULTS.logs);
    expect(ops.outsideCheck).toEqual(DEFAULTS.outsideCheck);
  });

  it('defaults are fresh objects: parsing twice shares nothing', () => {
    const a = operationsSchema.parse({});
    const b = operationsSchema.parse({});
    expect(a).toEqual(b);
    expect(a.notify.emails).not.toBe(b.notify.emails);
  });
});

describe('operations.alarms', () => {
  it.each([
    ['certificateDaysLeft', 7], ['crlHoursLeft', 48], ['error5xxPerFiveMinutes', 20], ['authzUnavailable503PerFiveMinutes', 3],
    ['refusalsPerFiveMinutes', 1000], ['appRestartsPerHour', 0], ['diskUsedPercent', 100], ['memoryUsedPercent', 1],
  ])('%s can be overridden (%i)', (field, value) => {
    expect(operationsOf({ alarms: { [field]: value } }).alarms).toEqual({ ...DEFAULTS.alarms, [field]: value });
  });

  it('a percentage over 100, under 1, not whole or not a number is refused naming the field', () => {
    expect(problems({ alarms: { diskUsedPercent: 120 } })).toEqual(['operations.alarms.diskUsedPercent: 120 is over 100; give a percentage 1-100']);
    expect(problems({ alarms: { memoryUsedPercent: 0 } })).toEqual(['operations.alarms.memoryUsedPercent: 0 is below 1; give a percentage 1-100']);
    expect(problems({ alarms: { diskUsedPercent: 85.5 } })).toEqual(['operations.alarms.diskUsedPercent: 85.5 is not a whole number; give a percentage 1-100']);
    expect(problems({ alarms: { memoryUsedPercent: '90%' } })).toEqual(['operations.alarms.memoryUsedPercent: "90%" is not a number; give a percentage 1-100']);
  });

  it('counts and durations out of range are refused naming the field and the range', () => {
    expect(problems({ alarms: { certificateDaysLeft: 90 } })).toEqual(['operations.alarms.certificateDaysLeft: 90 is over 89; give a number of days 1-89']);
    expect(problems({ alarms: { crlHoursLeft: 0 } })).toEqual(['operations.alarms.crlHoursLeft: 0 is below 1; give a number of hours 1-720']);
    expect(problems({ alarms: { error5xxPerFiveMinutes: 0 } })).toEqual(['operations.alarms.error5xxPerFiveMinutes: 0 is below 1; give a count 1-1000000']);
    expect(problems({ alarms: { authzUnavailable503PerFiveMinutes: -1 } })).toEqual(['operations.alarms.authzUnavailable503PerFiveMinutes: -1 is below 1; give a count 1-1000000']);
    expect(problems({ alarms: { refusalsPerFiveMinutes: 2.5 } })).toEqual(['operations.alarms.refusalsPerFiveMinutes: 2.5 is not a whole number; give a count 1-1000000']);
    expect(problems({ alarms: { appRestartsPerHour: -1 } })).toEqual(['operations.alarms.appRestartsPerHour: -1 is below 0; give a count 0-1000']);
  });

  it('an unknown alarm is refused (a typo would otherwise keep the default silently)', () => {
    expect(problems({ alarms: { diskUsedPercnt: 70 } })).toEqual(['operations.alarms: unknown field(s) "diskUsedPercnt"; check the spelling against docs/stack.md']);
  });
});

describe('operations.logs.retentionDays', () => {
  it('accepts every value CloudWatch Logs accepts', () => {
    for (const days of LOG_RETENTION_DAYS) expect(operationsOf({ logs: { retentionDays: days } }).logs.retentionDays).toBe(days);
  });

  it('refuses any other, listing the accepted ones', () => {
    expect(problems({ logs: { retentionDays: 31 } })).toEqual([
      'operations.logs.retentionDays: 31 is not a retention CloudWatch Logs accepts; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (days)',
    ]);
    expect(problems({ logs: { retentionDays: 'forever' } })[0]).toMatch(/^operations\.logs\.retentionDays: "forever" is not a number of days; use one of 1, 3, /);
  });
});

describe('operations.notify', () => {
  it('takes e-mail addresses and https endpoints (query strings allowed)', () => {
    const notify = { emails: ['ops@example.org', 'oncall+provider@example.org'], httpsEndpoints: ['https://events.example.net/integration/abc/enqueue?key=1'] };
    expect(operationsOf({ notify }).notify).toEqual(notify);
  });

  it('refuses an invalid address, naming its position', () => {
    expect(problems({ notify: { emails: ['ops@example.org', 'not-an-address'] } })).toEqual([
      'operations.notify.emails[1]: "not-an-address" is not an e-mail address; use e.g. "ops@example.org"',
    ]);
  });

  it('refuses an endpoint that is not https', () => {
    expect(problems({ notify: { httpsEndpoints: ['http://hooks.example.net/alerts'] } })).toEqual([
      'operations.notify.httpsEndpoints[0]: "http://hooks.example.net/alerts" is not an https URL; SNS delivers alerts to "https://…" endpoints only (e.g. "https://events.pagerduty.com/integration/<key>/enqueue")',
    ]);
    expect(problems({ notify: { httpsEndpoints: ['https://user:secret@hooks.example.net/'] } })[0]).toMatch(/^operations\.notify\.httpsEndpoints\[0\]: .* is not an https URL/);
  });

  it('refuses the same address twice (case-insensitive): SNS would refuse the second subscription', () => {
    expect(problems({ notify: { emails: ['ops@example.org', 'OPS@example.org'] } })).toEqual([
      'operations.notify.emails[1]: "OPS@example.org" is listed twice; give each address once',
    ]);
  });
});

describe('operations.outsideCheck and dashboard', () => {
  it('can be switched off, and the path changed', () => {
    expect(operationsOf({ outsideCheck: { enabled: false }, dashboard: false })).toMatchObject({ outsideCheck: { enabled: false, path: '/ping' }, dashboard: false });
    expect(operationsOf({ outsideCheck: { path: '/health/live' } }).outsideCheck.path).toBe('/health/live');
  });

  it('refuses a path Route53 cannot request, or one Terraform would interpolate', () => {
    expect(problems({ outsideCheck: { path: 'ping' } })).toEqual([
      'operations.outsideCheck.path: "ping" is not a URL path Route53 can request; use e.g. "/ping" (starting with "/", at most 255 characters, no spaces or braces)',
    ]);
    expect(problems({ outsideCheck: { path: `/${'a'.repeat(255)}` } })[0]).toMatch(/^operations\.outsideCheck\.path: .* at most 255 characters/);
    expect(problems({ outsideCheck: { path: '/${x}' } })).toEqual([
      'operations.outsideCheck.path: "/${x}" is not a URL path Route53 can request; use e.g. "/ping" (starting with "/", at most 255 characters, no spaces or braces)',
    ]);
  });

  it('refuses a non-boolean switch, naming it', () => {
    expect(problems({ dashboard: 'yes' })).toEqual(['operations.dashboard: "yes" is not a boolean; use true or false']);
    expect(problems({ outsideCheck: { enabled: 1 } })).toEqual(['operations.outsideCheck.enabled: 1 is not a boolean; use true or false']);
  });

  it('refuses an unknown field of the section', () => {
    expect(problems({ alarm: {} })).toEqual(['operations: unknown field(s) "alarm"; check the spelling against docs/stack.md']);
  });
});
