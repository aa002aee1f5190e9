#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# First-boot setup of the provider host, called by bootstrap.sh once the bundle
# is unpacked at $PH_PREFIX/current. Idempotent: a second run changes nothing
# and ends with "0 change(s)".
#
#  1. the app user and folders        5. the mTLS site, nginx -t, reload
#  2. secrets (SSM) and trust bundle  6. the app under PM2 (+ boot persistence, log rotation)
#  3. datasets and public files (S3)  7. renewal timer (deploy hook: reload nginx, back up)
#  4. certificate: restore the backup, or bootstrap site + wait for DNS + certbot
#     (and a new one when the configured ACME directory changed)
set -euo pipefail
umask 022
PH_SCRIPT_NAME=setup.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/provisioning.sh
. "$here/lib/provisioning.sh"

main() {
  require_root
  load_host_env
  set_defaults
  require_commands "$PH_NGINX_BIN" "$PH_CERTBOT" "$PH_NODE" "$PH_PM2" "$PH_AWS" curl tar runuser
  log "setting up $PH_DOMAIN from $PH_CURRENT"

  ensure_app_user
  ensure_folders
  fetch_secrets || true
  fetch_trust_bundle || true
  sync_content || true
  install_nginx_share || true

  if ! have_certificate; then
    # Port 80 must answer ACME challenges before there is a certificate.
    install_bootstrap_site || true
    nginx_apply
  fi
  ensure_certificate

  if install_mtls_site; then nginx_apply; else nginx_ensure_running; fi

  install_app || true
  write_app_config || true
  ensure_app_started || true
  ensure_pm2_startup
  ensure_pm2_logrotate
  install_renewal_timer || true

  log "setup complete: $PH_CHANGES change(s)"
}

main "$@"
