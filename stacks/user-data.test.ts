import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../lib/project-paths';
import { HOST_TIMING, LOCK_WAIT_SECONDS } from '../contract/host-timing';
import { hostPackages, renderUserData, USER_DATA_LIMIT_BYTES, type UserDataProps } from './user-data';

const TEMPLATE = path.join(PROJECT_ROOT, 'host', 'cloud-init.yaml');
const BOOTSTRAP = path.join(PROJECT_ROOT, 'host', 'bootstrap.sh');

const props = (overrides: Partial<UserDataProps> = {}): UserDataProps => ({
  templateFile: TEMPLATE,
  bootstrapFile: BOOTSTRAP,
  systemdDir: path.join(PROJECT_ROOT, 'host', 'systemd'),
  region: 'eu-west-2',
  hostConfigParameter: '/provider-host/example/host-config',
  nodeMajor: 22,
  pm2Version: '7.0.4',
  ...overrides,
});

interface CloudConfig {
  packages?: string[];
  write_files: { path: string; content: string; permissions: string; owner: string }[];
  runcmd: string[][];
}

describe('renderUserData', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ph-userdata-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('renders a document that cloud-init 22.4 accepts', () => {
    const file = path.join(dir, 'user-data.yaml');
    fs.writeFileSync(file, renderUserData(props()));
    const result = spawnSync('cloud-init', ['schema', '-c', file], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toContain(`Valid cloud-config: ${file}`);
    expect(result.status).toBe(0);
  });

  it('lets cloud-init schema catch a broken document (the check can fail)', () => {
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(file, renderUserData(props()).replace(/^runcmd:\n/m, 'packages: nginx\nruncmd:\n'));
    const result = spawnSync('cloud-init', ['schema', '-c', file], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain("packages: 'nginx' is not of type 'array'");
  });

  it('leaves packages to the bootstrap (retried on every run), not to one cloud-init transaction', () => {
    const config = parseYaml(renderUserData(props())) as CloudConfig;
    expect(config.packages).toBeUndefined();
    expect(config).not.toHaveProperty('package_update');
  });

  it('names every package the host scripts need, tar and diffutils included, and not the unused nginx plugin', () => {
    expect(hostPackages(22)).toEqual(['nginx', 'certbot', 'nodejs22', 'nodejs22-npm', 'unzip', 'tar', 'diffutils', 'awscli-2', 'nftables', 'logrotate', 'amazon-cloudwatch-agent', 'acl']);
    expect(hostPackages(24)).toContain('nodejs24-npm');
  });

  it('embeds host/bootstrap.sh byte for byte, ${VAR} included, as an executable', () => {
    const config = parseYaml(renderUserData(props())) as CloudConfig;
    const bootstrap = config.write_files.find((f) => f.path === '/usr/local/sbin/provider-host-bootstrap');
    expect(bootstrap).toMatchObject({ permissions: '0755', owner: 'root:root' });
    expect(bootstrap?.content).toBe(fs.readFileSync(BOOTSTRAP, 'utf8'));
    expect(bootstrap?.content).toContain('${PH_ETC:-/etc/provider-host}');
  });

  it('writes only static values for the bootstrap, and runs it once with a retry timer armed first', () => {
    const config = parseYaml(renderUserData(props())) as CloudConfig;
    expect(config.write_files.find((f) => f.path === '/etc/provider-host/bootstrap.env')?.content).toBe(
      'PH_REGION=eu-west-2\nPH_HOST_CONFIG_PARAM=/provider-host/example/host-config\nPH_NODE_MAJOR=22\nPH_PM2_VERSION=7.0.4\n'
        + `PH_PACKAGES=${hostPackages(22).join(',')}\nPH_PACKAGE_ATTEMPTS=${HOST_TIMING.packageAttempts}\nPH_LOCK_WAIT_SECONDS=${LOCK_WAIT_SECONDS}\n`,
    );
    expect(config.runcmd).toEqual([
      ['systemctl', 'enable', '--now', 'provider-host-setup-retry.timer'],
      ['/usr/local/sbin/provider-host-bootstrap', 'setup'],
    ]);
  });

  it('ships the retry unit and timer, which systemd accepts, retrying until setup has completed', () => {
    const config = parseYaml(renderUserData(props())) as CloudConfig;
    const unit = config.write_files.find((f) => f.path === '/etc/systemd/system/provider-host-setup-retry.service');
    const timer = config.write_files.find((f) => f.path === '/etc/systemd/system/provider-host-setup-retry.timer');
    expect(unit?.content).toContain('ExecStart=/usr/local/sbin/provider-host-bootstrap retry-setup');
    expect(unit?.content).toContain('ConditionPathExists=!/var/lib/provider-host/setup.done');
    expect(timer?.content).toContain(`OnUnitInactiveSec=${HOST_TIMING.setupRetrySeconds}`);
    const units = fs.mkdtempSync(path.join(dir, 'units-'));
    fs.writeFileSync(path.join(units, 'provider-host-setup-retry.service'), unit?.content ?? '');
    fs.writeFileSync(path.join(units, 'provider-host-setup-retry.timer'), timer?.content ?? '');
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(units, 'provider-host-setup-retry.timer')], { encoding: 'utf8' });
    expect(verify.stderr.split('\n').filter((l) => /provider-host-setup-retry/.test(l) && !/not executable|No such file/.test(l))).toEqual([]);
  });

  it('stays well under the 16 KB EC2 limit', () => {
    const size = Buffer.byteLength(renderUserData(props()));
    expect(size).toBeLessThan(USER_DATA_LIMIT_BYTES);
    expect(USER_DATA_LIMIT_BYTES).toBe(16384);
  });

  it('refuses user data over 16 KB, with the size and the remedy', () => {
    const big = path.join(dir, 'big.sh');
    fs.writeFileSync(big, `#!/bin/bash\n${'# padding\n'.repeat(1700)}`);
    expect(() => renderUserData(props({ bootstrapFile: big }))).toThrow(/^user data is \d+ bytes; EC2 accepts at most 16384\. Move logic/);
  });

  it('refuses a secret', () => {
    const leaky = path.join(dir, 'leaky.sh');
    fs.writeFileSync(leaky, `#!/bin/bash\necho '-----BEGIN ${['PRIVATE', 'KEY'].join(' ')}-----'\n`);
    expect(() => renderUserData(props({ bootstrapFile: leaky }))).toThrow('user data contains a private key; secrets belong in SSM SecureString parameters');
  });

  it('refuses a template whose first line is not #cloud-config', () => {
    const template = path.join(dir, 'no-header.yaml');
    fs.writeFileSync(template, fs.readFileSync(TEMPLATE, 'utf8').replace('#cloud-config\n', '# cloud-config\n'));
    expect(() => renderUserData(props({ templateFile: template }))).toThrow(/must start with "#cloud-config" on its first line/);
  });

  it('host/bootstrap.sh passes shellcheck', () => {
    expect(execFileSync('shellcheck', ['-s', 'bash', BOOTSTRAP], { encoding: 'utf8' })).toBe('');
  });
});
