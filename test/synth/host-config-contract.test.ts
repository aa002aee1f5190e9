/**
 * The contract between the stack and the host scripts (stacks/constructs/host-config.ts): the
 * env file the stack stores in SSM is accepted, key by key, by the bootstrap's line
 * check and by the host scripts' own parser (host/scripts/lib/common.sh).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../config/paths';
import { only, removeTempDirs, synthStack, tempDir } from './support';

afterAll(removeTempDirs);

it('the host scripts read every key of the synthesized host config', () => {
  const { doc } = synthStack();
  // At apply time Terraform fills in the bucket name; use one S3 could have generated.
  const value = (only(doc, 'aws_ssm_parameter').value as string).replace('${aws_s3_bucket.data_bucket.bucket}', 'provider-example-20261122140000000000000001');
  expect(value).not.toContain('${');
  const etc = tempDir('contract-etc');
  fs.writeFileSync(path.join(etc, 'host.env'), value);

  const keys = value.trim().split('\n').map((line) => line.split('=')[0]);
  const script = [
    `source ${JSON.stringify(path.join(PROJECT_ROOT, 'host', 'scripts', 'lib', 'common.sh'))}`,
    'load_host_env',
    'set_defaults',
    ...keys.map((key) => `printf '%s=%s\\n' ${key} "$${key}"`),
  ].join('\n');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PH_')));
  const result = spawnSync('bash', ['-c', script], { env: { ...clean, PH_ETC: etc }, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toBe(value);
});
