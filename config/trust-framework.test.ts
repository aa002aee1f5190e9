/**
 * `trustFramework:` rules, one test each (the valid value passes, a bad one fails with its
 * exact message naming the field), the host.env it writes, and the shipped examples:
 * ib1-example synthesizes; the open-energy example writes the host.env it always wrote.
 */
import * as path from 'node:path';
import { decodeHostEnv } from '../contract/host-settings';
import { PROJECT_ROOT } from '../lib/project-paths';
import { EnvironmentError, loadNamedEnvironment, parseEnvironment, type EnvironmentConfig } from './load';
import { trustFrameworkHostSettings } from './trust-framework';
import { removeTempDirs, synthStack } from '../testing/synth';
import { ENVIRONMENTS_DIR } from '../lib/project-paths';

const FILE = path.join(PROJECT_ROOT, 'config', 'environments', 'test.yaml');
const LICENCE = 'https://registry.example.org/licence/shared/2025-01-01';

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

function parse(edit: (d: Record<string, any>) => void = () => undefined): EnvironmentConfig {
  const d = doc();
  edit(d);
  return parseEnvironment(d, FILE);
}

function problems(edit: (d: Record<string, any>) => void): string[] {
  try {
    parse(edit);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return [...(error as EnvironmentError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

const ib1 = (d: Record<string, any>, tf: Record<string, unknown> = {}): void => {
  d.trustFramework = { profile: 'ib1', ...tf };
  d.oauth.scope = LICENCE;
};

afterAll(removeTempDirs);

describe('trustFramework fields', () => {
  it('defaults to open-energy with introspection, nothing else set', () => {
    expect(parse().trustFramework).toEqual({ profile: 'open-energy', tokenValidation: 'introspection' });
  });

  it('accepts ib1 with every setting', () => {
    const tf = parse((d) => ib1(d, { tokenValidation: 'jwt', tokenAudience: 'https://p.example.org/', tokenAlgorithms: ['ES256', 'ES384'], heartbeatPath: '/ib1/heartbeat' })).trustFramework;
    expect(tf).toEqual({ profile: 'ib1', tokenValidation: 'jwt', tokenAudience: 'https://p.example.org/', tokenAlgorithms: ['ES256', 'ES384'], heartbeatPath: '/ib1/heartbeat' });
  });

  it('refuses an unknown profile', () => {
    expect(problems((d) => (d.trustFramework = { profile: 'fapi2' }))).toEqual(['trustFramework.profile: "fapi2" is not a trust framework profile; use open-energy or ib1']);
  });

  it('refuses an unknown token validation mode', () => {
    expect(problems((d) => (d.trustFramework = { tokenValidation: 'magic' }))).toEqual(['trustFramework.tokenValidation: "magic" is not a token validation mode; use introspection or jwt']);
  });

  it('refuses a symmetric or unknown JWS algorithm, and an empty list', () => {
    expect(problems((d) => (d.trustFramework = { tokenValidation: 'jwt', tokenAlgorithms: ['ES256', 'HS256'] }))).toEqual([
      'trustFramework.tokenAlgorithms[1]: "HS256" is not an asymmetric JWS algorithm; use one of ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512, EdDSA',
    ]);
    expect(problems((d) => (d.trustFramework = { tokenValidation: 'jwt', tokenAlgorithms: [] }))).toEqual(['trustFramework.tokenAlgorithms: is empty; name at least one algorithm, e.g. [ES256] (got [])']);
  });

  it('refuses a bad audience and a bad heartbeat path', () => {
    expect(problems((d) => ib1(d, { tokenValidation: 'jwt', tokenAudience: 'a b' }))).toEqual([
      'trustFramework.tokenAudience: "a b" is not a token audience; use a URL or an identifier of letters, digits and . _ : / -',
    ]);
    expect(problems((d) => ib1(d, { heartbeatPath: 'heartbeat' }))).toEqual([
      'trustFramework.heartbeatPath: "heartbeat" is not an endpoint path; use e.g. "/heartbeat" (segments of letters, digits, _ and -)',
    ]);
  });
});

describe('what a profile makes meaningless or unsafe', () => {
  it('open-energy still requires oauth.scope', () => {
    expect(problems((d) => delete d.oauth.scope)).toEqual([
      'oauth.scope: is required in the open-energy profile (the scope every access token must carry, e.g. "energydata"); set oauth.scope',
    ]);
  });

  it('ib1 may leave oauth.scope out (every shared dataset then names its licence)', () => {
    expect(parse((d) => { ib1(d); delete d.oauth.scope; }).oauth.scope).toBeUndefined();
  });

  it('ib1 refuses a default scope that is not an https licence URL', () => {
    expect(problems((d) => { ib1(d); d.oauth.scope = 'energydata'; })).toEqual([
      'oauth.scope: "energydata" is not a licence URL: in ib1 the scope is the Registry licence URL a shared dataset requires unless its manifest entry names one; use an https URL (e.g. "https://registry.core.trust.ib1.org/scheme/perseus/licence/energy-consumption-data/2024-12-05") or omit oauth.scope',
    ]);
    expect(problems((d) => { ib1(d); d.oauth.scope = 'http://registry.example.org/licence/x'; })).toHaveLength(1);
  });

  it('open-energy refuses a heartbeat path (a heartbeat is an ib1 duty)', () => {
    expect(problems((d) => (d.trustFramework = { heartbeatPath: '/heartbeat' }))).toEqual([
      'trustFramework.heartbeatPath: "/heartbeat": the heartbeat is an IB1 data provider duty and open-energy has none; remove trustFramework.heartbeatPath or set trustFramework.profile: ib1',
    ]);
  });

  it('ib1 refuses switching revocation off (IB1 requires the CRL check)', () => {
    expect(problems((d) => { ib1(d); d.revocation.enabled = false; })).toEqual([
      "revocation.enabled: false is not allowed in ib1: the IB1 Trust Framework requires every client certificate to be checked against its CA's CRL; remove revocation.enabled (default true)",
    ]);
    // open-energy keeps the choice.
    expect(parse((d) => (d.revocation.enabled = false)).revocation.enabled).toBe(false);
  });

  it('refuses JWT-only settings with introspection, in either profile', () => {
    expect(problems((d) => (d.trustFramework = { tokenAudience: 'https://p.example.org/' }))).toEqual([
      'trustFramework.tokenAudience: is only checked on JWT access tokens, and tokenValidation is "introspection"; set trustFramework.tokenValidation: jwt or remove trustFramework.tokenAudience (got "https://p.example.org/")',
    ]);
    expect(problems((d) => ib1(d, { tokenAlgorithms: ['ES256'] }))).toEqual([
      'trustFramework.tokenAlgorithms: is only checked on JWT access tokens, and tokenValidation is "introspection"; set trustFramework.tokenValidation: jwt or remove trustFramework.tokenAlgorithms (got ["ES256"])',
    ]);
  });
});

describe('host.env settings of the trust framework', () => {
  it('writes nothing for the defaults (open-energy host.env unchanged)', () => {
    expect(trustFrameworkHostSettings(parse().trustFramework)).toEqual({});
    expect(trustFrameworkHostSettings(parse((d) => ib1(d, { heartbeatPath: '/heartbeat', tokenValidation: 'jwt', tokenAlgorithms: ['ES256', 'PS256'] })).trustFramework)).toEqual({
      trustProfile: 'ib1',
      tokenValidation: 'jwt',
    });
  });

  it('writes each setting that differs, the algorithms as the contract\'s comma list', () => {
    const tf = parse((d) => ib1(d, { tokenValidation: 'jwt', tokenAudience: 'https://p.example.org/', tokenAlgorithms: ['ES256'], heartbeatPath: '/hb' })).trustFramework;
    expect(trustFrameworkHostSettings(tf)).toEqual({ trustProfile: 'ib1', tokenValidation: 'jwt', tokenAudience: 'https://p.example.org/', tokenAlgorithms: 'ES256', heartbeatPath: '/hb' });
  });
});

/** The host.env the stack writes (the host-config parameter's value). */
function hostEnvOf(config: EnvironmentConfig): string {
  const { doc: json } = synthStack(config);
  const parameters = Object.values(json.resource['aws_ssm_parameter'] ?? {}).filter((p) => String(p.name).endsWith('/host-config'));
  expect(parameters).toHaveLength(1);
  return String(parameters[0]!.value);
}

describe('the shipped environments', () => {
  it('ib1-example loads and synthesizes without credentials, its host.env naming the profile', () => {
    const config = loadNamedEnvironment(ENVIRONMENTS_DIR, 'ib1-example');
    expect(config.trustFramework).toEqual({ profile: 'ib1', tokenValidation: 'jwt', tokenAlgorithms: ['ES256'] });
    const text = hostEnvOf(config);
    expect(text).toContain('PH_TRUST_PROFILE=ib1\n');
    expect(text).toContain('PH_TOKEN_VALIDATION=jwt\n');
    expect(text).toContain('PH_TOKEN_ALGORITHMS=ES256\n');
    expect(text).toContain(`PH_SCOPE=${config.oauth.scope}\n`);
    expect(text).not.toMatch(/PH_HEARTBEAT_PATH|PH_TOKEN_AUDIENCE/);
    // What the host reads back (tokens resolve at apply time: stand-ins for them).
    const decoded = decodeHostEnv(text.replace(/\$\{[^}]+\}/g, 'x-resolved'));
    expect(decoded).toMatchObject({ trustProfile: 'ib1', tokenValidation: 'jwt', tokenAlgorithms: 'ES256', heartbeatPath: '/heartbeat' });
  });

  it('the open-energy example writes no trust framework setting', () => {
    const text = hostEnvOf(loadNamedEnvironment(ENVIRONMENTS_DIR, 'example'));
    expect(text).not.toMatch(/PH_TRUST_PROFILE|PH_TOKEN_|PH_HEARTBEAT_PATH/);
    expect(text).toContain('PH_SCOPE=energydata\n');
  });

  it('an ib1 environment without a default licence writes no PH_SCOPE', () => {
    const config = parse((d) => { ib1(d); delete d.oauth.scope; });
    expect(hostEnvOf(config)).not.toContain('PH_SCOPE');
  });
});
