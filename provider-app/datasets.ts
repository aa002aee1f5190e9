import { promises as fs, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { isDatasetName } from './decision/routes';

export interface DatasetFile {
  readonly name: string;
  /** Real path, guaranteed inside the real data folder. */
  readonly path: string;
  readonly stat: Stats;
}

/**
 * Resolves a validated name to a regular file inside `dataDir`, following symlinks only
 * when their target stays inside the folder. Undefined when there is no such dataset.
 */
export async function resolveDataset(dataDir: string, name: string): Promise<DatasetFile | undefined> {
  // Here too, and not only at the routes: a listed file name reaches the disk through this.
  if (!isDatasetName(name)) return undefined;
  let root: string;
  let path: string;
  try {
    root = await fs.realpath(dataDir);
    path = await fs.realpath(join(root, `${name}.csv`));
  } catch {
    return undefined;
  }
  if (!path.startsWith(root + sep)) return undefined;
  const stat = await fs.stat(path).catch(() => undefined);
  if (!stat?.isFile()) return undefined;
  return { name, path, stat };
}

/** Every readable dataset in `dataDir`, sorted by name. */
export async function listDatasets(dataDir: string): Promise<DatasetFile[]> {
  const entries = await fs.readdir(dataDir).catch(() => [] as string[]);
  const names = entries.filter((f) => f.endsWith('.csv')).map((f) => f.slice(0, -'.csv'.length));
  const files = await Promise.all(names.map((name) => resolveDataset(dataDir, name)));
  return files.filter((f): f is DatasetFile => f !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}

/** X-Accel-Redirect target for nginx's internal location. */
export function accelRedirectTarget(prefix: string, name: string): string {
  return `${prefix}${encodeURIComponent(name)}.csv`;
}

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

