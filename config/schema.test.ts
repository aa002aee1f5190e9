/**
 * One test per configuration rule: the valid value passes, the bad one fails with a
 * message naming the field, the value and what would be accepted.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { EnvironmentError, parseEnvironment, type EnvironmentConfig } from './load';
import { PROJECT_ROOT } from '../lib/project-paths';
import { DEFAULT_ISSUER, DEFAULT_PM2_VERSION, environmentSchema } from './schema';

const FILE = path.join(PROJECT_ROOT, 'config', 'environments', 'test.yaml');

/** A minimal valid document (content paths resolve against config/environments). */
function doc(): Record<string, any> {
  return {
    name: 'test',
    hostedZone: { name: 'energydata.org.uk' },
    acme: { email: 'ops@example.org' },
    oauth: { clientId: 'client-1', scope: 'energydata' },
    revocation: { crlUrls: ['http://crl.example.org/root.crl'] },
    content: { trustBundleFile: '../examples/trust-bundle.example.pem', datasetsDir: '../examples/shared_data' },
  };
}

/** Applies `edit` to a fresh minimal document and parses it. */
function parse(edit: (d: Record<string, any>) => void = () => undefined): EnvironmentConfig {
  const d = doc();
  edit(d);
  return parseEnvironment(d, FILE);
}

/** The problems reported for an edited document (fails the test if it parses). */
function problems(edit: (d: Record<string, any>) => void): string[] {
  try {
    parse(edit);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return [...(error as EnvironmentError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe('environment defaults', () => {
  it('fills every documented default from a minimal file', () => {
    const config = parse();
    expect(config).toMatchObject({
      region: 'eu-west-2',
      domain: 'example.energydata.org.uk',
      namePrefix: 'provider-test',
      ssmPrefix: '/provider-host/test',
      instance: { type: 't4g.small', architecture: 'arm64', rootVolumeGiB: 20, ipv6: false },
      admin: { sshCidrs: [] },
      acme: { staging: false },
      oauth: { issuer: DEFAULT_ISSUER },
      secrets: { tlsCertParameter: '/provider-host/test/transport-cert', tlsKeyParameter: '/provider-host/test/transport-key' },
      app: { instances: 2, nodeMajor: 22, pm2Version: DEFAULT_PM2_VERSION, authzCacheSeconds: 1 },
      storage: { retainOnDestroy: true, noncurrentVersionDays: 90 },
    });
    expect(config.backend).toBeUndefined();
    expect(config.admin.sshKeyName).toBeUndefined();
  });

  it('resolves content paths against the config file folder', () => {
    expect(parse().content.datasetsDir).toBe(path.join(PROJECT_ROOT, 'config', 'examples', 'shared_data'));
  });

  it('defaults the PM2 version to the one the tests run (package.json)', () => {
    expect(DEFAULT_PM2_VERSION).toBe(require('pm2/package.json').version);
  });
});

describe('environment rules', () => {
  it('name: lower-case letters, digits, hyphens', () => {
    expect(parse((d) => (d.name = 'prod-2')).name).toBe('prod-2');
    expect(problems((d) => (d.name = 'Prod_1'))).toEqual([
      'name: "Prod_1" is not a valid name: use 2-24 lower-case letters, digits and hyphens, starting with a letter',
    ]);
  });

  it('region: an AWS region code', () => {
    expect(parse((d) => (d.region = 'us-gov-west-1')).region).toBe('us-gov-west-1');
    expect(problems((d) => (d.region = 'london'))).toEqual(['region: "london" is not an AWS region code; use e.g. "eu-west-2"']);
  });

  it('domain: a lower-case FQDN without scheme', () => {
    expect(parse((d) => (d.domain = 'api.energydata.org.uk')).domain).toBe('api.energydata.org.uk');
    expect(problems((d) => (d.domain = 'https://api.energydata.org.uk'))).toEqual([
      'domain: "https://api.energydata.org.uk" is not a lower-case fully qualified domain name; use e.g. "example.energydata.org.uk" (no trailing dot, no scheme)',
    ]);
  });

  it('domain: inside the hosted zone given by name', () => {
    expect(parse((d) => (d.domain = 'energydata.org.uk')).domain).toBe('energydata.org.uk');
    expect(problems((d) => (d.domain = 'data.notenergydata.org.uk'))).toEqual([
      'domain: "data.notenergydata.org.uk" is not inside hosted zone "energydata.org.uk"; use a name ending in ".energydata.org.uk" or change hostedZone.name',
    ]);
  });

  it('domain and hostedZone.name: a bad name is reported once, not again as outside the zone', () => {
    expect(problems((d) => (d.hostedZone = { name: 'Energydata.org.uk' }))).toEqual([
      'hostedZone.name: "Energydata.org.uk" is not a lower-case fully qualified domain name; use e.g. "example.energydata.org.uk" (no trailing dot, no scheme)',
    ]);
    expect(problems((d) => (d.domain = 'data.energydata.org.uk.'))).toEqual([
      'domain: "data.energydata.org.uk." is not a lower-case fully qualified domain name; use e.g. "example.energydata.org.uk" (no trailing dot, no scheme)',
    ]);
  });

  it('hostedZone: by id (any domain) or by name, exactly one', () => {
    expect(parse((d) => (d.hostedZone = { id: 'Z0123456789ABCDEFGHIJ' })).hostedZone).toEqual({ id: 'Z0123456789ABCDEFGHIJ', allowOverwrite: false });
    expect(problems((d) => (d.hostedZone = { id: 'Z0123456789ABCDEFGHIJ', name: 'energydata.org.uk' }))).toEqual([
      'hostedZone: give exactly one of "name" (e.g. "energydata.org.uk") or "id" (e.g. "Z0123456789ABCDEFGHIJ") (got {"id":"Z0123456789ABCDEFGHIJ","name":"energydata.org.uk"})',
    ]);
    expect(problems((d) => (d.hostedZone = { id: 'zone-1' }))).toEqual([
      'hostedZone.id: "zone-1" is not a Route53 hosted zone id; use e.g. "Z0123456789ABCDEFGHIJ"',
    ]);
  });

  it('instance.type: an EC2 type; the architecture follows it', () => {
    expect(parse((d) => (d.instance = { type: 'm7i.large' })).instance.architecture).toBe('x86_64');
    expect(parse((d) => (d.instance = { type: 'c7gn.xlarge' })).instance.architecture).toBe('arm64');
    expect(problems((d) => (d.instance = { type: 'large' }))).toEqual(['instance.type: "large" is not an EC2 instance type; use e.g. "t4g.small"']);
  });

  it('instance.type: one AWS has (the SDK list), with the nearest names for a typo', () => {
    expect(problems((d) => (d.instance = { type: 't4g.smal' }))).toEqual([
      'instance.type: "t4g.smal" is not an EC2 instance type AWS knows; did you mean "t4g.small"? (list: @aws-sdk/client-ec2; a type newer than it needs a newer SDK)',
    ]);
    expect(problems((d) => (d.instance = { type: 'q9z.huge' }))[0]).toMatch(/^instance\.type: "q9z\.huge" is not an EC2 instance type AWS knows/);
    for (const type of ['t4g.nano', 'm7g.large', 'c7gn.xlarge', 't3.micro', 'r8g.medium']) expect(parse((d) => (d.instance = { type })).instance.type).toBe(type);
  });

  it('instance.architecture: must match the type', () => {
    expect(parse((d) => (d.instance = { type: 't3.small', architecture: 'x86_64' })).instance.architecture).toBe('x86_64');
    expect(problems((d) => (d.instance = { type: 't4g.small', architecture: 'x86_64' }))).toEqual([
      'instance.architecture: "x86_64" does not match instance type "t4g.small", which is arm64; use "arm64" or omit it',
    ]);
  });

  it('instance.rootVolumeGiB: an integer from 8 to 1024', () => {
    expect(parse((d) => (d.instance = { rootVolumeGiB: 8 })).instance.rootVolumeGiB).toBe(8);
    expect(problems((d) => (d.instance = { rootVolumeGiB: 4 }))).toEqual(['instance.rootVolumeGiB: 4 GiB is too small for AL2023; use an integer from 8 to 1024']);
    expect(problems((d) => (d.instance = { rootVolumeGiB: 8.5 }))).toEqual(['instance.rootVolumeGiB: 8.5 is not a whole number of GiB; use an integer from 8 to 1024']);
    expect(problems((d) => (d.instance = { rootVolumeGiB: '20' }))).toEqual(['instance.rootVolumeGiB: "20" is not a number of GiB; use an integer from 8 to 1024']);
  });

  it('instance.subnetId: a subnet id', () => {
    expect(parse((d) => (d.instance = { subnetId: 'subnet-0123456789abcdef0' })).instance.subnetId).toBe('subnet-0123456789abcdef0');
    expect(problems((d) => (d.instance = { subnetId: 'public-a' }))).toEqual([
      'instance.subnetId: "public-a" is not a subnet id; use e.g. "subnet-0123456789abcdef0" or omit it for the default VPC',
    ]);
  });

  it('admin.sshCidrs: specific IPv4/IPv6 ranges; the whole internet is refused', () => {
    expect(parse((d) => (d.admin = { sshKeyName: 'ops', sshCidrs: ['203.0.113.0/24', '2001:db8::/48'] })).admin.sshCidrs).toEqual(['203.0.113.0/24', '2001:db8::/48']);
    for (const world of ['0.0.0.0/0', '::/0', '10.0.0.0/0']) {
      expect(problems((d) => (d.admin = { sshCidrs: [world] }))).toEqual([
        `admin.sshCidrs[0]: "${world}" would open SSH to the whole internet; give the operators' own ranges (e.g. "203.0.113.0/24") or none and use SSM Session Manager`,
      ]);
    }
    expect(problems((d) => (d.admin = { sshCidrs: ['203.0.113.7'] }))).toEqual([
      'admin.sshCidrs[0]: "203.0.113.7" is not an IPv4 or IPv6 CIDR; use e.g. "203.0.113.0/24" or "2001:db8::/48"',
    ]);
  });

  it('admin.sshKeyName: an EC2 key pair name', () => {
    expect(problems((d) => (d.admin = { sshKeyName: 'my key' }))).toEqual([
      'admin.sshKeyName: "my key" is not an EC2 key pair name; use letters, digits, ".", "_" and "-"',
    ]);
  });

  it('acme.email: an e-mail address', () => {
    expect(parse((d) => (d.acme = { email: 'first.last+le@example.co.uk' })).acme.email).toBe('first.last+le@example.co.uk');
    expect(problems((d) => (d.acme = { email: 'ops at example.org' }))).toEqual(['acme.email: "ops at example.org" is not an e-mail address; use e.g. "ops@example.org"']);
  });

  it('acme.server and oauth.issuer: https URLs without query', () => {
    const staging = 'https://acme-staging-v02.api.letsencrypt.org/directory';
    expect(parse((d) => (d.acme.server = staging)).acme.server).toBe(staging);
    expect(problems((d) => (d.acme.server = 'http://pebble:14000/dir'))).toEqual([
      `acme.server: "http://pebble:14000/dir" is not an https URL without query or fragment; use e.g. "${DEFAULT_ISSUER}"`,
    ]);
    expect(problems((d) => (d.oauth.issuer = 'https://auth.example.org/?tenant=1'))).toEqual([
      `oauth.issuer: "https://auth.example.org/?tenant=1" is not an https URL without query or fragment; use e.g. "${DEFAULT_ISSUER}"`,
    ]);
  });

  it('oauth.clientId and oauth.scope: shell-safe tokens', () => {
    expect(problems((d) => (d.oauth.clientId = 'client $(id)'))).toEqual([
      'oauth.clientId: "client $(id)" is not a usable client id; use letters, digits and . _ : / @ % + , = -',
    ]);
    expect(problems((d) => (d.oauth.scope = 'read write'))).toEqual([
      'oauth.scope: "read write" is not a single scope token; use letters, digits and . _ : / -',
    ]);
  });

  it('secrets: SSM paths and a KMS key ARN', () => {
    const ok = parse((d) => (d.secrets = { tlsKeyParameter: '/oe/provider/key', kmsKeyArn: 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' }));
    expect(ok.secrets.tlsKeyParameter).toBe('/oe/provider/key');
    expect(problems((d) => (d.secrets = { tlsCertParameter: 'transport-cert' }))).toEqual([
      'secrets.tlsCertParameter: "transport-cert" is not an SSM parameter path; use "/segment/segment" with letters, digits, "_", "." and "-"',
    ]);
    expect(problems((d) => (d.secrets = { kmsKeyArn: 'alias/aws/ssm' }))).toEqual([
      'secrets.kmsKeyArn: "alias/aws/ssm" is not a KMS key ARN; use "arn:aws:kms:<region>:<account>:key/<id>" or omit it for the aws/ssm key',
    ]);
  });

  it('ssmPrefix: an SSM path; it prefixes the default secret names', () => {
    expect(parse((d) => (d.ssmPrefix = '/oe/prod')).secrets.tlsCertParameter).toBe('/oe/prod/transport-cert');
    expect(problems((d) => (d.ssmPrefix = '/oe/prod/'))).toEqual([
      'ssmPrefix: "/oe/prod/" is not an SSM parameter path; use "/segment/segment" with letters, digits, "_", "." and "-"',
    ]);
  });

  it('app: instances 1-16, an AL2023 Node.js major, an exact PM2 version', () => {
    expect(parse((d) => (d.app = { instances: 4, nodeMajor: 24 })).app).toMatchObject({ instances: 4, nodeMajor: 24 });
    expect(problems((d) => (d.app = { instances: 0 }))).toEqual(['app.instances: 0 is too few; use an integer from 1 to 16']);
    expect(problems((d) => (d.app = { nodeMajor: 18 }))).toEqual(['app.nodeMajor: 18 is not a Node.js major packaged by AL2023; use 20, 22 or 24']);
    expect(problems((d) => (d.app = { pm2Version: 'latest' }))).toEqual([`app.pm2Version: "latest" is not an exact version; use e.g. "${DEFAULT_PM2_VERSION}"`]);
  });

  it('app.authzCacheSeconds: 0 to 10 whole seconds', () => {
    expect(parse((d) => (d.app = { authzCacheSeconds: 0 })).app.authzCacheSeconds).toBe(0);
    expect(parse((d) => (d.app = { authzCacheSeconds: 10 })).app.authzCacheSeconds).toBe(10);
    expect(problems((d) => (d.app = { authzCacheSeconds: 11 }))).toEqual(['app.authzCacheSeconds: 11 is too long for a reused authorisation; use an integer from 0 to 10']);
    expect(problems((d) => (d.app = { authzCacheSeconds: -1 }))).toEqual(['app.authzCacheSeconds: -1 is negative; use an integer from 0 to 10 (0: every dataset read asks the app)']);
    expect(problems((d) => (d.app = { authzCacheSeconds: 0.5 }))).toEqual(['app.authzCacheSeconds: 0.5 is not a whole number of seconds; use an integer from 0 to 10']);
    expect(problems((d) => (d.app = { authzCacheSeconds: '1' }))).toEqual(['app.authzCacheSeconds: "1" is not a number of seconds; use an integer from 0 to 10']);
  });

  it('storage: booleans and a day count', () => {
    expect(parse((d) => (d.storage = { retainOnDestroy: false })).storage.retainOnDestroy).toBe(false);
    expect(problems((d) => (d.storage = { retainOnDestroy: 'no' }))).toEqual(['storage.retainOnDestroy: "no" is not a boolean; use true or false']);
    expect(problems((d) => (d.storage = { noncurrentVersionDays: 0 }))).toEqual(['storage.noncurrentVersionDays: 0 is too short; use an integer from 1 to 3650']);
  });

  it('backend.s3: a bucket and a .tfstate key', () => {
    expect(parse((d) => (d.backend = { s3: { bucket: 'my-state', key: 'provider/test.tfstate' } })).backend?.s3).toEqual({ bucket: 'my-state', key: 'provider/test.tfstate' });
    expect(problems((d) => (d.backend = { s3: { bucket: 'my-state', key: 'state' } }))).toEqual([
      'backend.s3.key: "state" is not a state object key; use e.g. "provider-host/example.tfstate"',
    ]);
  });

  it('backend.s3.dynamodbTable: a DynamoDB table name', () => {
    const lock = (table: unknown) => (d: Record<string, any>) => (d.backend = { s3: { bucket: 'my-state', key: 'provider/test.tfstate', dynamodbTable: table } });
    expect(parse(lock('terraform-locks.v2_1')).backend?.s3.dynamodbTable).toBe('terraform-locks.v2_1');
    expect(problems(lock('tf locks'))).toEqual(['backend.s3.dynamodbTable: "tf locks" is not a DynamoDB table name; use 3-255 letters, digits, "_", "." and "-"']);
    expect(problems(lock('ab'))).toEqual(['backend.s3.dynamodbTable: "ab" is not a DynamoDB table name; use 3-255 letters, digits, "_", "." and "-"']);
  });

  it('content: an empty path is named with the fix', () => {
    expect(problems((d) => (d.content.datasetsDir = ''))).toEqual(['content.datasetsDir: "" is an empty path; give a path relative to the config file']);
  });

  it("tags: values valid on every service the stack tags, never a Terraform interpolation", () => {
    const tagged = (value: unknown) => (d: Record<string, any>) => (d.tags = { owner: value });
    const use = 'use letters (any script), digits, spaces and _ . : / = + - @';
    expect(parse(tagged('Équipe données: énergie @ 2026 / +=_.-')).tags).toEqual({ owner: 'Équipe données: énergie @ 2026 / +=_.-' });
    expect(parse(tagged('')).tags).toEqual({ owner: '' });
    expect(problems(tagged('${var.x}'))).toEqual([`tags.owner: "\${var.x}" is not a valid tag value: "$", "{" and "}" are not allowed by AWS; ${use}`]);
    expect(problems(tagged('100%{x}'))).toEqual([`tags.owner: "100%{x}" is not a valid tag value: "%", "{" and "}" are not allowed by AWS; ${use}`]);
    expect(problems(tagged('a#b'))).toEqual([`tags.owner: "a#b" is not a valid tag value: "#" is not allowed by AWS; ${use}`]);
    // The value the first real deploy failed on (IAM and SSM refuse parentheses).
    expect(problems(tagged('provider-host (cdktf)'))).toEqual([`tags.owner: "provider-host (cdktf)" is not a valid tag value: "(" and ")" are not allowed by AWS; ${use}`]);
    // EC2 allows 255 characters, the others 256: the stricter applies to default tags.
    expect(parse(tagged('é'.repeat(255))).tags.owner).toHaveLength(255);
    expect(problems(tagged('x'.repeat(256)))).toEqual([`tags.owner: "${'x'.repeat(256)}" is 256 characters long; a tag value may have at most 255 on AWS`]);
    expect(problems(tagged(42))).toEqual([
      'tags.owner: 42 is not a string; a tag value is text of at most 255 letters (any script), digits, spaces and _ . : / = + - @ (quote numbers in YAML, e.g. "42")',
    ]);
  });

  it('tags: valid AWS tag keys, none reserved, none the stack sets, at most 8', () => {
    expect(parse((d) => (d.tags = { 'cost-centre': 'data/42', 'Équipe': 'x' })).tags).toEqual({ 'cost-centre': 'data/42', 'Équipe': 'x' });
    expect(problems((d) => (d.tags = { 'cost#centre': 'x' }))).toEqual([
      'tags.cost#centre: "cost#centre" is not a valid tag key: "#" is not allowed by AWS; use letters (any script), digits, spaces and _ . : / = + - @',
    ]);
    expect(problems((d) => (d.tags = { 'aws:owner': 'x' }))).toEqual(['tags.aws:owner: "aws:owner" is not a valid tag key: the prefix "aws:" is reserved for AWS\'s own tags']);
    expect(problems((d) => (d.tags = { ['k'.repeat(128)]: 'x' }))).toEqual([`tags.${'k'.repeat(128)}: "${'k'.repeat(128)}" is 128 characters long; a tag key has 1 to 127 on AWS`]);
    expect(problems((d) => (d.tags = { managedby: 'me' }))[0]).toMatch(/^tags: "ManagedBy" is set by the stack; remove it from tags/);
    const nine = Object.fromEntries([...Array(9)].map((_, i) => [`k${i}`, 'v']));
    expect(problems((d) => (d.tags = nine))[0]).toMatch(/^tags: 9 tags; at most 8 \(S3 objects take 10 tags and the stack adds Environment and ManagedBy\)/);
  });

  it('refuses unknown fields (typos) and names missing required ones', () => {
    expect(problems((d) => (d.instance = { tpye: 't4g.small' }))).toEqual(['instance: unknown field(s) "tpye"; check the spelling against docs/stack.md']);
    expect(problems((d) => delete d.acme)).toEqual(['acme: is required (expected object); see docs/stack.md']);
  });

  it('reports every bad field at once', () => {
    expect(problems((d) => {
      d.region = 'x';
      d.acme.email = 'y';
    })).toHaveLength(2);
  });
});

describe('schema documentation', () => {
  it('describes every field', () => {
    const undocumented: string[] = [];
    const walk = (node: any, at: string): void => {
      for (const [key, child] of Object.entries<any>(node.properties ?? {})) {
        if (typeof child.description !== 'string' || child.description.length < 10) undocumented.push(`${at}${key}`);
        walk(child, `${at}${key}.`);
      }
    };
    walk(z.toJSONSchema(environmentSchema, { io: 'input', unrepresentable: 'any' }), '');
    expect(undocumented).toEqual([]);
  });
});
