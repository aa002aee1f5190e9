/**
 * The `operations:` section of an environment file: who is told about trouble, when
 * each alarm fires, how long logs are kept, the outside-in check and the dashboard.
 * Every field is optional; the defaults are a working setup (docs/operations.md).
 *
 * Messages name the value and what would be accepted; the loader prefixes the field
 * path (`operations.alarms.diskUsedPercent: 120 is over 100; give a percentage 1-100`).
 */
import { z } from 'zod';
import * as rule from '../contract/rules';
import { show } from '../contract/rules';

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy, `retentionInDays`). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** The alarms' bounds, as written in the environment file when nothing is given. */
export const DEFAULT_ALARM_THRESHOLDS = {
  certificateDaysLeft: 14,
  crlHoursLeft: 24,
  error5xxPerFiveMinutes: 5,
  authzUnavailable503PerFiveMinutes: 1,
  refusalsPerFiveMinutes: 200,
  appRestartsPerHour: 3,
  diskUsedPercent: 85,
  memoryUsedPercent: 90,
} as const;

/** A whole number within [min, max]; `what` says what the number counts (for messages). */
function wholeNumber(min: number, max: number, what: string, fallback: number) {
  const accepted = `give ${what} ${min}-${max}`;
  return z
    .number({ error: (i) => `${show(i.input)} is not a number; ${accepted}` })
    .int({ error: (i) => `${show(i.input)} is not a whole number; ${accepted}` })
    .min(min, { error: (i) => `${show(i.input)} is below ${min}; ${accepted}` })
    .max(max, { error: (i) => `${show(i.input)} is over ${max}; ${accepted}` })
    .default(fallback);
}

const percentage = (fallback: number) => wholeNumber(1, 100, 'a percentage', fallback);
const perPeriod = (fallback: number) => wholeNumber(1, 1_000_000, 'a count', fallback);

/** An SNS https subscription endpoint (query strings allowed: many paging services put their key there). */
const httpsEndpoint = z.string({ error: (i) => `${show(i.input)} is not a string; give an https URL` }).refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' && url.hostname !== '' && !/\s/.test(value) && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  },
  { error: (i) => `${show(i.input)} is not an https URL; SNS delivers alerts to "https://…" endpoints only (e.g. "https://events.pagerduty.com/integration/<key>/enqueue")` },
);

/** A list without two entries that differ only by case (SNS would refuse the second subscription). */
const distinct = <T extends z.ZodType<string>>(item: T, what: string) =>
  z.array(item).superRefine((values, ctx) => {
    const seen = new Set<string>();
    values.forEach((value, index) => {
      const key = value.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index], input: value, message: `${show(value)} is listed twice; give each ${what} once` });
      seen.add(key);
    });
  });

const notify = z
  .strictObject({
    emails: distinct(rule.email, 'address')
      .default([])
      .describe('E-mail addresses subscribed to the alerts topic(s). Each receives a confirmation e-mail from AWS after the deploy and gets nothing until it is confirmed. Empty: alarms fire but nobody is told.'),
    httpsEndpoints: distinct(httpsEndpoint, 'endpoint')
      .default([])
      .describe('HTTPS endpoints (a paging service, a chat webhook relay) subscribed to the alerts topic(s); SNS posts a SubscriptionConfirmation first. The URL is stored in the Terraform state: prefer endpoints whose secret is not in the URL.'),
  })
  .prefault({})
  .describe('Who hears about alarms: SNS subscriptions of the alerts topic (and of its us-east-1 twin for the outside check).');

const alarms = z
  .strictObject({
    certificateDaysLeft: wholeNumber(1, 89, 'a number of days', DEFAULT_ALARM_THRESHOLDS.certificateDaysLeft).describe(
      "Alarm when the served certificate expires in fewer days than this (host metric CertificateDaysLeft). certbot renews at 30 days left, so with the default 14 it means renewals have failed for 16 days.",
    ),
    crlHoursLeft: wholeNumber(1, 720, 'a number of hours', DEFAULT_ALARM_THRESHOLDS.crlHoursLeft).describe(
      "Alarm when the installed CRL that expires first has fewer hours than this before its nextUpdate (host metric CrlHoursToNextUpdate); past it nginx refuses that CA's clients.",
    ),
    error5xxPerFiveMinutes: perPeriod(DEFAULT_ALARM_THRESHOLDS.error5xxPerFiveMinutes).describe('Alarm when nginx answers this many 5xx or more within five minutes.'),
    authzUnavailable503PerFiveMinutes: perPeriod(DEFAULT_ALARM_THRESHOLDS.authzUnavailable503PerFiveMinutes).describe(
      'Alarm when nginx answers this many 503 or more within five minutes: the authorization server (introspection) is unreachable or the data manifest is broken.',
    ),
    refusalsPerFiveMinutes: perPeriod(DEFAULT_ALARM_THRESHOLDS.refusalsPerFiveMinutes).describe(
      'Alarm when nginx answers this many 4xx or more within five minutes (missing or refused certificates and tokens, unknown datasets, rate limits): a misconfigured consumer or a probe.',
    ),
    appRestartsPerHour: wholeNumber(0, 1000, 'a count', DEFAULT_ALARM_THRESHOLDS.appRestartsPerHour).describe('Alarm when PM2 restarts the app more often than this within an hour (host metric AppRestarts); 0: any restart.'),
    diskUsedPercent: percentage(DEFAULT_ALARM_THRESHOLDS.diskUsedPercent).describe('Alarm when the root file system is this full or more (CloudWatch agent, disk_used_percent on "/").'),
    memoryUsedPercent: percentage(DEFAULT_ALARM_THRESHOLDS.memoryUsedPercent).describe('Alarm when memory use stays at or above this percentage for ten minutes (CloudWatch agent, mem_used_percent).'),
  })
  .prefault({})
  .describe('Alarm thresholds. Every alarm notifies on ALARM and on OK.');

const logs = z
  .strictObject({
    retentionDays: z
      .number({ error: (i) => `${show(i.input)} is not a number of days; use one of ${LOG_RETENTION_DAYS.join(', ')}` })
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        error: (i) => `${show(i.input)} is not a retention CloudWatch Logs accepts; use one of ${LOG_RETENTION_DAYS.join(', ')} (days)`,
      })
      .default(30)
      .describe(`Days CloudWatch Logs keeps the host's logs (nginx access and error, app, host scripts). One of ${LOG_RETENTION_DAYS.join(', ')}.`),
  })
  .prefault({})
  .describe('The log groups the CloudWatch agent ships the host\'s logs to.');

/** Route53 ResourcePath: at most 255 characters; a path, no spaces, no braces (Terraform would read "${" as an interpolation). */
const RESOURCE_PATH_RE = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/?-]{0,254}$/;
const outsideCheck = z
  .strictObject({
    enabled: z
      .boolean({ error: (i) => `${show(i.input)} is not a boolean; use true or false` })
      .default(true)
      .describe('A Route53 HTTPS health check of `domain` by Route53\'s checkers over the internet, with its alarm (in us-east-1, where Route53 publishes its metrics).'),
    path: z
      .string({ error: (i) => `${show(i.input)} is not a string; use e.g. "/ping"` })
      .regex(RESOURCE_PATH_RE, { error: (i) => `${show(i.input)} is not a URL path Route53 can request; use e.g. "/ping" (starting with "/", at most 255 characters, no spaces or braces)` })
      .default('/ping')
      .describe('The path the health check requests; it must answer 2xx or 3xx without a client certificate.'),
  })
  .prefault({})
  .describe('The outside-in check: proves the TLS listener answers from the internet.');

/** The daily access report: mailed through SES from the environment's domain identity. */
const report = z
  .strictObject({
    enabled: z
      .boolean({ error: (i) => `${show(i.input)} is not a boolean; use true or false` })
      .default(false)
      .describe(
        "Mail the previous day's access report every day (HTML with a plain-text part) through Amazon SES, and keep it in the bucket (host-status/access-report.html and .json). Creates an SES domain identity for `domain` with its three DKIM records in the hosted zone. A new SES account is in the sandbox: it delivers only to verified addresses until production access is granted (docs/operations.md).",
      ),
    sender: rule.email
      .optional()
      .describe('The From address; its domain must be `domain` (the SES identity the stack creates). Default: reports@<domain>.'),
    recipients: distinct(rule.email, 'address')
      .max(rule.MAX_REPORT_RECIPIENTS, { error: `give at most ${rule.MAX_REPORT_RECIPIENTS} addresses (SES sends one message to at most ${rule.MAX_REPORT_RECIPIENTS} recipients)` })
      .optional()
      .describe('Who receives the report. Default: operations.notify.emails (the alert subscribers).'),
    hourUtc: wholeNumber(0, 23, 'an hour (UTC)', 6).describe("The hour (UTC, 0-23) at which the host builds and mails the previous UTC day's report (a few minutes' random delay; a host that was off catches up at boot)."),
  })
  .prefault({})
  .describe('The daily access report per consumer and dataset, mailed to people (docs/operations.md "Access report").');

export const operationsSchema = z
  .strictObject({
    notify,
    alarms,
    logs,
    outsideCheck,
    dashboard: z
      .boolean({ error: (i) => `${show(i.input)} is not a boolean; use true or false` })
      .default(true)
      .describe('A CloudWatch dashboard named `<namePrefix>`: requests, status codes, latency, bytes, certificate and CRL time left.'),
    report,
  })
  .describe('Operations: alerts (SNS), CloudWatch alarms, log groups, the outside-in check and the dashboard (docs/operations.md).');

export type OperationsInput = z.input<typeof operationsSchema>;
export type OperationsConfig = z.output<typeof operationsSchema>;
export type AlarmThresholds = OperationsConfig['alarms'];
export type ReportConfig = OperationsConfig['report'];

/** The daily report as the stack sends it: every default applied. */
export interface ResolvedReport {
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly hourUtc: number;
}

/** The default From address of the report: a mailbox on the environment's own domain (its SES identity). */
export const defaultReportSender = (domain: string): string => `reports@${domain}`;

/**
 * What is wrong with an enabled report once `domain` and the subscribers are known, as
 * [field path under operations.report, value, message]: a From address off the SES
 * identity's domain, nobody to send to.
 */
export function reportProblems(operations: OperationsConfig, domain: string): { path: string[]; input: unknown; message: string }[] {
  const { report: r, notify: n } = operations;
  if (!r.enabled) return [];
  const problems: { path: string[]; input: unknown; message: string }[] = [];
  if (r.sender !== undefined && r.sender.slice(r.sender.lastIndexOf('@') + 1).toLowerCase() !== domain) {
    problems.push({
      path: ['sender'],
      input: r.sender,
      message: `${show(r.sender)} is not an address at "${domain}"; SES sends only from the identity the stack creates for \`domain\`: use e.g. "${defaultReportSender(domain)}"`,
    });
  }
  if ((r.recipients ?? n.emails).length === 0) {
    problems.push({
      path: ['recipients'],
      input: r.recipients ?? [],
      message: 'nobody would receive the report: give operations.report.recipients, or operations.notify.emails (the default recipients)',
    });
  }
  return problems;
}

/** The report with its defaults (sender on `domain`, recipients = the alert e-mail subscribers); undefined when off. */
export function resolveReport(operations: OperationsConfig, domain: string): ResolvedReport | undefined {
  const { report: r, notify: n } = operations;
  if (!r.enabled) return undefined;
  return { sender: r.sender ?? defaultReportSender(domain), recipients: r.recipients ?? n.emails, hourUtc: r.hourUtc };
}
