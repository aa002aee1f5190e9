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
  load_host_env
  set_defaults
  require_commands "$PH_NGINX_BIN" "$PH_NODE" "$PH_PM2" "$PH_AWS"
  have_certificate || die "no certificate at $PH_LE_LIVE: run setup.sh first"
  log "updating $PH_DOMAIN from $PH_CURRENT"

  local reload_nginx=1 reload_app_needed=1
  ensure_app_user
  ensure_folders
  fetch_secrets && reload_app_needed=0
  fetch_trust_bundle && reload_nginx=0
  # The app may index the datasets: reload it after a swap too (no downtime).
  sync_content && reload_app_needed=0
  # Switching between Let's Encrypt staging and production is a host.env change.
  ensure_certificate
  install_nginx_share && reload_nginx=0
  install_mtls_site && reload_nginx=0
  ((reload_nginx == 0)) && nginx_apply

  install_app && reload_app_needed=0
  write_app_config && reload_app_needed=0
  if ! ensure_app_started && ((reload_app_needed == 0)); then
    reload_app
  fi
  install_renewal_timer || true

  log "update complete: $PH_CHANGES change(s)"
}

main "$@"
