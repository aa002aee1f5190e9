/**
 * Datasets left Terraform: the stack owns the bucket, the prefixes and the permissions;
 * data reaches shared_data/ through `provider-host publish`. GIVEN the example
 * environment (which has a datasets folder) WHEN synthesized THEN no object of
 * shared_data/ is a Terraform resource, no dataset is an asset in cdktf.out/, and the
 * instance role reads releases but can never write one.
 */
import { RELEASE_LAYOUT } from '../contract/release-manifest';
import { BUCKET_LAYOUT } from '../contract/bucket-layout';
import { exampleConfig, removeTempDirs, resources, synthStack } from '../testing/synth';

const BUCKET_ARN = '${aws_s3_bucket.data_bucket.arn}';
const synth = synthStack(exampleConfig());
afterAll(removeTempDirs);

type Statement = { sid?: string; effect: string; actions?: string[]; resources?: string[] };
function hostStatements(): Statement[] {
  const documents = Object.entries(resources(synth.doc, 'data.aws_iam_policy_document')).length > 0
    ? resources(synth.doc, 'data.aws_iam_policy_document')
    : ((synth.doc as unknown as { data: Record<string, Record<string, Record<string, unknown>>> }).data.aws_iam_policy_document ?? {});
  const host = Object.entries(documents).find(([id]) => id.includes('host-policy'));
  if (!host) throw new Error('no host policy document');
  return host[1].statement as Statement[];
}

/** Does the ARN pattern `resource` (with * wildcards) match `key` in the bucket? */
function matches(resource: string, key: string): boolean {
  const pattern = new RegExp(`^${resource.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return pattern.test(`${BUCKET_ARN}/${key}`);
}

describe('datasets are published, not deployed', () => {
  it('no aws_s3_object lives under shared_data/', () => {
    const keys = Object.values(resources(synth.doc, 'aws_s3_object')).map((o) => String(o.key));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => key.startsWith(BUCKET_LAYOUT.data))).toEqual([]);
  });

  it('the deploy association does not depend on the datasets', () => {
    expect(synth.stack.storage.dataHash).toBe('published-releases');
  });
});

describe('the instance role and releases', () => {
  const keys = ['current.json', 'releases/20260101T000000Z-0123456789ab.json', `objects/${'a'.repeat(64)}`].map((k) => `${BUCKET_LAYOUT.data}${k}`);

  it('can read the pointer, the manifests and the objects', () => {
    const reads = hostStatements().filter((s) => s.effect === 'Allow' && s.actions?.includes('s3:GetObject')).flatMap((s) => s.resources ?? []);
    for (const key of keys) expect({ key, readable: reads.some((r) => matches(r, key)) }).toEqual({ key, readable: true });
  });

  it('cannot write any of them: PutObject names exact keys, the status object among them', () => {
    const writes = hostStatements().filter((s) => s.effect === 'Allow' && s.actions?.some((a) => a === 's3:PutObject' || a === 's3:*' || a === 's3:Put*')).flatMap((s) => s.resources ?? []);
    expect(writes).toEqual([`${BUCKET_ARN}/${BUCKET_LAYOUT.letsencryptBackupKey}`, `${BUCKET_ARN}/${RELEASE_LAYOUT.hostStatusKey}`, `${BUCKET_ARN}/${BUCKET_LAYOUT.revocationStatusKey}`]);
    for (const key of keys) expect({ key, writable: writes.some((w) => matches(w, key)) }).toEqual({ key, writable: false });
    expect(writes.some((w) => matches(w, RELEASE_LAYOUT.hostStatusKey))).toBe(true);
  });

  it('nothing else in the policy grants a write or delete in the bucket', () => {
    const risky = hostStatements().filter((s) => s.effect === 'Allow' && s.actions?.some((a) => /^s3:(Put|Delete|\*)/.test(a) && a !== 's3:PutObject'));
    expect(risky).toEqual([]);
  });
});
