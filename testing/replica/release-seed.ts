/**
 * Datasets into the replica's stand-in bucket the way they reach the real one: through
 * `provider-host publish`'s code (tools/publish) with the folder store, whose keys and
 * write order are the S3 store's. The replica's aws stand-in serves that folder.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FolderStore } from '../../tools/publish/folder-store';
import { readLocalRelease } from '../../tools/publish/local-files';
import { publishRelease, type PublishResult } from '../../tools/publish/publish';

/** Writes `datasets` (name → bytes) to `workDir` and publishes that folder as the whole release. */
export async function publishDatasets(bucketDir: string, datasets: Readonly<Record<string, string | Buffer>>, workDir: string): Promise<PublishResult> {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  for (const [name, content] of Object.entries(datasets)) {
    mkdirSync(join(workDir, name, '..'), { recursive: true });
    writeFileSync(join(workDir, name), content);
  }
  return publishRelease({ store: new FolderStore(bucketDir), local: await readLocalRelease([workDir]) });
}
