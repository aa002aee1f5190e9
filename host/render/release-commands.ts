/**
 * The host's reading of published releases (contract/release-manifest.ts), for the bash
 * release sync (host/scripts/lib/release-sync.sh): bash gets plain lines, never JSON.
 *
 *   release-pointer FILE    `<release id> <manifest key> <manifest sha256>`
 *   release-plan FILE       one `<sha256> <size> <name>` line per file of the manifest
 *   release-checksums FILE  `<sha256>  <name>` lines, the input of `sha256sum -c`
 *   release-status SERVING SINCE [REJECTED_ID REJECTED_AT REASON]
 *                           the host status object (host-status/release.json)
 */
import {
  hostReleaseStatusSchema,
  parseReleaseManifest,
  parseReleasePointer,
  RELEASE_FORMAT,
  releaseJson,
  releaseKey,
  ReleaseFormatError,
  type HostReleaseStatus,
} from '../../contract/release-manifest';

export { ReleaseFormatError };

export function releasePointerLine(text: string, file: string): string {
  const pointer = parseReleasePointer(text, file);
  if (pointer.manifestKey !== releaseKey(pointer.release)) {
    throw new ReleaseFormatError(file, [`manifestKey ${pointer.manifestKey} is not ${releaseKey(pointer.release)}`]);
  }
  return `${pointer.release} ${pointer.manifestKey} ${pointer.manifestSha256}\n`;
}

export function releasePlanLines(text: string, file: string, expectedId?: string): string {
  const manifest = parseReleaseManifest(text, file);
  if (expectedId !== undefined && manifest.id !== expectedId) throw new ReleaseFormatError(file, [`id is ${manifest.id}, the pointer names ${expectedId}`]);
  return manifest.files.map((f) => `${f.sha256} ${f.size} ${f.name}\n`).join('');
}

export function releaseChecksumLines(text: string, file: string): string {
  return parseReleaseManifest(text, file).files.map((f) => `${f.sha256}  ${f.name}\n`).join('');
}

export function releaseStatusJson(args: readonly string[], now: Date): string {
  const [serving, since, rejectedId, rejectedAt, ...reason] = args;
  const status: HostReleaseStatus = {
    format: RELEASE_FORMAT,
    serving: serving ?? 'none',
    ...(since ? { servingSince: since } : {}),
    checkedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(rejectedId ? { rejected: { release: rejectedId, at: rejectedAt ?? '', reason: reason.join(' ') } } : {}),
  };
  const result = hostReleaseStatusSchema.safeParse(status);
  if (!result.success) throw new ReleaseFormatError('the host status', result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return releaseJson(result.data);
}
