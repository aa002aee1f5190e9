/**
 * Where things live in the data bucket: the stack creates and grants these, the host
 * reads them (their keys travel in host.env), the replica's S3 stand-in lays them out.
 */
const LETSENCRYPT = 'letsencrypt/';

export const BUCKET_LAYOUT = {
  bundles: 'bundles/',
  trust: 'trust/',
  trustBundleKey: 'trust/client-ca-bundle.pem',
  data: 'shared_data/',
  public: 'public/',
  letsencrypt: LETSENCRYPT,
  /**
   * The one object the host writes: the certificate backup. The host builds it as
   * `${PH_LE_BACKUP_PREFIX}letsencrypt.tar.gz` (host/scripts/lib/common.sh, PH_BACKUP_URL);
   * the instance role may write this key only (contract/bucket-layout.test.ts checks both agree).
   */
  letsencryptBackupKey: `${LETSENCRYPT}letsencrypt.tar.gz`,
  /**
   * Fleet mode: the renewal lock (host/scripts/lib/fleet-certificate.sh), created with
   * If-None-Match so that one host renews the shared certificate; the instance role writes
   * and deletes it besides the backup.
   */
  letsencryptLockKey: `${LETSENCRYPT}renewal.lock`,
  revocation: 'revocation/',
  /** The operator's deny list (contract/deny-list.ts): written by `provider-host revoke`, read by the host. */
  denyListKey: 'revocation/deny-list.json',
  /** The host's revocation status (CRLs installed, hours to nextUpdate, last error): written by the host. */
  revocationStatusKey: 'host-status/revocation.json',
  /** The last daily access report (host/scripts/daily-report.sh): the page mailed, and its JSON model. */
  accessReportHtmlKey: 'host-status/access-report.html',
  accessReportJsonKey: 'host-status/access-report.json',
} as const;
