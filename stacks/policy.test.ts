/**
 * Security policies over whole synthesized stacks, for several configurations: IMDSv2,
 * encryption, no SSH from the world, private bucket, and no private key anywhere in
 * what synthesis writes.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdktf';
import { listFiles } from '../lib/content-hash';
import { ProviderStack } from './provider-stack';
import { Network } from './constructs/network';
import { exampleConfig, fixtureBundle, folderWith, removeTempDirs, resources, synthStack, tempDir, type TerraformJson } from '../testing/synth';

const KEY_MARKER = ['PRIVATE', 'KEY'].join(' ');

const variants: [string, Record<string, unknown>][] = [
  ['example', {}],
  ['ssh for operators, x86, IPv6', { admin: { sshKeyName: 'ops', sshCidrs: ['203.0.113.0/24', '2001:db8::/48'] }, instance: { type: 't3.small', ipv6: true } }],
];

describe.each(variants)('policies (%s)', (_label, overrides) => {
  let doc: TerraformJson;
  let json: string;
  beforeAll(() => {
    ({ doc, json } = synthStack(exampleConfig(overrides)));
  });
  afterAll(removeTempDirs);

  it('every instance requires IMDSv2 tokens', () => {
    const instances = Object.values(resources(doc, 'aws_instance'));
    expect(instances.length).toBeGreaterThan(0);
    for (const instance of instances) expect(instance.metadata_options).toMatchObject({ http_tokens: 'required' });
  });

  it('every volume is encrypted', () => {
    for (const instance of Object.values(resources(doc, 'aws_instance'))) {
      expect(instance.root_block_device).toMatchObject({ encrypted: true });
      expect(instance).not.toHaveProperty('ebs_block_device');
    }
    expect(Object.keys(resources(doc, 'aws_ebs_volume'))).toEqual([]);
  });

  it('no rule opens port 22 to 0.0.0.0/0 or ::/0', () => {
    const rules = Object.values(resources(doc, 'aws_vpc_security_group_ingress_rule'));
    const coversSsh = (r: Record<string, unknown>) => r.ip_protocol === '-1' || ((r.from_port as number) <= 22 && (r.to_port as number) >= 22);
    const world = rules.filter((r) => coversSsh(r) && (r.cidr_ipv4 === '0.0.0.0/0' || r.cidr_ipv6 === '::/0'));
    expect(world).toEqual([]);
    expect(Object.values(resources(doc, 'aws_security_group')).every((g) => g.ingress === undefined)).toBe(true);
  });

  it('the bucket has no ACL or website and is never force-destroyed', () => {
    expect(Object.keys(resources(doc, 'aws_s3_bucket_acl'))).toEqual([]);
    expect(Object.keys(resources(doc, 'aws_s3_bucket_website_configuration'))).toEqual([]);
    for (const bucket of Object.values(resources(doc, 'aws_s3_bucket'))) expect(bucket.force_destroy).toBe(false);
    for (const object of Object.values(resources(doc, 'aws_s3_object'))) expect(object).not.toHaveProperty('acl');
  });

  it('stores no secret in Terraform: no SecureString resource, no key text', () => {
    for (const parameter of Object.values(resources(doc, 'aws_ssm_parameter'))) expect(parameter.type).toBe('String');
    expect(json).not.toContain(KEY_MARKER);
  });
});

describe('synthesis output', () => {
  afterAll(removeTempDirs);

  it('contains no private key anywhere: JSON, decoded user data, assets, bundle zip', () => {
    const outdir = tempDir('cdktf-out');
    const app = new App({ outdir });
    new ProviderStack(app, 'example', { config: exampleConfig(), bundleDir: fixtureBundle() });
    app.synth();

    const files = listFiles(outdir);
    expect(files).toEqual(expect.arrayContaining(['stacks/example/cdk.tf.json', 'manifest.json']));
    const offenders = files.filter((rel) => fs.readFileSync(path.join(outdir, rel), 'latin1').includes(KEY_MARKER));
    expect(offenders).toEqual([]);

    const stackJson = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks/example/cdk.tf.json'), 'utf8')) as TerraformJson;
    const userData = Buffer.from(Object.values(stackJson.resource.aws_instance)[0].user_data_base64 as string, 'base64').toString('utf8');
    expect(userData).not.toContain(KEY_MARKER);

    const zips = files.filter((f) => f.endsWith('.zip'));
    expect(zips).toHaveLength(1);
    const unzipped = execFileSync('unzip', ['-p', path.join(outdir, zips[0])], { encoding: 'latin1' });
    expect(unzipped).toContain('update ${PH_DOMAIN}');
    expect(unzipped).not.toContain(KEY_MARKER);
    // certbot runs hook scripts directly: the zip must keep the executable bits.
    expect(execFileSync('unzip', ['-Z', path.join(outdir, zips[0])], { encoding: 'utf8' })).toMatch(/^-rwxr-xr-x .* host\/scripts\/setup\.sh$/m);
  });

  it('refuses to publish a private key placed in the public or bundle folders (datasets: tools/publish refuses)', () => {
    const keyFile = `-----BEGIN ${KEY_MARKER}-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END ${KEY_MARKER}-----\n`;
    const leaky = folderWith('leaky-public', { 'index.html': '<p>hi</p>', 'server.key': keyFile });
    expect(() => synthStack(exampleConfig({ content: { publicDir: leaky } }))).toThrow(
      `refusing to publish private keys: ${path.join(leaky, 'server.key')}. Keys belong in SSM SecureString parameters, never in the bucket`,
    );
    const bundle = fixtureBundle();
    fs.writeFileSync(path.join(bundle, 'host', 'oops.pem'), keyFile);
    expect(() => synthStack(exampleConfig(), bundle)).toThrow(/refusing to publish private keys: .*host\/oops\.pem/);
  });

  it('publishes code that merely names a PEM header (e.g. a bundled PEM parser)', () => {
    const bundle = fixtureBundle();
    fs.writeFileSync(path.join(bundle, 'dist', 'provider-app', 'pem.js'), `const header = '-----BEGIN RSA ${KEY_MARKER}-----';\n`);
    expect(() => synthStack(exampleConfig(), bundle)).not.toThrow();
  });
});

describe('Network construct guard', () => {
  it('refuses SSH from the world even when called without the config schema', () => {
    const app = new App({ outdir: tempDir('net') });
    const stack = new ProviderStack(app, 'guard', { config: exampleConfig(), bundleDir: fixtureBundle() });
    expect(() => new Network(stack, 'open', { namePrefix: 'x', vpcId: 'vpc-1', sshCidrs: ['0.0.0.0/0'] })).toThrow(/would include the whole internet; refused/);
  });
});
