/**
 * The CloudWatch agent's configuration: valid against the agent's own JSON schema
 * (schema.json, from aws/amazon-cloudwatch-agent), collecting exactly the files the host
 * writes (checked against the host scripts' layout) into the stack's log groups, and
 * emitting exactly the metrics and dimensions the alarms watch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { PROJECT_ROOT } from '../../lib/project-paths';
import { AGENT_USER, cloudWatchAgentConfig, HOST_LOG_PATHS, INSTANCE_ID_PLACEHOLDER, TIMESTAMP_FORMATS, type CloudWatchAgentConfig } from './agent-config';
import { AGENT_METRICS, CW_AGENT_NAMESPACE } from './host-metrics';

const SCHEMA_FILE = path.join(__dirname, 'schema.json');
const LOG_GROUPS = {
  nginxAccess: '/provider-host/example/nginx-access',
  nginxError: '/provider-host/example/nginx-error',
  app: '/provider-host/example/app',
  hostScripts: '/provider-host/example/host-scripts',
};

type Schema = Record<string, unknown>;
const agentSchema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as Schema;

/** Every keyword of the schema, recursively (to check what the validator is asked to do). */
function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) node.forEach((item) => walk(item, visit));
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      visit(key, value);
      walk(value, visit);
    }
  }
}

/**
 * The schema is draft-04; ajv 8 reads draft-06 and later. The two agree on everything
 * this schema uses (checked below: no boolean exclusiveMinimum/Maximum, no "id"), so it
 * is compiled with its "$schema" line set aside.
 */
function validator() {
  const { $schema: _draft, ...schema } = agentSchema;
  void _draft;
  const ajv = new Ajv({ strict: false, allErrors: true });
  return ajv.compile(schema);
}

const config = (overrides: Partial<Parameters<typeof cloudWatchAgentConfig>[0]> = {}): CloudWatchAgentConfig =>
  cloudWatchAgentConfig({ environment: 'example', logGroups: LOG_GROUPS, ...overrides });

describe('the agent schema (schema.json)', () => {
  it('is the agent\'s own schema: draft-04, its title, the sections it configures', () => {
    expect(agentSchema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(agentSchema.description).toBe('Amazon CloudWatch Agent JSON Schema');
    expect(Object.keys(agentSchema.properties as object)).toEqual(expect.arrayContaining(['agent', 'metrics', 'logs']));
  });

  it('uses nothing draft-04 and ajv 8 read differently', () => {
    const differing: string[] = [];
    walk(agentSchema, (key, value) => {
      if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'boolean') differing.push(key);
      if (key === 'id' && typeof value === 'string') differing.push(key);
    });
    expect(differing).toEqual([]);
  });

  it('refuses what the agent refuses (the validator is not a no-op)', () => {
    const validate = validator();
    const good = config();
    expect(validate(good)).toBe(true);
    const badTimezone = JSON.parse(JSON.stringify(good)) as { logs: { logs_collected: { files: { collect_list: Record<string, unknown>[] } } } };
    badTimezone.logs.logs_collected.files.collect_list[0].timezone = 'CET';
    expect(validate(badTimezone)).toBe(false);
    const unknownKey = JSON.parse(JSON.stringify(good)) as { logs: { logs_collected: { files: { collect_list: Record<string, unknown>[] } } } };
    unknownKey.logs.logs_collected.files.collect_list[0].log_group = 'x';
    expect(validate(unknownKey)).toBe(false);
    expect(validate({ metrics: { metrics_collected: { disk: { resources: ['/'] } } } })).toBe(false); // disk needs "measurement"
  });
});

describe('cloudWatchAgentConfig', () => {
  it('is valid against the agent\'s schema, with defaults and with another interval', () => {
    const validate = validator();
    for (const candidate of [config(), config({ metricsIntervalSeconds: 300 })]) {
      const ok = validate(candidate);
      expect({ ok, errors: validate.errors ?? [] }).toEqual({ ok: true, errors: [] });
    }
  });

  it('runs as cwagent, not root', () => {
    expect(config().agent.run_as_user).toBe(AGENT_USER);
    expect(AGENT_USER).toBe('cwagent');
  });

  it('ships each host log to its group, one stream per instance', () => {
    const list = config().logs.logs_collected.files.collect_list;
    expect(list.map((f) => [f.file_path, f.log_group_name, f.log_stream_name])).toEqual([
      ['/var/log/nginx/access.json.log', LOG_GROUPS.nginxAccess, '{instance_id}'],
      ['/var/log/nginx/error.log', LOG_GROUPS.nginxError, '{instance_id}'],
      ['/home/provider/.pm2/logs/provider-*.log', LOG_GROUPS.app, '{instance_id}'],
      ['/var/log/provider-host/*.log', LOG_GROUPS.hostScripts, '{instance_id}'],
      ['/var/log/cloud-init-output.log', LOG_GROUPS.hostScripts, '{instance_id}/cloud-init-output'],
      ['/var/log/letsencrypt/letsencrypt.log', LOG_GROUPS.hostScripts, '{instance_id}/letsencrypt'],
    ]);
    // A glob without publish_multi_logs would ship only the newest matching file.
    for (const entry of list.filter((f) => f.file_path.includes('*'))) expect(entry.publish_multi_logs).toBe(true);
    // Two files in one group never share a stream.
    const streams = list.map((f) => `${f.log_group_name} ${f.log_stream_name}${f.publish_multi_logs ? ' <file>' : ''}`);
    expect(new Set(streams).size).toBe(streams.length);
  });

  it('parses the timestamps the host writes', () => {
    const byFile = Object.fromEntries(config().logs.logs_collected.files.collect_list.map((f) => [f.file_path, f]));
    expect(byFile[HOST_LOG_PATHS.nginxAccess]).toMatchObject({ timestamp_format: '%Y-%m-%dT%H:%M:%S', timezone: 'Local' });
    expect(byFile[HOST_LOG_PATHS.nginxError]).toMatchObject({ timestamp_format: '%Y/%m/%d %H:%M:%S', multi_line_start_pattern: '{timestamp_format}' });
    expect(byFile[HOST_LOG_PATHS.hostScriptsLogGlob]).toMatchObject({ timestamp_format: TIMESTAMP_FORMATS.hostScripts, timezone: 'UTC' });
    // The agent's %z reads "+0000", not nginx's "+00:00": the access log's offset is left out.
    const strftimeToRegex = (format: string) => new RegExp(format.replace(/%Y/g, '\\d{4}').replace(/%[mdHMS]/g, '\\d{2}'));
    expect('{"time":"2026-01-31T12:00:00+00:00","status":200}').toMatch(strftimeToRegex(TIMESTAMP_FORMATS.nginxAccess));
    expect('2026/01/31 12:00:00 [error] 1234#0: *1 connect() failed').toMatch(new RegExp(`^${strftimeToRegex(TIMESTAMP_FORMATS.nginxError).source}`));
    expect('2026-01-31T12:00:00Z setup: changed: nginx site').toMatch(new RegExp(`^${strftimeToRegex(TIMESTAMP_FORMATS.hostScripts).source}`));
  });

  it('collects mem_used_percent and disk_used_percent of "/" with only InstanceId (+ path) as dimensions', () => {
    const { metrics } = config();
    expect(metrics.namespace).toBe(CW_AGENT_NAMESPACE);
    expect(metrics.append_dimensions).toEqual({ InstanceId: INSTANCE_ID_PLACEHOLDER });
    expect(metrics.aggregation_dimensions).toEqual([['InstanceId', 'path']]);
    expect(metrics.metrics_collected.mem.measurement).toEqual([AGENT_METRICS.memoryUsedPercent]);
    expect(metrics.metrics_collected.disk).toMatchObject({ measurement: ['used_percent'], resources: ['/'], drop_device: true, drop_original_metrics: [AGENT_METRICS.diskUsedPercent] });
    // The agent names a disk measurement "disk_<name>".
    expect(`disk_${metrics.metrics_collected.disk.measurement[0]}`).toBe(AGENT_METRICS.diskUsedPercent);
    expect(Object.keys(metrics.metrics_collected).sort()).toEqual(['disk', 'mem']);
  });

  it('needs no EC2 API (no tag or volume dimensions): the instance role gets no ec2:Describe*', () => {
    const text = JSON.stringify(config());
    expect(text).not.toMatch(/ec2_metadata_tags|ec2_instance_tag_keys|AutoScalingGroupName|VolumeId/);
    // Its only "${" is the agent's placeholder (see the file's comment on Terraform).
    expect(text.match(/\$\{[^}]*\}/g)).toEqual([INSTANCE_ID_PLACEHOLDER]);
  });

  it('samples every metricsIntervalSeconds', () => {
    const { agent, metrics } = config({ metricsIntervalSeconds: 30 });
    expect(agent.metrics_collection_interval).toBe(30);
    expect(metrics.metrics_collected.mem.metrics_collection_interval).toBe(30);
    expect(metrics.metrics_collected.disk.metrics_collection_interval).toBe(30);
  });

  it('refuses a bad log group name, a relative path and a bad interval, naming each', () => {
    expect(() => config({ logGroups: { ...LOG_GROUPS, app: 'has space' } })).toThrow('log group app "has space" is not a CloudWatch Logs group name');
    expect(() => config({ paths: { ...HOST_LOG_PATHS, nginxAccess: 'access.log' } })).toThrow('path nginxAccess "access.log" is not an absolute path without spaces');
    expect(() => config({ metricsIntervalSeconds: 0 })).toThrow('metricsIntervalSeconds 0 is not a whole number of seconds 1-86400');
  });
});

describe('HOST_LOG_PATHS follow the host layout', () => {
  const common = fs.readFileSync(path.join(PROJECT_ROOT, 'host', 'scripts', 'lib', 'common.sh'), 'utf8');
  const fallback = (name: string): string => {
    const m = new RegExp(`: "\\$\\{${name}:=([^}"]+)\\}"`).exec(common);
    if (!m) throw new Error(`common.sh sets no default for ${name}`);
    return m[1];
  };
  const expand = (value: string): string => value.replace(/\$([A-Z_]+)/g, (_m, name: string) => expand(fallback(name)));

  it('nginx logs (PH_NGINX_LOG_DIR; the site\'s access_log and log_format)', () => {
    const dir = expand(fallback('PH_NGINX_LOG_DIR'));
    expect(HOST_LOG_PATHS.nginxError).toBe(`${dir}/error.log`);
    const site = fs.readFileSync(path.join(PROJECT_ROOT, 'nginx', 'templates', 'mtls-site.conf.tmpl'), 'utf8');
    const accessLogs = [...site.matchAll(/access_log \{\{log_dir\}\}\/(\S+) (\S+);/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(new Set(accessLogs)).toEqual(new Set(['access.json.log provider_json']));
    expect(HOST_LOG_PATHS.nginxAccess).toBe(`${dir}/access.json.log`);
  });

  it('the app\'s PM2 logs (PH_PM2_HOME, PH_APP_NAME; merged cluster logs)', () => {
    expect(HOST_LOG_PATHS.appLogGlob).toBe(`${expand(fallback('PH_PM2_HOME'))}/logs/${fallback('PH_APP_NAME')}-*.log`);
    const ecosystem = fs.readFileSync(path.join(PROJECT_ROOT, 'provider-app', 'ecosystem.config.js'), 'utf8');
    expect(ecosystem).toMatch(/merge_logs: true/);
    expect(ecosystem).toMatch(/name: process\.env\.PROVIDER_APP_NAME \|\| 'provider'/);
  });

  it('the host scripts\' own logs (PH_HOST_LOG_DIR, where log() appends) and cloud-init\'s output (PH_CLOUD_INIT_LOG)', () => {
    expect(HOST_LOG_PATHS.hostScriptsLogGlob).toBe(`${expand(fallback('PH_HOST_LOG_DIR'))}/*.log`);
    expect(HOST_LOG_PATHS.cloudInitOutput).toBe(expand(fallback('PH_CLOUD_INIT_LOG')));
    expect(common).toMatch(/>>"\$PH_HOST_LOG_DIR\/\$\{name%\.sh\}\.log"/);
  });

  it('certbot\'s log (PH_LE_LOGS_DIR) and the host scripts\' timestamp', () => {
    expect(HOST_LOG_PATHS.certbotLog).toBe(`${expand(fallback('PH_LE_LOGS_DIR'))}/letsencrypt.log`);
    expect(common).toMatch(/log\(\) \{ printf '%s %s: %s\\n' "\$\(date -u \+%Y-%m-%dT%H:%M:%SZ\)"/);
  });
});
