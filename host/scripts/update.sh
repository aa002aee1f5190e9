#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# In-place update, called by bootstrap.sh when a deploy changes the bundle,
# the datasets, the public files or the trust bundle. Nothing is stopped:
# files are swapped atomically, nginx reloads gracefully, PM2 replaces the
# app's workers one at a time. Idempotent like setup.sh.
set -euo pipefail
umask 022
PH_SCRIPT_NAME=update.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/provisioning.sh
. "$here/lib/provisioning.sh"

main() {
  require_root
  set_defaults
  require_commands "$PH_NGINX_BIN" "$PH_NODE" "$PH_PM2" "$PH_AWS"
  have_certificate || die "no certificate at $PH_LE_LIVE: run setup.sh first"
  log "updating $PH_DOMAIN from $PH_CURRENT"

  # Steps are plain statements (set -e holds inside them); track notes which
  # ones changed something, to reload nginx and the app only when needed.
  local reload_nginx=0 reload_app=0
  ensure_app_user
  ensure_folders
  install_metadata_guard
  track reload_nginx fetch_trust_bundle
  # The CRLs follow the trust bundle (its issuers, its distribution points).
  track reload_nginx refresh_crls
  track reload_nginx sync_deny_list
  track reload_nginx install_revocation_nginx
  # The app may index the datasets: reload it after a swap too (no downtime).
  track reload_app sync_content
  # Switching between Let's Encrypt staging and production is a host.env change.
  # A fleet shares one certificate through the bucket (lib/fleet-certificate.sh).
  if [[ $PH_FLEET == true ]]; then fleet_ensure_certificate; else ensure_certificate; fi
  track reload_nginx install_nginx_share
  track reload_nginx install_mtls_site
  if ((reload_nginx == 1)); then nginx_apply; fi

  track reload_app fetch_secrets
  track reload_app install_app
  track reload_app write_app_config
  ensure_app_running "$reload_app"
  ensure_pm2_startup
  install_logrotate
  if [[ $PH_FLEET == true ]]; then install_fleet_certificate_timer; else install_renewal_timer; fi
  install_release_timer
  install_metrics_timer
  install_report_timer
  install_cloudwatch_agent
  install_revocation_timer

  log "update complete: $PH_CHANGES change(s)"
}

main "$@"
