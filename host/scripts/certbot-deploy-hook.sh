#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# certbot deploy hook: runs after every successful issuance or renewal (passed
# with --deploy-hook on the first certonly, which also stores it in the
# lineage's renewal config). Reloads nginx so it serves the new certificate,
# then refreshes the S3 backup so a replacement instance restores it.
set -euo pipefail
umask 022
PH_SCRIPT_NAME=certbot-deploy-hook.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/certificate.sh
. "$here/lib/certificate.sh"

main() {
  set_defaults
  log "certificate deployed for ${RENEWED_DOMAINS:-$PH_DOMAIN}"
  # During the first issuance nginx still runs the bootstrap site: reloading is harmless.
  nginx_apply
  # Renew once a third of this certificate's lifetime is left (24-hour ones too),
  # written before the backup so that a restore brings the window back with it.
  set_renewal_window
  backup_certificate
}

main "$@"
