import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { EnvironmentError, environmentFile, loadEnvironment, loadNamedEnvironment } from './load';
import { ENVIRONMENTS_DIR, PROJECT_ROOT } from '../lib/project-paths';

const EXAMPLES = path.join(PROJECT_ROOT, 'config', 'examples');

describe('loadEnvironment', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ph-config-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const base = (content: Record<string, unknown> = {}) => ({
    name: 'unit',
    hostedZone: { id: 'Z0123456789ABCDEFGHIJ' },
    acme: { email: 'ops@example.org' },
    oauth: { clientId: 'client-1', scope: 'energydata' },
    revocation: { crlUrls: ['http://crl.example.org/root.crl'] },
    content: { trustBundleFile: path.join(EXAMPLES, 'trust-bundle.example.pem'), datasetsDir: path.join(EXAMPLES, 'shared_data'), ...content },
  });
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const failure = (file: string): EnvironmentError => {
    try {
      loadEnvironment(file);
    } catch (error) {
      expect(error).toBeInstanceOf(EnvironmentError);
      return error as EnvironmentError;
    }
    throw new Error('expected a EnvironmentError');
  };

  it('loads the built-in example environment', () => {
    const config = loadEnvironment(environmentFile(ENVIRONMENTS_DIR, 'example'));
    expect(config.name).toBe('example');
    expect(config.domain).toBe('example.energydata.org.uk');
    expect(config.acme.staging).toBe(true);
    expect(fs.readFileSync(config.content.trustBundleFile, 'utf8')).toMatch(/^# EXAMPLE ONLY — NOT A REAL TRUST FRAMEWORK CA\./);
  });

  it('reads YAML and JSON alike', () => {
    const fromYaml = loadEnvironment(write('a.yaml', stringify(base())));
    const fromJson = loadEnvironment(write('a.json', JSON.stringify(base())));
    expect({ ...fromJson, sourceFile: '' }).toEqual({ ...fromYaml, sourceFile: '' });
  });

  it('names the file and the first line of a YAML syntax error', () => {
    const file = write('bad.yaml', 'name: [unclosed\n');
    expect(failure(file).message).toMatch(new RegExp(`^Invalid configuration in ${file}:\\n  - not valid YAML: `));
  });

  it('by name: a copied file that still says another name: is refused, naming both and the fix', () => {
    write('prod.yaml', stringify({ ...base(), name: 'example' }));
    expect(() => loadNamedEnvironment(dir, 'prod')).toThrow(EnvironmentError);
    expect(() => loadNamedEnvironment(dir, 'prod')).toThrow(
      `name: "example" differs from the file name "prod"; set name: prod (the stack is named after it: cdktf deploy prod)`,
    );
    write('unit.yaml', stringify(base()));
    expect(loadNamedEnvironment(dir, 'unit').name).toBe('unit');
  });

  it('names a file that cannot be read', () => {
    expect(failure(path.join(dir, 'absent.yaml')).problems).toEqual(['cannot read the file; check the path']);
  });

  it('refuses a trust bundle holding a private key', () => {
    // Built at run time so that no key-shaped block sits in the repository.
    const marker = ['PRIVATE', 'KEY'].join(' ');
    const pem = write('bundle.pem', `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN ${marker}-----\nMIIE\n-----END ${marker}-----\n`);
    const file = write('env.yaml', stringify(base({ trustBundleFile: pem })));
    expect(failure(file).problems).toEqual([
      `content.trustBundleFile: "${pem}" contains a private key; a trust bundle holds CA certificates only — remove the key (and rotate it: it has been copied around)`,
    ]);
  });

  it('refuses a trust bundle without a certificate, and missing files and folders', () => {
    const notPem = write('bundle.pem', 'hello\n');
    const file = write('env.yaml', stringify(base({ trustBundleFile: notPem, datasetsDir: 'no-such-dir', publicDir: 'nor-this' })));
    expect(failure(file).problems).toEqual([
      `content.trustBundleFile: "${notPem}" holds no PEM certificate; give a file with "-----BEGIN CERTIFICATE-----" blocks`,
      `content.datasetsDir: "${path.join(dir, 'no-such-dir')}" is not a folder; give the folder of <name>.csv datasets`,
      `content.publicDir: "${path.join(dir, 'nor-this')}" is not a folder; give a folder of static files or omit the field`,
    ]);
    const missing = write('env2.yaml', stringify(base({ trustBundleFile: 'absent.pem' })));
    expect(failure(missing).problems).toEqual([
      `content.trustBundleFile: "${path.join(dir, 'absent.pem')}" does not exist; give the PEM file of the trust framework's CA chain`,
    ]);
  });
});

describe('environmentFile', () => {
  it('finds config/environments/<name>.yaml', () => {
    expect(environmentFile(ENVIRONMENTS_DIR, 'example')).toBe(path.join(ENVIRONMENTS_DIR, 'example.yaml'));
  });

  it('lists the known environments when the name is unknown', () => {
    expect(() => environmentFile(ENVIRONMENTS_DIR, 'nope')).toThrow(/no environment "nope" \(nope\.yaml\); known: .*example/);
  });

  it('refuses a name that could escape the folder', () => {
    expect(() => environmentFile(ENVIRONMENTS_DIR, '../secrets')).toThrow(/environment name "\.\.\/secrets" is not valid/);
  });
});
