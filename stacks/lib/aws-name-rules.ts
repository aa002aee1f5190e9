/**
 * AWS's rules for the names and expressions the hardening resources send, checked at
 * synthesis: `terraform plan` accepts any string, the API refuses it half-way through
 * an apply. Each function returns the problem as text (undefined: valid), so the config
 * schema and the constructs share one rule and one message.
 *
 * Sources (API references):
 *   KMS CreateAlias  AliasName 1-256, `^alias/[a-zA-Z0-9/_-]+$`, not `alias/aws/…` (reserved).
 *   SSM CreateAssociation  AssociationName `^[a-zA-Z0-9_\-.]{3,128}$`;
 *     ScheduleExpression: `cron(min hour day-of-month month day-of-week year)` (one of the
 *     two day fields `?`) or `rate(n minutes|hours|days)`, at least 30 minutes apart.
 *   IAM role ARN  `arn:<partition>:iam::<account>:role/<path><name>`, name 1-64 of `[\w+=,.@-]`.
 */

export const KMS_ALIAS_RE = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

export function kmsAliasProblem(alias: string): string | undefined {
  if (!KMS_ALIAS_RE.test(alias)) return `KMS alias ${JSON.stringify(alias)} is not valid: use "alias/" and 1-250 letters, digits, "/", "_" and "-"`;
  if (alias.startsWith('alias/aws/')) return `KMS alias ${JSON.stringify(alias)} is reserved for AWS managed keys ("alias/aws/…")`;
  return undefined;
}

export const ASSOCIATION_NAME_RE = /^[a-zA-Z0-9_.-]{3,128}$/;

export function associationNameProblem(name: string): string | undefined {
  return ASSOCIATION_NAME_RE.test(name) ? undefined : `SSM association name ${JSON.stringify(name)} is not valid: use 3-128 letters, digits, "_", "-" and "."`;
}

/** The weekly default: Sundays 04:00 UTC. */
export const DEFAULT_PATCH_SCHEDULE = 'cron(0 4 ? * SUN *)';

const CRON_FIELD = /^[0-9A-Za-z*?,/#L-]+$/;
const DAYS = 'SUN|MON|TUE|WED|THU|FRI|SAT';
const DAY_OF_WEEK = new RegExp(`^(\\*|\\?|([1-7]|${DAYS})(-([1-7]|${DAYS}))?(#[1-5])?(,([1-7]|${DAYS})(-([1-7]|${DAYS}))?)*|[1-7]?L)$`);
const MONTHS = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';

/** The number list of a numeric cron field (`*`, `n`, `a-b`, `a/b`, `*\/b`, lists), each within [min, max]. */
function numericField(field: string, min: number, max: number): boolean {
  if (field === '*') return true;
  return field.split(',').every((part) => {
    const m = /^(\*|\d{1,4})(?:-(\d{1,4}))?(?:\/(\d{1,4}))?$/.exec(part);
    if (!m) return false;
    const values = [m[1], m[2]].filter((v): v is string => v !== undefined && v !== '*').map(Number);
    return values.every((v) => v >= min && v <= max) && (m[3] === undefined || Number(m[3]) >= 1);
  });
}

/** What is wrong with an SSM association schedule expression; undefined when valid. */
export function ssmScheduleProblem(expression: string): string | undefined {
  const accepted = `use e.g. "${DEFAULT_PATCH_SCHEDULE}" (cron: minutes hours day-of-month month day-of-week year, in UTC) or "rate(7 days)"`;
  const rate = /^rate\((\d{1,4}) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2];
    if (n < 1) return `${JSON.stringify(expression)} has a rate of 0; ${accepted}`;
    if ((n === 1) !== !unit.endsWith('s')) return `${JSON.stringify(expression)}: write "rate(1 ${unit.replace(/s$/, '')})" for one and "rate(${n} ${unit.replace(/s?$/, 's')})" for more; ${accepted}`;
    if (unit.startsWith('minute') && n < 30) return `${JSON.stringify(expression)} runs more often than every 30 minutes, which SSM associations refuse; ${accepted}`;
    return undefined;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) return `${JSON.stringify(expression)} is not an SSM cron or rate expression; ${accepted}`;
  const fields = cron[1].split(' ');
  if (fields.length !== 6 || fields.some((f) => !CRON_FIELD.test(f))) {
    return `${JSON.stringify(expression)} does not have the six fields of an SSM cron expression; ${accepted}`;
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields;
  const ok =
    /^\d{1,2}$/.test(minutes) && numericField(minutes, 0, 59) &&
    numericField(hours, 0, 23) &&
    (dayOfMonth === '?' || dayOfMonth === 'L' || numericField(dayOfMonth, 1, 31)) &&
    (numericField(month, 1, 12) || new RegExp(`^(${MONTHS})([-,](${MONTHS}))*$`).test(month)) &&
    DAY_OF_WEEK.test(dayOfWeek) &&
    (year === '*' || numericField(year, 1970, 2199));
  if (!ok) return `${JSON.stringify(expression)} has a field out of range (minutes: one number 0-59, at most hourly); ${accepted}`;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return `${JSON.stringify(expression)} must have "?" in exactly one of day-of-month and day-of-week; ${accepted}`;
  }
  return undefined;
}

/** Whether a schedule is a cron expression (only those can wait for their first interval). */
export const isCronSchedule = (expression: string): boolean => expression.startsWith('cron(');

export const IAM_ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/([\x21-\x7e]{0,510}\/)?[\w+=,.@-]{1,64}$/;

export function iamRoleArnProblem(arn: string): string | undefined {
  if (/^arn:aws[a-z-]*:sts::\d{12}:assumed-role\//.test(arn)) {
    return `${JSON.stringify(arn)} is a role session, not a role; use the role's ARN, "arn:aws:iam::<account>:role/<name>"`;
  }
  return IAM_ROLE_ARN_RE.test(arn) ? undefined : `${JSON.stringify(arn)} is not an IAM role ARN; use "arn:aws:iam::<account>:role/<name>" (with its path, if any)`;
}

/**
 * Operations' names (API references): CloudWatch PutMetricAlarm AlarmName 1-255 characters,
 * no control characters; PutDashboard DashboardName 1-255 of `[A-Za-z0-9_-]`; metric
 * Namespace 1-255, not starting with ":" nor "AWS/" (reserved); CloudWatch Logs
 * CreateLogGroup logGroupName 1-512 of `[.\-_/#A-Za-z0-9]`; PutMetricFilter filterName
 * 1-512, no ":" or "*"; SNS CreateTopic Name 1-256 of `[A-Za-z0-9_-]`.
 */
const OPERATIONS_NAME_RULES = {
  'CloudWatch alarm name': { re: /^[^\p{Cc}]{1,255}$/u, text: '1-255 characters, no control characters' },
  'CloudWatch dashboard name': { re: /^[A-Za-z0-9_-]{1,255}$/, text: '1-255 letters, digits, "_" and "-"' },
  'CloudWatch metric namespace': { re: /^(?!:|AWS\/)[\x20-\x7e]{1,255}$/, text: '1-255 printable ASCII characters, not starting with ":" or "AWS/"' },
  'CloudWatch Logs group name': { re: /^[.\-_/#A-Za-z0-9]{1,512}$/, text: '1-512 letters, digits, ".", "-", "_", "/" and "#"' },
  'CloudWatch Logs metric filter name': { re: /^[^:*\p{Cc}]{1,512}$/u, text: '1-512 characters, no ":" or "*"' },
  'SNS topic name': { re: /^[A-Za-z0-9_-]{1,256}$/, text: '1-256 letters, digits, "_" and "-"' },
} as const;
export type OperationsNameKind = keyof typeof OPERATIONS_NAME_RULES;

/** What is wrong with an operations resource's name; undefined when AWS accepts it. */
export function operationsNameProblem(kind: OperationsNameKind, name: string): string | undefined {
  const { re, text } = OPERATIONS_NAME_RULES[kind];
  return re.test(name) ? undefined : `${kind} ${JSON.stringify(name)} is not valid: use ${text}`;
}
