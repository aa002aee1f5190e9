/**
 * The bucket layout is defined once (bucket-layout.ts); the host builds the backup's URL
 * from the prefix the stack sends. The instance role may write exactly
 * BUCKET_LAYOUT.letsencryptBackupKey: if the host wrote another key, the backup would be
 * refused at renewal. This test evaluates the host's own line.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUCKET_LAYOUT } from './bucket-layout';
import { PROJECT_ROOT } from '../lib/project-paths';

const COMMON_SH = path.join(PROJECT_ROOT, 'host', 'scripts', 'lib', 'common.sh');

it('the host writes its certificate backup to exactly the key the instance role may write', () => {
  const lines = fs.readFileSync(COMMON_SH, 'utf8').split('\n').filter((l) => /^\s*PH_BACKUP_URL=/.test(l));
  expect(lines).toHaveLength(1);
  const result = spawnSync('bash', ['--noprofile', '--norc', '-c', `set -eu\n${lines[0]}\nprintf '%s' "$PH_BACKUP_URL"`], {
    env: { PATH: process.env.PATH ?? '', PH_BUCKET: 'the-bucket', PH_LE_BACKUP_PREFIX: BUCKET_LAYOUT.letsencrypt },
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  expect(result.stdout).toBe(`s3://the-bucket/${BUCKET_LAYOUT.letsencryptBackupKey}`);
});

it('the backup key lies under the letsencrypt/ prefix the host reads and lists', () => {
  expect(BUCKET_LAYOUT.letsencryptBackupKey.startsWith(BUCKET_LAYOUT.letsencrypt)).toBe(true);
  expect(BUCKET_LAYOUT.letsencryptBackupKey.slice(BUCKET_LAYOUT.letsencrypt.length)).not.toContain('/');
});
