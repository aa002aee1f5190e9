/**
 * Environments synthesized together share nothing that AWS, DNS or the state backend
 * holds once: one test per clash, exact messages naming the field, the value, both
 * environments and the fix.
 */
import { EnvironmentError } from './load';
import { checkEnvironmentSet, environmentClashes, type EnvironmentIdentity } from './environment-set';
import { environmentSchema } from './schema';

/** A validated environment (defaults applied) as if loaded from /config/<file>.yaml. */
function env(name: string, edit: (d: Record<string, any>) => void = () => undefined, file = name): EnvironmentIdentity {
  const d: Record<string, any> = {
    name,
    domain: `${name}.energydata.org.uk`,
    hostedZone: { name: 'energydata.org.uk' },
    acme: { email: 'ops@example.org' },
    oauth: { clientId: 'client-1', scope: 'energydata' },
    content: { trustBundleFile: 'ca.pem', datasetsDir: 'data' },
  };
  edit(d);
  return { ...environmentSchema.parse(d), sourceFile: `/config/${file}.yaml` };
}

describe('environments side by side', () => {
  it('coexist when nothing is shared (regional SSM names may repeat in another region)', () => {
    expect(environmentClashes([env('alpha'), env('beta')])).toEqual([]);
    expect(environmentClashes([env('solo')])).toEqual([]);
    const elsewhere = (name: string, region: string) =>
      env(name, (d) => {
        d.region = region;
        d.ssmPrefix = '/oe/provider';
        d.secrets = { tlsKeyParameter: '/oe/transport-key' };
      });
    expect(environmentClashes([elsewhere('london', 'eu-west-2'), elsewhere('dublin', 'eu-west-1')])).toEqual([]);
  });

  it('name: one stack each; the defaults derived from it are not reported again', () => {
    const a = env('twin', () => undefined, 'a/twin');
    const b = env('twin', (d) => (d.domain = 'other.energydata.org.uk'), 'b/twin');
    expect(environmentClashes([a, b])).toEqual([
      'name: "twin" is the name of both /config/a/twin.yaml and /config/b/twin.yaml; each environment needs its own name (one stack each)',
    ]);
  });

  it('name: the same file listed twice', () => {
    expect(environmentClashes([env('prod'), env('staging'), env('prod')])).toEqual([
      'name: "prod": /config/prod.yaml is listed more than once; list each environment once',
    ]);
  });

  it('namePrefix: IAM names are account-wide, so even across regions', () => {
    const a = env('alpha', (d) => (d.namePrefix = 'provider-shared'));
    const b = env('beta', (d) => {
      d.namePrefix = 'provider-shared';
      d.region = 'us-east-1';
    });
    expect(environmentClashes([a, b])).toEqual([
      'namePrefix: "provider-shared" is used by both "alpha" (/config/alpha.yaml) and "beta" (/config/beta.yaml); their IAM role and instance profile (account-wide, whatever the region), security group and SSM association names would collide; give each environment its own namePrefix',
    ]);
  });

  it("namePrefix: one environment's explicit prefix is another's default", () => {
    expect(environmentClashes([env('alpha'), env('beta', (d) => (d.namePrefix = 'provider-alpha'))])).toEqual([
      'namePrefix: "provider-alpha" is used by both "alpha" (/config/alpha.yaml) and "beta" (/config/beta.yaml); their IAM role and instance profile (account-wide, whatever the region), security group and SSM association names would collide; give each environment its own namePrefix',
    ]);
  });

  it('ssmPrefix: the host-config parameter, per region; the default secret names under it are not reported again', () => {
    const shared = (d: Record<string, any>) => (d.ssmPrefix = '/oe/provider');
    expect(environmentClashes([env('alpha', shared), env('beta', shared)])).toEqual([
      'ssmPrefix: "/oe/provider" is used by both "alpha" (/config/alpha.yaml) and "beta" (/config/beta.yaml) in region eu-west-2; they would write the same parameter "/oe/provider/host-config"; give each environment its own ssmPrefix',
    ]);
  });

  it('secrets: the resolved parameter names, per region', () => {
    const a = env('alpha', (d) => (d.secrets = { tlsKeyParameter: '/oe/transport-key' }));
    const b = env('beta', (d) => (d.secrets = { tlsKeyParameter: '/oe/transport-key' }));
    expect(environmentClashes([a, b])).toEqual([
      'secrets.tlsKeyParameter: "/oe/transport-key" is used by both "alpha" (/config/alpha.yaml) and "beta" (/config/beta.yaml) in region eu-west-2; each environment needs its own transport certificate and key (shared, they are rotated and revoked together); give each environment its own secrets parameters (or ssmPrefix)',
    ]);
    // An explicit name that is another environment's default.
    const c = env('gamma', (d) => (d.secrets = { tlsCertParameter: '/provider-host/alpha/transport-cert' }));
    expect(environmentClashes([env('alpha'), c])).toEqual([
      'secrets.tlsCertParameter: "/provider-host/alpha/transport-cert" is used by both "alpha" (/config/alpha.yaml) and "gamma" (/config/gamma.yaml) in region eu-west-2; each environment needs its own transport certificate and key (shared, they are rotated and revoked together); give each environment its own secrets parameters (or ssmPrefix)',
    ]);
  });

  it("secrets: one environment's certificate parameter is another's key", () => {
    const a = env('alpha', (d) => (d.secrets = { tlsCertParameter: '/oe/transport' }));
    const b = env('beta', (d) => (d.secrets = { tlsKeyParameter: '/oe/transport' }));
    expect(environmentClashes([a, b])).toEqual([
      'secrets: "/oe/transport" is used by both secrets.tlsCertParameter of "alpha" (/config/alpha.yaml) and secrets.tlsKeyParameter of "beta" (/config/beta.yaml) in region eu-west-2; each environment needs its own transport certificate and key (shared, they are rotated and revoked together); give each environment its own secrets parameters (or ssmPrefix)',
    ]);
  });

  it('domain: one DNS record each (omitted, both get the default)', () => {
    const omitted = (d: Record<string, any>) => delete d.domain;
    expect(environmentClashes([env('alpha', omitted), env('beta', omitted)])).toEqual([
      'domain: "example.energydata.org.uk" is used by both "alpha" (/config/alpha.yaml) and "beta" (/config/beta.yaml); they would claim the same DNS record (and certificate); give each environment its own domain',
    ]);
  });

  it('backend.s3: one state file each (bucket + key)', () => {
    const state = (bucket: string, key: string) => (d: Record<string, any>) => (d.backend = { s3: { bucket, key } });
    expect(environmentClashes([env('alpha', state('tf-state', 'provider/alpha.tfstate')), env('beta', state('tf-state', 'provider/beta.tfstate'))])).toEqual([]);
    expect(environmentClashes([env('alpha', state('tf-state-a', 'provider.tfstate')), env('beta', state('tf-state-b', 'provider.tfstate'))])).toEqual([]);
    expect(environmentClashes([env('alpha', state('tf-state', 'provider.tfstate')), env('beta', state('tf-state', 'provider.tfstate')), env('gamma')])).toEqual([
      'backend.s3.key: "provider.tfstate" in bucket "tf-state" is used by both "alpha" (/config/alpha.yaml) and "beta" (/config/beta.yaml); they would share (and overwrite) one Terraform state; give each environment its own backend.s3.key',
    ]);
  });

  it('names every environment sharing a value on one line', () => {
    const shared = (d: Record<string, any>) => (d.domain = 'data.energydata.org.uk');
    expect(environmentClashes([env('alpha', shared), env('beta', shared), env('gamma', shared)])).toEqual([
      'domain: "data.energydata.org.uk" is used by "alpha" (/config/alpha.yaml), "beta" (/config/beta.yaml) and "gamma" (/config/gamma.yaml); they would claim the same DNS record (and certificate); give each environment its own domain',
    ]);
  });

  it('checkEnvironmentSet: one EnvironmentError with every clash, naming the files involved', () => {
    const copy = (d: Record<string, any>) => {
      d.namePrefix = 'provider-prod';
      d.domain = 'data.energydata.org.uk';
    };
    expect(() => checkEnvironmentSet([env('prod', copy), env('staging', copy), env('dev')])).toThrow(
      new EnvironmentError('/config/prod.yaml, /config/staging.yaml', [
        'namePrefix: "provider-prod" is used by both "prod" (/config/prod.yaml) and "staging" (/config/staging.yaml); their IAM role and instance profile (account-wide, whatever the region), security group and SSM association names would collide; give each environment its own namePrefix',
        'domain: "data.energydata.org.uk" is used by both "prod" (/config/prod.yaml) and "staging" (/config/staging.yaml); they would claim the same DNS record (and certificate); give each environment its own domain',
      ]),
    );
    expect(() => checkEnvironmentSet([env('prod'), env('staging')])).not.toThrow();
  });
});
