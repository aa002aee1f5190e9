import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { createIntermediateCa, createRootCa } from '../testing/pki';
import { EnvironmentError, loadEnvironment } from './load';
import { uncoveredCas } from './revocation-sources';

const EXAMPLES = path.join(__dirname, 'examples');
const root = createRootCa({ subject: { commonName: 'Sources Root CA' } });
// The intermediate's certificate names the root's CRL; nothing names the intermediate's.
const issuer = createIntermediateCa(root, { subject: { commonName: 'Sources Issuer CA' }, crlDistributionPoint: 'http://crl.example.org/root.crl' });
const twoLevel = root.certPem + issuer.certPem;

describe('revocation sources at synthesis', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ph-revocation-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const load = (bundle: string, revocation: Record<string, unknown> | undefined) => {
    fs.writeFileSync(path.join(dir, 'bundle.pem'), bundle);
    const file = path.join(dir, 'env.yaml');
    fs.writeFileSync(file, stringify({
      name: 'env',
      hostedZone: { id: 'Z0123456789ABCDEFGHIJ' },
      acme: { email: 'ops@example.org' },
      oauth: { clientId: 'client-1', scope: 'energydata' },
      ...(revocation ? { revocation } : {}),
      content: { trustBundleFile: 'bundle.pem', datasetsDir: path.join(EXAMPLES, 'shared_data') },
    }));
    return () => loadEnvironment(file);
  };

  it('a CA is covered by the distribution point of a certificate it issued: the root by the intermediate, the intermediate by nobody', () => {
    expect(uncoveredCas(twoLevel, true)).toEqual([expect.stringContaining('CN=Sources Issuer CA')]);
    expect(uncoveredCas(twoLevel, false)).toHaveLength(2);
    expect(uncoveredCas(root.certPem, true)).toEqual([expect.stringContaining('CN=Sources Root CA')]);
  });

  it('with revocation on and no CRL URL, an uncovered CA stops synthesis naming it and the two fixes', () => {
    let error: unknown;
    try {
      load(twoLevel, undefined)();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvironmentError);
    const message = (error as Error).message;
    expect(message).toContain('revocation.crlUrls: no CRL source for');
    expect(message).toContain('CN=Sources Issuer CA');
    expect(message).not.toContain('CN=Sources Root CA"');
    expect(message).toContain('revocation.enabled: false');
  });

  it('a configured CRL URL, or revocation turned off, synthesizes; defaults follow the contract', () => {
    const config = load(twoLevel, { crlUrls: ['http://crl.example.org/issuer.crl'] })();
    expect(config.revocation).toEqual({ enabled: true, crlUrls: ['http://crl.example.org/issuer.crl'], fromTrustBundle: true, refreshMinutes: 15, warnHours: 24 });
    expect(load(twoLevel, { enabled: false })().revocation.enabled).toBe(false);
  });

  it('a bad CRL URL or period names the field', () => {
    expect(load(twoLevel, { crlUrls: ['ftp://crl.example.org/x.crl'] })).toThrow(/revocation\.crlUrls\[0\]: .*is not an http\(s\) CRL URL/);
    expect(load(twoLevel, { crlUrls: ['http://crl.example.org/x.crl?a=b'] })).toThrow(/revocation\.crlUrls\[0\]: /);
    expect(load(twoLevel, { crlUrls: ['http://x.org/a.crl'], refreshMinutes: 0 })).toThrow(/revocation\.refreshMinutes: 0 is too low/);
    expect(load(twoLevel, { crlUrls: ['http://x.org/a.crl'], warnHours: 1000 })).toThrow(/revocation\.warnHours: 1000 is too high/);
  });
});
