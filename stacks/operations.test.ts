/**
 * "Operations: the operator hears about trouble before consumers do", one property per
 * test. GIVEN an environment (the example, with subscriptions), WHEN it is synthesized,
 * THEN the JSON has the alerts topics and subscriptions, every alarm with its metric,
 * bound and actions, the log groups and metric filters (checked against nginx's
 * log_format), the outside check in us-east-1, the dashboard, and least-privilege IAM.
 */
import 'cdktf/lib/testing/adapters/jest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { Route53HealthCheck } from '@cdktf/provider-aws/lib/route53-health-check';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { EnvironmentError } from '../config/load';
import { PROJECT_ROOT } from '../lib/project-paths';
import { InputError } from '../lib/input-error';
import { HOST_LOG_PATHS, type CloudWatchAgentConfig } from '../host/cloudwatch-agent/agent-config';
import { runHostRender } from '../host/render/host-render';
import { HOST_METRICS } from '../host/cloudwatch-agent/host-metrics';
import { Alerting } from './constructs/alerting';
import { ACCESS_LOG_METRICS } from './constructs/monitoring';
import { ReportMail } from './constructs/report-mail';
import { operationsNameProblem } from './lib/aws-name-rules';
import { exampleConfig, only, removeTempDirs, resources, synthStack, tempDir, type Synthesized, type TerraformJson } from '../testing/synth';

Testing.setupJest();
afterAll(removeTempDirs);

const EMAILS = ['ops@example.org', 'oncall@example.org'];
const HOOK = 'https://events.example.net/integration/abc/enqueue';
const NOTIFY = { notify: { emails: EMAILS, httpsEndpoints: [HOOK] } };

const TOPIC = '${aws_sns_topic.alerts_topic.arn}';
const TOPIC_US_EAST_1 = '${aws_sns_topic.alerts_topic_us_east_1.arn}';
const INSTANCE = '${aws_instance.host_instance_168AED24.id}';
const HEALTH_CHECK = '${aws_route53_health_check.outside_check.id}';
const PARTITION = '${data.aws_partition.partition.partition}';
const ACCOUNT = '${data.aws_caller_identity.caller.account_id}';

type Resource = Record<string, unknown>;
interface Statement { sid?: string; effect: string; actions: string[]; resources?: string[]; principals?: unknown; condition?: { test: string; variable: string; values: string[] }[] }

const alarmsOf = (doc: TerraformJson): Resource[] => Object.values(resources(doc, 'aws_cloudwatch_metric_alarm'));
function alarm(doc: TerraformJson, name: string): Resource {
  const found = alarmsOf(doc).filter((a) => a.alarm_name === name);
  if (found.length !== 1) throw new Error(`expected one alarm ${name}, found ${found.length} among ${alarmsOf(doc).map((a) => a.alarm_name).join(', ')}`);
  return found[0];
}
function documentOf(doc: TerraformJson, reference: unknown): Statement[] {
  const id = /^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/.exec(String(reference))?.[1];
  if (id === undefined) throw new Error(`not a policy document reference: ${String(reference)}`);
  return (doc.data.aws_iam_policy_document[id] as { statement: Statement[] }).statement;
}
/**
 * The CloudWatch agent's configuration as the host renders it (host-render
 * cloudwatch-agent-config), from the host config this stack writes and the production log
 * paths: the stack ships no agent configuration of its own.
 */
function hostRenderedAgentConfig(doc: TerraformJson): CloudWatchAgentConfig {
  const etc = tempDir('agent-etc');
  fs.writeFileSync(path.join(etc, 'host.env'), String(only(doc, 'aws_ssm_parameter').value).replace('${aws_s3_bucket.data_bucket.bucket}', 'provider-example-bucket'));
  const dir = (file: string) => path.dirname(file);
  const text = runHostRender(
    [
      'cloudwatch-agent-config', `nginx_log_dir=${dir(HOST_LOG_PATHS.nginxAccess)}`, `pm2_log_dir=${dir(HOST_LOG_PATHS.appLogGlob)}`, 'app=provider',
      `host_log_dir=${dir(HOST_LOG_PATHS.hostScriptsLogGlob)}`, `cloud_init_log=${HOST_LOG_PATHS.cloudInitOutput}`, `le_logs_dir=${dir(HOST_LOG_PATHS.certbotLog)}`,
    ],
    { env: { PH_ETC: etc }, readFile: (file) => fs.readFileSync(file, 'utf8'), stdin: () => '' },
  );
  return JSON.parse(text) as CloudWatchAgentConfig;
}

function problems(operations: unknown): string[] {
  try {
    exampleConfig({ operations });
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return [...(error as EnvironmentError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

/** nginx's log_format provider_json: the JSON template, its fields, and which are numbers. */
function accessLogFormat(text = fs.readFileSync(path.join(PROJECT_ROOT, 'nginx', 'snippets', 'log-format.conf'), 'utf8')) {
  const body = /log_format provider_json escape=json\s+([\s\S]*?);/.exec(text)?.[1];
  if (body === undefined) throw new Error('no log_format provider_json');
  const template = [...body.matchAll(/'([^']*)'/g)].map((m) => m[1]).join('');
  const fields = new Map<string, { numeric: boolean; variable: string }>();
  for (const m of template.matchAll(/"([A-Za-z0-9_]+)":("?)\$([A-Za-z0-9_]+)/g)) fields.set(m[1], { numeric: m[2] === '', variable: m[3] });
  return { template, fields };
}

/** One access log line as nginx would write it, from sample values of its variables. */
function accessLine(template: string, values: Record<string, string>): Record<string, unknown> {
  return JSON.parse(template.replace(/\$([A-Za-z0-9_]+)/g, (_m, name: string) => values[name] ?? '-')) as Record<string, unknown>;
}

interface Clause { field: string; op: string; value: string }
/** The clauses of a CloudWatch Logs JSON filter pattern `{ $.a op v && $.b op w }`. */
function clauses(pattern: string): Clause[] {
  const inner = /^\{\s*(.*?)\s*\}$/.exec(pattern)?.[1];
  if (inner === undefined) throw new Error(`not a JSON filter pattern: ${pattern}`);
  return inner.split('&&').map((part) => {
    const m = /^\s*\$\.([A-Za-z0-9_.]+)\s*(>=|<=|!=|=|>|<)\s*(\S+)\s*$/.exec(part);
    if (!m) throw new Error(`clause not understood: ${part}`);
    return { field: m[1], op: m[2], value: m[3] };
  });
}
/** Whether a parsed log line matches a pattern (numeric comparisons, as CloudWatch does them). */
function matches(pattern: string, line: Record<string, unknown>): boolean {
  return clauses(pattern).every(({ field, op, value }) => {
    const actual = line[field];
    if (typeof actual !== 'number') return false;
    const expected = Number(value);
    return { '=': actual === expected, '!=': actual !== expected, '>': actual > expected, '<': actual < expected, '>=': actual >= expected, '<=': actual <= expected }[op] as boolean;
  });
}
/** Problems of a metric filter against the log format: unknown fields, numbers compared on strings. */
function filterProblems(pattern: string, value: string, fields: ReturnType<typeof accessLogFormat>['fields']): string[] {
  const out: string[] = [];
  for (const { field } of clauses(pattern)) {
    const known = fields.get(field);
    if (known === undefined) out.push(`${pattern}: no field ${field} in log_format provider_json`);
    else if (!known.numeric) out.push(`${pattern}: ${field} is logged as a string; a numeric comparison never matches it`);
  }
  const valueField = /^\$\.([A-Za-z0-9_]+)$/.exec(value)?.[1];
  if (valueField !== undefined) {
    if (!fields.get(valueField)?.numeric) out.push(`${value}: not a numeric field of log_format provider_json`);
    if (!clauses(pattern).some((c) => c.field === valueField)) out.push(`${value}: a metric value field must appear in the pattern`);
  }
  return out;
}

describe('operations (example environment, with subscriptions)', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthStack(exampleConfig({ operations: NOTIFY }));
  });

  describe('alerts topic', () => {
    it('one topic per environment, <namePrefix>-alerts, at a pinned id', () => {
      expect(resources(synth.doc, 'aws_sns_topic').alerts_topic).toEqual({ name: 'provider-example-alerts', display_name: 'provider-example alerts' });
    });

    it('lets CloudWatch alarms of this account, named <namePrefix>-*, publish to it; nothing else', () => {
      const policies = Object.values(resources(synth.doc, 'aws_sns_topic_policy'));
      const own = policies.find((p) => p.arn === TOPIC);
      expect(documentOf(synth.doc, own?.policy)).toEqual([{
        sid: 'CloudWatchAlarmsPublish',
        effect: 'Allow',
        principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
        actions: ['sns:Publish'],
        resources: [TOPIC],
        condition: [
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [ACCOUNT] },
          { test: 'ArnLike', variable: 'aws:SourceArn', values: [`arn:${PARTITION}:cloudwatch:eu-west-2:${ACCOUNT}:alarm:provider-example-*`] },
        ],
      }]);
    });

    it('subscribes every configured address and endpoint', () => {
      for (const email of EMAILS) expect(synth.json).toHaveResourceWithProperties(SnsTopicSubscription, { topic_arn: TOPIC, protocol: 'email', endpoint: email });
      expect(synth.json).toHaveResourceWithProperties(SnsTopicSubscription, { topic_arn: TOPIC, protocol: 'https', endpoint: HOOK });
    });

    it('keeps each subscription at its id when another is added or removed (no re-confirmation)', () => {
      const idsOf = (doc: TerraformJson) => Object.entries(resources(doc, 'aws_sns_topic_subscription')).filter(([, s]) => s.topic_arn === TOPIC).map(([id, s]) => `${id} ${String(s.endpoint)}`);
      const fewer = synthStack(exampleConfig({ operations: { notify: { emails: [EMAILS[1]] } } })).doc;
      expect(idsOf(synth.doc)).toEqual(expect.arrayContaining(idsOf(fewer)));
    });

    it('has no subscription when none is configured (the default)', () => {
      expect(Object.keys(resources(synthStack().doc, 'aws_sns_topic_subscription'))).toEqual([]);
    });

    it('is not encrypted with the AWS managed key, which CloudWatch cannot use (alias/aws/sns is refused)', () => {
      for (const topic of Object.values(resources(synth.doc, 'aws_sns_topic'))) expect(topic).not.toHaveProperty('kms_master_key_id');
      const stack = new TerraformStack(Testing.app(), 'alerting');
      new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
      const base = { namePrefix: 'p', partition: 'aws', region: 'eu-west-2', accountId: '123456789012' };
      expect(() => new Alerting(stack, 'managed', { ...base, kmsKeyId: 'alias/aws/sns' })).toThrow(InputError);
      expect(() => new Alerting(stack, 'managed-arn', { ...base, kmsKeyId: 'arn:aws:kms:eu-west-2:123456789012:alias/aws/sns' })).toThrow(/cannot encrypt an alarm topic/);
      const key = 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      new Alerting(stack, 'cmk', { ...base, kmsKeyId: key });
      expect(Testing.synth(stack)).toHaveResourceWithProperties(SnsTopic, { name: 'p-alerts', kms_master_key_id: key });
    });
  });

  describe('alarms', () => {
    const logs = 'ProviderHost/example';
    const env = { Environment: 'example' };
    // name, namespace, metric, dimensions, statistic, period, evaluations, comparison, threshold, missing data
    const expected: [string, string, string, Record<string, string> | undefined, string, number, number, string, number, string][] = [
      ['http-5xx', logs, 'Status5xx', undefined, 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold', 5, 'notBreaching'],
      ['authz-unavailable', logs, 'Status503', undefined, 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold', 1, 'notBreaching'],
      ['refusals', logs, 'Status4xx', undefined, 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold', 200, 'notBreaching'],
      ['certificate-days-left', 'ProviderHost', 'CertificateDaysLeft', env, 'Minimum', 3600, 1, 'LessThanThreshold', 14, 'missing'],
      ['certificate-renewal-failed', 'ProviderHost', 'CertificateRenewalFailed', env, 'Maximum', 3600, 1, 'GreaterThanOrEqualToThreshold', 1, 'missing'],
      ['crl-hours-left', 'ProviderHost', 'CrlHoursToNextUpdate', env, 'Minimum', 3600, 1, 'LessThanThreshold', 24, 'missing'],
      ['crl-refresh-failed', 'ProviderHost', 'CrlRefreshFailed', env, 'Maximum', 3600, 1, 'GreaterThanOrEqualToThreshold', 1, 'missing'],
      ['app-restarts', 'ProviderHost', 'AppRestarts', env, 'Sum', 3600, 1, 'GreaterThanThreshold', 3, 'notBreaching'],
      ['memory-used', 'CWAgent', 'mem_used_percent', { InstanceId: INSTANCE }, 'Average', 300, 2, 'GreaterThanOrEqualToThreshold', 90, 'missing'],
      ['disk-used', 'CWAgent', 'disk_used_percent', { InstanceId: INSTANCE, path: '/' }, 'Maximum', 300, 1, 'GreaterThanOrEqualToThreshold', 85, 'missing'],
      ['system-status-check', 'AWS/EC2', 'StatusCheckFailed_System', { InstanceId: INSTANCE }, 'Maximum', 60, 2, 'GreaterThanOrEqualToThreshold', 1, 'missing'],
      ['instance-status-check', 'AWS/EC2', 'StatusCheckFailed_Instance', { InstanceId: INSTANCE }, 'Maximum', 60, 3, 'GreaterThanOrEqualToThreshold', 1, 'missing'],
    ];

    it.each(expected)('%s: %s %s %j, %s over %i s, %i period(s), %s %d, missing data %s', (slug, namespace, metric, dimensions, statistic, period, evaluations, comparison, threshold, missing) => {
      const found = alarm(synth.doc, `provider-example-${slug}`);
      expect(found).toMatchObject({
        namespace, metric_name: metric, statistic, period, evaluation_periods: evaluations, datapoints_to_alarm: evaluations,
        comparison_operator: comparison, threshold, treat_missing_data: missing,
      });
      expect(found.dimensions).toEqual(dimensions);
      expect(found.alarm_description).toEqual(expect.stringContaining(`Runbook: docs/operations.md#${slug}`));
    });

    it('there are exactly these alarms in the environment\'s region, plus the outside check in us-east-1', () => {
      const names = alarmsOf(synth.doc).map((a) => String(a.alarm_name).replace(/^provider-example-/, '')).sort();
      expect(names).toEqual([...expected.map((e) => e[0]), 'outside-check'].sort());
    });

    it('every alarm notifies its topic on ALARM and on OK', () => {
      for (const a of alarmsOf(synth.doc)) {
        const topic = a.provider === 'aws.us_east_1' ? TOPIC_US_EAST_1 : TOPIC;
        expect({ name: a.alarm_name, alarm: a.alarm_actions, ok: a.ok_actions }).toEqual({ name: a.alarm_name, alarm: expect.arrayContaining([topic]), ok: [topic] });
      }
    });

    it('the system status check recovers the instance, the instance status check reboots it (and both notify)', () => {
      expect(alarm(synth.doc, 'provider-example-system-status-check').alarm_actions).toEqual([`arn:${PARTITION}:automate:eu-west-2:ec2:recover`, TOPIC]);
      expect(alarm(synth.doc, 'provider-example-instance-status-check').alarm_actions).toEqual([`arn:${PARTITION}:automate:eu-west-2:ec2:reboot`, TOPIC]);
      const others = alarmsOf(synth.doc).filter((a) => !String(a.alarm_name).endsWith('status-check'));
      for (const a of others) expect((a.alarm_actions as string[]).filter((x) => x.includes(':automate:'))).toEqual([]);
    });

    it('takes every bound from operations.alarms', () => {
      const { doc } = synthStack(exampleConfig({
        operations: {
          alarms: {
            certificateDaysLeft: 7, crlHoursLeft: 48, error5xxPerFiveMinutes: 20, authzUnavailable503PerFiveMinutes: 3,
            refusalsPerFiveMinutes: 1000, appRestartsPerHour: 0, diskUsedPercent: 70, memoryUsedPercent: 80,
          },
        },
      }));
      const bound = (slug: string) => alarm(doc, `provider-example-${slug}`).threshold;
      expect(['certificate-days-left', 'crl-hours-left', 'http-5xx', 'authz-unavailable', 'refusals', 'app-restarts', 'disk-used', 'memory-used'].map(bound)).toEqual([7, 48, 20, 3, 1000, 0, 70, 80]);
    });

    it('watches the agent\'s metrics with exactly the dimensions the agent configuration makes it emit', () => {
      const agent = hostRenderedAgentConfig(synth.doc);
      const memory = alarm(synth.doc, 'provider-example-memory-used');
      const disk = alarm(synth.doc, 'provider-example-disk-used');
      expect(Object.keys(memory.dimensions as object).sort()).toEqual(Object.keys(agent.metrics.append_dimensions).sort());
      expect(Object.keys(disk.dimensions as object).sort()).toEqual([...agent.metrics.aggregation_dimensions[0]].sort());
      expect((disk.dimensions as Record<string, string>).path).toBe(agent.metrics.metrics_collected.disk.resources[0]);
    });

    it('watches the host-published metrics by their one definition, with Environment=<name>', () => {
      for (const metric of Object.values(HOST_METRICS)) {
        const watching = alarmsOf(synth.doc).filter((a) => a.metric_name === metric.name);
        expect({ metric: metric.name, count: watching.length }).toEqual({ metric: metric.name, count: 1 });
        expect(watching[0]).toMatchObject({ namespace: 'ProviderHost', dimensions: { Environment: 'example' } });
      }
    });

    it('every alarm\'s runbook exists in docs/operations.md, with the alarm in its table', () => {
      const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
      for (const a of alarmsOf(synth.doc)) {
        const slug = String(a.alarm_name).replace(/^provider-example-/, '');
        expect({ slug, heading: doc.includes(`\n### ${slug}\n`), row: doc.includes(`| \`${slug}\``) }).toEqual({ slug, heading: true, row: true });
      }
    });

    it('alarm names are within CloudWatch\'s rules', () => {
      for (const a of alarmsOf(synth.doc)) expect(operationsNameProblem('CloudWatch alarm name', String(a.alarm_name))).toBeUndefined();
      expect(operationsNameProblem('CloudWatch alarm name', 'x'.repeat(256))).toBe(`CloudWatch alarm name "${'x'.repeat(256)}" is not valid: use 1-255 characters, no control characters`);
      expect(operationsNameProblem('CloudWatch alarm name', 'a\nb')).toMatch(/not valid/);
      expect(operationsNameProblem('CloudWatch metric namespace', 'AWS/Custom')).toMatch(/not starting with ":" or "AWS\/"/);
      expect(operationsNameProblem('CloudWatch Logs group name', '/provider-host/a b')).toMatch(/not valid/);
      expect(operationsNameProblem('CloudWatch Logs metric filter name', 'a:b')).toMatch(/no ":" or "\*"/);
      expect(operationsNameProblem('SNS topic name', 'a.b')).toMatch(/not valid/);
      expect(operationsNameProblem('CloudWatch dashboard name', 'provider-example')).toBeUndefined();
    });
  });

  describe('log groups and metric filters', () => {
    it('one log group per kind, kept operations.logs.retentionDays, at pinned ids', () => {
      expect(resources(synth.doc, 'aws_cloudwatch_log_group')).toEqual({
        log_group_nginx_access: { name: '/provider-host/example/nginx-access', retention_in_days: 30 },
        log_group_nginx_error: { name: '/provider-host/example/nginx-error', retention_in_days: 30 },
        log_group_app: { name: '/provider-host/example/app', retention_in_days: 30 },
        log_group_host_scripts: { name: '/provider-host/example/host-scripts', retention_in_days: 30 },
      });
      const { json } = synthStack(exampleConfig({ operations: { logs: { retentionDays: 365 } } }));
      expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/provider-host/example/app', retention_in_days: 365 });
    });

    it('the metric filters read the access log group into ProviderHost/<name>, with these patterns', () => {
      const filters = Object.values(resources(synth.doc, 'aws_cloudwatch_log_metric_filter'));
      expect(filters.map((f) => [f.name, f.pattern, (f.metric_transformation as Resource).value, (f.metric_transformation as Resource).default_value]).sort()).toEqual([
        ['provider-example-BytesSent', '{ $.bytes_sent >= 0 }', '$.bytes_sent', undefined],
        ['provider-example-RequestTime', '{ $.request_time >= 0 }', '$.request_time', undefined],
        ['provider-example-Requests', '{ $.status > 0 }', '1', undefined],
        ['provider-example-Status2xx', '{ $.status >= 200 && $.status < 300 }', '1', '0'],
        ['provider-example-Status4xx', '{ $.status >= 400 && $.status < 500 }', '1', '0'],
        ['provider-example-Status503', '{ $.status = 503 }', '1', '0'],
        ['provider-example-Status5xx', '{ $.status >= 500 }', '1', '0'],
      ]);
      for (const f of filters) {
        expect(f.log_group_name).toBe('${aws_cloudwatch_log_group.log_group_nginx_access.name}');
        expect(f.metric_transformation).toMatchObject({ namespace: 'ProviderHost/example' });
        // A metric filter with a default value cannot have dimensions, and needs none here.
        expect(f.metric_transformation).not.toHaveProperty('dimensions');
      }
    });

    it('every field a filter reads is a field of nginx\'s log_format provider_json, logged as a number', () => {
      const { fields } = accessLogFormat();
      expect(fields.size).toBeGreaterThan(10);
      for (const f of Object.values(resources(synth.doc, 'aws_cloudwatch_log_metric_filter'))) {
        expect(filterProblems(String(f.pattern), String((f.metric_transformation as Resource).value), fields)).toEqual([]);
      }
    });

    it('the field check catches a renamed or re-quoted field in the log format', () => {
      const text = fs.readFileSync(path.join(PROJECT_ROOT, 'nginx', 'snippets', 'log-format.conf'), 'utf8');
      const renamed = accessLogFormat(text.replace('"status":$status', '"http_status":$status')).fields;
      expect(filterProblems(ACCESS_LOG_METRICS.status5xx.pattern, '1', renamed)).toEqual(['{ $.status >= 500 }: no field status in log_format provider_json']);
      const quoted = accessLogFormat(text.replace('"request_time":$request_time', '"request_time":"$request_time"')).fields;
      expect(filterProblems(ACCESS_LOG_METRICS.requestTime.pattern, '$.request_time', quoted)).toEqual([
        '{ $.request_time >= 0 }: request_time is logged as a string; a numeric comparison never matches it',
        '$.request_time: not a numeric field of log_format provider_json',
      ]);
    });

    it('counts what it says on lines nginx writes (2xx, 4xx, 503 as 5xx and 503)', () => {
      const { template } = accessLogFormat();
      const line = (status: string) => accessLine(template, { status, body_bytes_sent: '512', request_time: '0.004' });
      const counted = (status: string) => Object.entries(ACCESS_LOG_METRICS).filter(([, m]) => matches(m.pattern, line(status))).map(([k]) => k).sort();
      expect(counted('200')).toEqual(['bytesSent', 'requestTime', 'requests', 'status2xx']);
      expect(counted('403')).toEqual(['bytesSent', 'requestTime', 'requests', 'status4xx']);
      expect(counted('444')).toEqual(['bytesSent', 'requestTime', 'requests', 'status4xx']);
      expect(counted('503')).toEqual(['bytesSent', 'requestTime', 'requests', 'status503', 'status5xx']);
      expect(counted('502')).toEqual(['bytesSent', 'requestTime', 'requests', 'status5xx']);
      expect(line('200')).toMatchObject({ status: 200, bytes_sent: 512, request_time: 0.004 });
    });
  });

  describe('outside-in check', () => {
    it('a Route53 HTTPS health check of the domain on 443, path from config, SNI, every 30 s, 3 failures', () => {
      expect(resources(synth.doc, 'aws_route53_health_check')).toEqual({
        outside_check: {
          type: 'HTTPS', fqdn: 'example.energydata.org.uk', port: 443, resource_path: '/ping', enable_sni: true,
          request_interval: 30, failure_threshold: 3, tags: { Name: 'provider-example-outside-check' },
        },
      });
      // Default checker regions: none listed.
      expect(only(synth.doc, 'aws_route53_health_check')).not.toHaveProperty('regions');
      const { json } = synthStack(exampleConfig({ operations: { outsideCheck: { path: '/health' } } }));
      expect(json).toHaveResourceWithProperties(Route53HealthCheck, { resource_path: '/health' });
    });

    it('its alarm lives in us-east-1 (the only region with Route53 metrics), on a second provider with the same default tags', () => {
      const providers = synth.doc.provider.aws as { alias?: string; region: string; default_tags: unknown }[];
      expect(providers.map((p) => [p.alias, p.region])).toEqual([[undefined, 'eu-west-2'], ['us_east_1', 'us-east-1']]);
      expect(providers[1].default_tags).toEqual(providers[0].default_tags);
      expect(alarm(synth.doc, 'provider-example-outside-check')).toMatchObject({
        provider: 'aws.us_east_1', namespace: 'AWS/Route53', metric_name: 'HealthCheckStatus', dimensions: { HealthCheckId: HEALTH_CHECK },
        statistic: 'Minimum', period: 60, evaluation_periods: 2, comparison_operator: 'LessThanThreshold', threshold: 1,
        alarm_actions: [TOPIC_US_EAST_1], ok_actions: [TOPIC_US_EAST_1],
      });
    });

    it('the us-east-1 provider follows the default provider\'s tags (one source: they cannot differ)', () => {
      const { stack } = synthStack(exampleConfig({ operations: NOTIFY }));
      const aws = stack.node.findChild('aws') as AwsProvider;
      aws.defaultTags = [{ tags: { Environment: 'example', ManagedBy: 'someone-else' } }];
      const providers = (JSON.parse(Testing.synth(stack)) as TerraformJson).provider.aws as { default_tags: unknown }[];
      expect(providers.map((p) => p.default_tags)).toEqual([
        [{ tags: { Environment: 'example', ManagedBy: 'someone-else' } }],
        [{ tags: { Environment: 'example', ManagedBy: 'someone-else' } }],
      ]);
    });

    it('notifies a us-east-1 topic with the same subscriptions, which CloudWatch there may publish to', () => {
      expect(resources(synth.doc, 'aws_sns_topic').alerts_topic_us_east_1).toEqual({ name: 'provider-example-alerts', display_name: 'provider-example alerts', provider: 'aws.us_east_1' });
      const subscriptions = Object.values(resources(synth.doc, 'aws_sns_topic_subscription')).filter((s) => s.topic_arn === TOPIC_US_EAST_1);
      expect(subscriptions.map((s) => [s.protocol, s.endpoint, s.provider]).sort()).toEqual([
        ['email', EMAILS[1], 'aws.us_east_1'], ['email', EMAILS[0], 'aws.us_east_1'], ['https', HOOK, 'aws.us_east_1'],
      ].sort());
      const policy = Object.values(resources(synth.doc, 'aws_sns_topic_policy')).find((p) => p.arn === TOPIC_US_EAST_1);
      expect(policy?.provider).toBe('aws.us_east_1');
      expect(documentOf(synth.doc, policy?.policy)[0].condition).toContainEqual({
        test: 'ArnLike', variable: 'aws:SourceArn', values: [`arn:${PARTITION}:cloudwatch:us-east-1:${ACCOUNT}:alarm:provider-example-*`],
      });
    });

    it('in a us-east-1 environment: one provider, one topic', () => {
      const { doc } = synthStack(exampleConfig({ region: 'us-east-1', operations: NOTIFY }));
      expect((doc.provider.aws as unknown[]).length).toBe(1);
      expect(Object.keys(resources(doc, 'aws_sns_topic'))).toEqual(['alerts_topic']);
      expect(alarm(doc, 'provider-example-outside-check')).toMatchObject({ alarm_actions: [TOPIC], ok_actions: [TOPIC] });
      expect(alarm(doc, 'provider-example-outside-check')).not.toHaveProperty('provider');
    });

    it('switched off: no health check, no second provider, no us-east-1 topic', () => {
      const { doc } = synthStack(exampleConfig({ operations: { outsideCheck: { enabled: false } } }));
      expect(resources(doc, 'aws_route53_health_check')).toEqual({});
      expect((doc.provider.aws as unknown[]).length).toBe(1);
      expect(Object.keys(resources(doc, 'aws_sns_topic'))).toEqual(['alerts_topic']);
      expect(alarmsOf(doc).map((a) => a.alarm_name)).not.toContain('provider-example-outside-check');
    });

    it('says in its code that Route53 does not validate the certificate, and what covers validity', () => {
      const source = fs.readFileSync(path.join(__dirname, 'constructs', 'outside-check.ts'), 'utf8');
      expect(source).toMatch(/Route53 does NOT validate the server certificate/);
      expect(source).toMatch(/CertificateDaysLeft/);
    });
  });

  describe('dashboard', () => {
    const widgetsOf = (doc: TerraformJson) => {
      const dashboard = only(doc, 'aws_cloudwatch_dashboard');
      return { name: dashboard.dashboard_name, widgets: (JSON.parse(String(dashboard.dashboard_body)) as { widgets: { type: string; properties: { title: string; region: string; metrics: unknown[][] } }[] }).widgets };
    };

    it('is named <namePrefix> and has the widgets operators look at', () => {
      const { name, widgets } = widgetsOf(synth.doc);
      expect(name).toBe('provider-example');
      expect(widgets.map((w) => w.properties.title)).toEqual([
        'Requests (per 5 minutes)', 'Status codes (per 5 minutes)', 'Latency (nginx request_time, seconds)', 'Bytes sent (per 5 minutes)',
        'Certificate days left', 'CRL hours left (first nextUpdate)', 'Host memory and disk (%)', 'Outside check (Route53, 1 = healthy)',
      ]);
    });

    it('every widget metric is one something publishes: a metric filter, the host, the agent, or an alarm\'s', () => {
      const published = new Set<string>();
      for (const f of Object.values(resources(synth.doc, 'aws_cloudwatch_log_metric_filter'))) {
        const t = f.metric_transformation as Resource;
        published.add(JSON.stringify([t.namespace, t.name, {}]));
      }
      for (const a of alarmsOf(synth.doc)) published.add(JSON.stringify([a.namespace, a.metric_name, a.dimensions ?? {}]));
      const { widgets } = widgetsOf(synth.doc);
      for (const widget of widgets) {
        for (const line of widget.properties.metrics) {
          const [namespace, metric, ...rest] = line as string[];
          const pairs = rest.filter((x) => typeof x === 'string');
          const dimensions = Object.fromEntries(Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i], pairs[2 * i + 1]]));
          const key = JSON.stringify([namespace, metric, dimensions]);
          expect({ widget: widget.properties.title, metric: key, published: published.has(key) }).toEqual({ widget: widget.properties.title, metric: key, published: true });
        }
      }
    });

    it('draws every widget from the environment\'s region but the outside check (us-east-1)', () => {
      const { widgets } = widgetsOf(synth.doc);
      expect(widgets.filter((w) => w.properties.region === 'us-east-1').map((w) => w.properties.title)).toEqual(['Outside check (Route53, 1 = healthy)']);
      expect(widgets.every((w) => w.type === 'metric')).toBe(true);
    });

    it('can be switched off (and then has no output)', () => {
      const { doc } = synthStack(exampleConfig({ operations: { dashboard: false } }));
      expect(resources(doc, 'aws_cloudwatch_dashboard')).toEqual({});
      expect(doc.output).not.toHaveProperty('dashboard_url');
    });
  });

  describe('IAM: the instance role may report, and no more', () => {
    const telemetry = (doc: TerraformJson): Statement[] => {
      const policy = Object.values(resources(doc, 'aws_iam_role_policy')).find((p) => p.name === 'provider-host-telemetry');
      expect(policy?.role).toBe('${aws_iam_role.access_role_545049AB.id}');
      return documentOf(doc, policy?.policy);
    };
    const group = (key: string) => `\${aws_cloudwatch_log_group.log_group_${key}.arn}`;
    const GROUPS = ['nginx_access', 'nginx_error', 'app', 'host_scripts'].map(group);

    it('creates streams in, and writes to, exactly the environment\'s log groups', () => {
      const [streams, events] = telemetry(synth.doc);
      expect(streams).toEqual({ sid: 'CreateHostLogStreams', effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams'], resources: GROUPS.flatMap((g) => [g, `${g}:*`]) });
      expect(events).toEqual({ sid: 'PutHostLogEvents', effect: 'Allow', actions: ['logs:PutLogEvents'], resources: GROUPS.map((g) => `${g}:log-stream:*`) });
    });

    it('puts metrics only into ProviderHost and CWAgent', () => {
      expect(telemetry(synth.doc)[2]).toEqual({
        sid: 'PutHostMetrics', effect: 'Allow', actions: ['cloudwatch:PutMetricData'], resources: ['*'],
        condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: ['ProviderHost', 'CWAgent'] }],
      });
    });

    it('no "*" resource but PutMetricData\'s (which has none) under its namespace condition; no EC2 describe, no log group creation', () => {
      const statements = telemetry(synth.doc);
      expect(statements).toHaveLength(3);
      for (const s of statements) {
        if (s.resources?.includes('*')) {
          expect(s.actions).toEqual(['cloudwatch:PutMetricData']);
          expect(s.condition?.map((c) => c.variable)).toEqual(['cloudwatch:namespace']);
        }
        for (const r of s.resources ?? []) expect(r === '*' || r.startsWith('${aws_cloudwatch_log_group.')).toBe(true);
      }
      const actions = statements.flatMap((s) => s.actions);
      expect(actions.filter((a) => /^ec2:|logs:CreateLogGroup|logs:\*|cloudwatch:\*|logs:PutRetentionPolicy/.test(a))).toEqual([]);
      // The topic policies name their topic, never "*".
      for (const p of Object.values(resources(synth.doc, 'aws_sns_topic_policy'))) {
        for (const s of documentOf(synth.doc, p.policy)) expect(s.resources).toEqual([p.arn]);
      }
    });

    it('adds nothing else: still one role, one KMS key', () => {
      expect(Object.keys(resources(synth.doc, 'aws_iam_role'))).toHaveLength(1);
      expect(Object.keys(resources(synth.doc, 'aws_kms_key'))).toEqual(['data_key']);
    });
  });

  describe('the CloudWatch agent configuration for the host', () => {
    it('rendered on the host from the host config the stack writes (PH_ENVIRONMENT), ships to exactly the log groups the stack creates', () => {
      const agent = hostRenderedAgentConfig(synth.doc);
      expect(agent.logs.logs_collected.files.collect_list.map((f) => f.file_path).sort()).toEqual(Object.values(HOST_LOG_PATHS).sort());
      const created = new Set(Object.values(resources(synth.doc, 'aws_cloudwatch_log_group')).map((g) => g.name));
      const used = new Set(agent.logs.logs_collected.files.collect_list.map((f) => f.log_group_name));
      expect(used).toEqual(created);
    });

    it('is not in the Terraform JSON (its "${aws:InstanceId}" would be read as an interpolation)', () => {
      expect(synth.json).not.toContain('aws:InstanceId');
    });
  });

  describe('outputs and AWS\'s rules', () => {
    it('outputs the alerts topic and the dashboard\'s address, described', () => {
      expect(synth.doc.output.alerts_topic_arn).toEqual({ value: TOPIC, description: expect.any(String) });
      expect(synth.doc.output.dashboard_url).toEqual({
        value: 'https://eu-west-2.console.aws.amazon.com/cloudwatch/home?region=eu-west-2#dashboards/dashboard/provider-example',
        description: expect.any(String),
      });
    });

    it('every tag of the new resources (both providers\' default tags included) is one AWS accepts', () => {
      expect(synth.stack.awsRuleProblems()).toEqual([]);
    });

    it('a bad operations value stops the environment, naming the field', () => {
      expect(problems({ alarms: { diskUsedPercent: 120 } })).toEqual(['operations.alarms.diskUsedPercent: 120 is over 100; give a percentage 1-100']);
      expect(problems({ logs: { retentionDays: 10 } })[0]).toMatch(/^operations\.logs\.retentionDays: 10 is not a retention CloudWatch Logs accepts; use one of 1, 3, 5, 7, 14, 30,/);
    });

    it('two environments in one account never share a topic, log group, metric namespace, alarm or dashboard', () => {
      const other = synthStack(exampleConfig({ name: 'staging', domain: 'staging.energydata.org.uk', operations: NOTIFY })).doc;
      const names = (doc: TerraformJson) => [
        ...Object.values(resources(doc, 'aws_sns_topic')).map((t) => `${String(t.provider ?? '')}${String(t.name)}`),
        ...Object.values(resources(doc, 'aws_cloudwatch_log_group')).map((g) => g.name),
        ...Object.values(resources(doc, 'aws_cloudwatch_log_metric_filter')).map((f) => (f.metric_transformation as Resource).namespace),
        ...alarmsOf(doc).map((a) => a.alarm_name),
        ...Object.values(resources(doc, 'aws_cloudwatch_dashboard')).map((d) => d.dashboard_name),
      ];
      const shared = names(synth.doc).filter((n) => names(other).includes(n));
      expect(shared).toEqual([]);
    });
  });
});

describe('the daily access report (operations.report)', () => {
  const REPORT = { ...NOTIFY, report: { enabled: true } };
  const IDENTITY_ARN = '${aws_sesv2_email_identity.report_identity.arn}';
  const BUCKET_ARN = '${aws_s3_bucket.data_bucket.arn}';
  const hostEnvOf = (doc: TerraformJson) => String(only(doc, 'aws_ssm_parameter').value);
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthStack(exampleConfig({ operations: REPORT }));
  });

  it('GIVEN report off (the default) THEN no identity, no DKIM record, no report policy, and no report setting reaches the host', () => {
    const { doc } = synthStack(exampleConfig({ operations: NOTIFY }));
    expect(resources(doc, 'aws_sesv2_email_identity')).toEqual({});
    expect(Object.keys(resources(doc, 'aws_route53_record')).filter((id) => id.startsWith('report_'))).toEqual([]);
    expect(Object.values(resources(doc, 'aws_iam_role_policy')).map((p) => p.name)).not.toContain('provider-host-report');
    expect(hostEnvOf(doc)).not.toMatch(/PH_REPORT_/);
  });

  it('an SES domain identity for `domain`, with Easy DKIM (2048-bit keys), at a pinned id', () => {
    expect(only(synth.doc, 'aws_sesv2_email_identity')).toMatchObject({
      email_identity: 'example.energydata.org.uk',
      dkim_signing_attributes: { next_signing_key_length: 'RSA_2048_BIT' },
    });
    expect(Object.keys(resources(synth.doc, 'aws_sesv2_email_identity'))).toEqual(['report_identity']);
  });

  it("three DKIM CNAME records in the provider's hosted zone, one per token of the identity", () => {
    const zoneId = resources(synth.doc, 'aws_route53_record').dns_a!.zone_id;
    const dkim = Object.entries(resources(synth.doc, 'aws_route53_record')).filter(([id]) => id.startsWith('report_dkim_'));
    expect(dkim.map(([id]) => id).sort()).toEqual(['report_dkim_0', 'report_dkim_1', 'report_dkim_2']);
    for (const [id, record] of dkim) {
      const index = Number(id.slice(-1));
      const token = `\${element(aws_sesv2_email_identity.report_identity.dkim_signing_attributes[0].tokens, ${index})}`;
      expect(record).toMatchObject({
        zone_id: zoneId,
        type: 'CNAME',
        name: `${token}._domainkey.example.energydata.org.uk`,
        records: [`${token}.dkim.amazonses.com`],
      });
    }
  });

  it('the instance role may send from the configured address on exactly that identity, and write exactly the two report keys; no wildcard', () => {
    const policy = Object.values(resources(synth.doc, 'aws_iam_role_policy')).find((p) => p.name === 'provider-host-report')!;
    expect(policy.role).toMatch(/^\$\{aws_iam_role\.access_role_[A-Za-z0-9]+\.id\}$/);
    const statements = documentOf(synth.doc, policy.policy);
    expect(statements).toEqual([
      {
        sid: 'SendDailyReport', effect: 'Allow', actions: ['ses:SendEmail', 'ses:SendRawEmail'], resources: [IDENTITY_ARN],
        condition: [{ test: 'StringEquals', variable: 'ses:FromAddress', values: ['reports@example.energydata.org.uk'] }],
      },
      { sid: 'WriteDailyReport', effect: 'Allow', actions: ['s3:PutObject'], resources: [`${BUCKET_ARN}/host-status/access-report.html`, `${BUCKET_ARN}/host-status/access-report.json`] },
    ]);
    expect(JSON.stringify(statements)).not.toContain('*');
  });

  it('the host config carries the sender, the recipients (default: the alert subscribers) and the hour', () => {
    const lines = hostEnvOf(synth.doc).split('\n');
    expect(lines).toEqual(expect.arrayContaining(['PH_REPORT_SENDER=reports@example.energydata.org.uk', `PH_REPORT_RECIPIENTS=${EMAILS.join(',')}`, 'PH_REPORT_HOUR=6']));
    const custom = synthStack(exampleConfig({ operations: { ...NOTIFY, report: { enabled: true, sender: 'access@example.energydata.org.uk', recipients: ['data-team@example.org'], hourUtc: 22 } } }));
    expect(hostEnvOf(custom.doc).split('\n')).toEqual(expect.arrayContaining(['PH_REPORT_SENDER=access@example.energydata.org.uk', 'PH_REPORT_RECIPIENTS=data-team@example.org', 'PH_REPORT_HOUR=22']));
    const policy = Object.values(resources(custom.doc, 'aws_iam_role_policy')).find((p) => p.name === 'provider-host-report')!;
    expect(documentOf(custom.doc, policy.policy)[0]!.condition).toEqual([{ test: 'StringEquals', variable: 'ses:FromAddress', values: ['access@example.energydata.org.uk'] }]);
  });

  it.each([
    [{ enabled: true, sender: 'reports@elsewhere.org' }, 'operations.report.sender: "reports@elsewhere.org" is not an address at "example.energydata.org.uk"'],
    [{ enabled: true, sender: 'not an address' }, 'operations.report.sender: "not an address" is not an e-mail address'],
    [{ enabled: true, recipients: ['ops@example.org', 'OPS@example.org'] }, 'operations.report.recipients[1]: "OPS@example.org" is listed twice'],
    [{ enabled: true, recipients: ['ops@example.org', 'x y@example.org'] }, 'operations.report.recipients[1]: "x y@example.org" is not an e-mail address'],
    [{ enabled: true, recipients: Array.from({ length: 51 }, (_u, i) => `r${i}@example.org`) }, 'operations.report.recipients: give at most 50 addresses'],
    [{ enabled: true, hourUtc: 24 }, 'operations.report.hourUtc: 24 is over 23; give an hour (UTC) 0-23'],
    [{ enabled: true, hourUtc: 6.5 }, 'operations.report.hourUtc: 6.5 is not a whole number'],
    [{ enabled: 'yes' }, 'operations.report.enabled: "yes" is not a boolean'],
  ])('refuses %j with a message naming the field and the fix', (report, message) => {
    expect(problems({ ...NOTIFY, report }).join('\n')).toContain(message);
  });

  it('refuses a report nobody would receive (no recipients and no alert subscribers)', () => {
    expect(problems({ report: { enabled: true } }).join('\n')).toContain('operations.report.recipients: nobody would receive the report: give operations.report.recipients, or operations.notify.emails');
    expect(() => exampleConfig({ operations: { report: { enabled: true, recipients: ['data-team@example.org'] } } })).not.toThrow();
  });
});

describe('ReportMail used without the schema', () => {
  it('refuses a sender off the identity, no recipients and a bad hour at synthesis, naming each', () => {
    const stack = new TerraformStack(Testing.app(), 'report-mail');
    new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
    expect(() => new ReportMail(stack, 'report', {
      domain: 'provider.example.org', zoneId: 'Z123', roleId: 'role', bucketArn: 'arn:aws:s3:::bucket',
      report: { sender: 'reports@elsewhere.org', recipients: [], hourUtc: 25 },
    })).toThrow(new InputError('operations.report: sender "reports@elsewhere.org" is not an address at "provider.example.org" (the SES identity); no recipients; hour 25 is not a UTC hour 0-23'));
  });
});
