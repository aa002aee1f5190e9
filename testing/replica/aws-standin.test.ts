/** The replica's AWS CLI stand-in behaves like the real CLI where the host scripts depend on it. */
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string;
const bucket = () => join(root, 's3', 'bucket');

function aws(...args: string[]) {
  const result = spawnSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), join(__dirname, 'aws-standin.ts'), '--region', 'eu-west-2', ...args], {
    encoding: 'utf8',
    env: { ...process.env, PH_AWS_STANDIN_ROOT: root },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'aws-standin-'));
  mkdirSync(join(bucket(), 'data'), { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

it('prints a parameter value as text, and fails like the CLI for a missing one', () => {
  mkdirSync(join(root, 'ssm', 'app'), { recursive: true });
  writeFileSync(join(root, 'ssm', 'app', 'key'), 'secret-value\n');
  expect(aws('ssm', 'get-parameter', '--name', '/app/key', '--with-decryption', '--query', 'Parameter.Value', '--output', 'text').stdout).toBe('secret-value\n');
  const missing = aws('ssm', 'get-parameter', '--name', '/app/nope', '--query', 'Parameter.Value', '--output', 'text');
  expect(missing.status).toBe(1);
  expect(missing.stderr).toContain('ParameterNotFound');
});

it('never logs a value, only the call', () => {
  mkdirSync(join(root, 'ssm', 'app'), { recursive: true });
  writeFileSync(join(root, 'ssm', 'app', 'key'), 'secret-value\n');
  aws('ssm', 'get-parameter', '--name', '/app/key', '--query', 'Parameter.Value', '--output', 'text');
  const log = readFileSync(join(root, 'calls.log'), 'utf8');
  expect(log).toContain('ssm get-parameter');
  expect(log).not.toContain('secret-value');
});

it('s3 ls exits 1 for a missing key and 0 for an existing one', () => {
  writeFileSync(join(bucket(), 'backup.tgz'), 'x');
  expect(aws('s3', 'ls', 's3://bucket/backup.tgz').status).toBe(0);
  expect(aws('s3', 'ls', 's3://bucket/other.tgz').status).toBe(1);
});

it('s3 sync --delete downloads changes by rename, so a hard-linked old copy keeps its content', () => {
  const dest = join(root, 'local');
  const previous = join(root, 'previous');
  writeFileSync(join(bucket(), 'data', 'a.csv'), 'v1\n');
  writeFileSync(join(bucket(), 'data', 'b.csv'), 'b\n');
  expect(aws('s3', 'sync', '--delete', 's3://bucket/data/', dest).status).toBe(0);
  mkdirSync(previous);
  linkSync(join(dest, 'a.csv'), join(previous, 'a.csv'));

  writeFileSync(join(bucket(), 'data', 'a.csv'), 'v2, longer\n');
  rmSync(join(bucket(), 'data', 'b.csv'));
  expect(aws('s3', 'sync', '--only-show-errors', '--delete', 's3://bucket/data/', dest).status).toBe(0);
  expect(readFileSync(join(dest, 'a.csv'), 'utf8')).toBe('v2, longer\n');
  expect(readFileSync(join(previous, 'a.csv'), 'utf8')).toBe('v1\n');
  expect(() => statSync(join(dest, 'b.csv'))).toThrow();
});

it('refuses a command it does not implement, naming it', () => {
  const result = aws('ec2', 'describe-instances');
  expect(result.status).toBe(255);
  expect(result.stderr).toContain('does not implement "aws ec2 describe-instances"');
});

describe('cloudwatch put-metric-data', () => {
  const data = (entries: unknown) => {
    const file = join(root, 'metric-data.json');
    writeFileSync(file, JSON.stringify(entries));
    return `file://${file}`;
  };
  const recorded = () => readFileSync(join(root, 'cloudwatch', 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));

  it('records each call (namespace, region, every metric with its value, unit and dimensions) in cloudwatch/metrics.jsonl', () => {
    const dims = [{ Name: 'Environment', Value: 'example' }];
    const first = aws('cloudwatch', 'put-metric-data', '--namespace', 'ProviderHost', '--metric-data', data([
      { MetricName: 'CertificateDaysLeft', Dimensions: dims, Value: 61.5, Unit: 'None' },
      { MetricName: 'AppRestarts', Dimensions: dims, Value: 0, Unit: 'Count' },
    ]));
    expect(first).toMatchObject({ status: 0, stdout: '' });
    aws('cloudwatch', 'put-metric-data', '--namespace', 'ProviderHost', '--metric-data', data([{ MetricName: 'AppRestarts', Dimensions: dims, Value: 2, Unit: 'Count' }]));
    expect(recorded()).toEqual([
      {
        namespace: 'ProviderHost',
        region: 'eu-west-2',
        metrics: [
          { name: 'CertificateDaysLeft', value: 61.5, unit: 'None', dimensions: { Environment: 'example' } },
          { name: 'AppRestarts', value: 0, unit: 'Count', dimensions: { Environment: 'example' } },
        ],
      },
      { namespace: 'ProviderHost', region: 'eu-west-2', metrics: [{ name: 'AppRestarts', value: 2, unit: 'Count', dimensions: { Environment: 'example' } }] },
    ]);
    expect(readFileSync(join(root, 'calls.log'), 'utf8')).toContain('cloudwatch put-metric-data ProviderHost file://');
  });

  it('refuses what CloudWatch refuses, naming it, and records nothing', () => {
    const bad = (entries: unknown, namespace = 'ProviderHost') => aws('cloudwatch', 'put-metric-data', '--namespace', namespace, '--metric-data', data(entries));
    expect(bad([{ MetricName: 'X', Value: 'NaN' }]).stderr).toContain('metric 1: Value must be a finite number');
    expect(bad([{ MetricName: 'X', Value: 1, Unit: 'Days' }]).stderr).toContain('metric 1: Unit "Days" is not a CloudWatch unit');
    expect(bad([{ MetricName: 'X', Value: 1, Dimensions: [{ Name: 'Environment', Value: '' }] }]).stderr).toContain('each dimension needs a Name and a Value');
    expect(bad([]).stderr).toContain('a list of 1-1000 metrics');
    expect(bad([{ MetricName: 'X', Value: 1 }], 'AWS/EC2').status).toBe(255);
    expect(aws('cloudwatch', 'put-metric-data', '--namespace', 'ProviderHost', '--metric-data', '[]').stderr).toContain('file:// only');
    expect(() => readFileSync(join(root, 'cloudwatch', 'metrics.jsonl'))).toThrow();
  });
});

describe('sesv2 send-email', () => {
  const content = (subject = 'Access report', body = { Html: { Data: '<p>hi</p>', Charset: 'UTF-8' }, Text: { Data: 'hi', Charset: 'UTF-8' } }) =>
    JSON.stringify({ Simple: { Subject: { Data: subject, Charset: 'UTF-8' }, Body: body } });
  const outbox = () => readFileSync(join(root, 'ses', 'outbox.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  beforeEach(() => {
    mkdirSync(join(root, 'ses'), { recursive: true });
    writeFileSync(join(root, 'ses', 'identities'), 'provider.example.org\n');
  });

  it('records a message from an address on a verified domain identity (destination and content from files or inline) and prints its id', () => {
    writeFileSync(join(root, 'content.json'), content());
    writeFileSync(join(root, 'destination.json'), JSON.stringify({ ToAddresses: ['ops@example.org', 'data@example.org'] }));
    const sent = aws('sesv2', 'send-email', '--from-email-address', 'reports@provider.example.org', '--destination', `file://${join(root, 'destination.json')}`,
      '--content', `file://${join(root, 'content.json')}`, '--query', 'MessageId', '--output', 'text');
    expect(sent).toMatchObject({ status: 0, stderr: '' });
    const [message] = outbox();
    expect(message).toEqual({
      messageId: sent.stdout.trim(), region: 'eu-west-2', from: 'reports@provider.example.org',
      destination: { ToAddresses: ['ops@example.org', 'data@example.org'] }, subject: 'Access report', html: '<p>hi</p>', text: 'hi',
    });
    const shorthand = aws('sesv2', 'send-email', '--from-email-address', 'reports@provider.example.org', '--destination', 'ToAddresses=ops@example.org', '--content', content());
    expect(shorthand.status).toBe(0);
    expect(JSON.parse(shorthand.stdout)).toEqual({ MessageId: expect.any(String) });
    expect(outbox()[1]).toMatchObject({ destination: { ToAddresses: ['ops@example.org'] } });
  });

  it('refuses a From address that is not on a verified identity, as SES does, and records nothing', () => {
    const refused = aws('sesv2', 'send-email', '--from-email-address', 'reports@elsewhere.org', '--destination', 'ToAddresses=ops@example.org', '--content', content());
    expect(refused.status).toBe(254);
    expect(refused.stderr).toContain('(MessageRejected) when calling the SendEmail operation: Email address is not verified. The following identities failed the check in region EU-WEST-2: reports@elsewhere.org');
    expect(() => outbox()).toThrow();
  });

  it('refuses no recipient, a subject with a line break and content without a body', () => {
    const from = ['--from-email-address', 'reports@provider.example.org'];
    expect(aws('sesv2', 'send-email', ...from, '--destination', '{"ToAddresses":[]}', '--content', content()).status).toBe(254);
    expect(aws('sesv2', 'send-email', ...from, '--destination', 'ToAddresses=ops@example.org', '--content', content('a\nBcc: x@evil.example')).stderr).toContain('Illegal header');
    expect(aws('sesv2', 'send-email', ...from, '--destination', 'ToAddresses=ops@example.org', '--content', JSON.stringify({ Simple: { Subject: { Data: 's' }, Body: {} } })).status).toBe(255);
    expect(() => outbox()).toThrow();
  });
});
