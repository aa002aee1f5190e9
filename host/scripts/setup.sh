#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# First-boot setup of the provider host, called by bootstrap.sh once the bundle
# is unpacked at $PH_PREFIX/current. Idempotent: a second run changes nothing
# and ends with "0 change(s)".
#
#  1. the app user and folders;       5. the mTLS site, nginx -t, reload
#     the metadata guard (nftables)   6. secrets (SSM), the app under PM2 (+ boot
#  2. trust bundle (S3)                  persistence and its sandbox, logrotate)
#  3. datasets and public files (S3)  7. renewal timer (deploy hook: reload nginx,
#  4. certificate: restore the backup    back up)
#     (allow-listed), or bootstrap site + wait for DNS
#     + certbot (and a new one when the configured ACME directory changed)
#
# The secrets come after the certificate: only the app needs them, and a secret
# not created yet must not cost the certificate (and its backup) or the site.
set -euo pipefail
umask 022
PH_SCRIPT_NAME=setup.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/provisioning.sh
. "$here/lib/provisioning.sh"

main() {
  require_root
  set_defaults
  require_commands "$PH_NGINX_BIN" "$PH_CERTBOT" "$PH_NODE" "$PH_PM2" "$PH_AWS" curl tar cmp runuser
  log "setting up $PH_DOMAIN from $PH_CURRENT"

  # Steps are plain statements (set -e holds inside them); track notes which
  # ones changed something. On a first boot nginx and the app are started
  # below anyway; after a first boot that failed half-way (bootstrap.sh then
  # runs setup.sh again for every deploy) they may already run the old files
  # and must reload, as update.sh would.
  local reload_nginx=0 reload_app=0
  ensure_app_user
  ensure_folders
  # Before the app user runs anything: no instance metadata (role credentials) for it.
  install_metadata_guard
  track reload_nginx fetch_trust_bundle
  # The CRLs follow the trust bundle (its issuers, its distribution points).
  track reload_nginx refresh_crls
  track reload_nginx sync_deny_list
  track reload_nginx install_revocation_nginx
  track reload_app sync_content
  track reload_nginx install_nginx_share

  if ! have_certificate; then
    # Port 80 must answer ACME challenges before there is a certificate.
    install_bootstrap_site
    nginx_apply
  fi
  # A fleet shares one certificate through the bucket (lib/fleet-certificate.sh).
  if [[ $PH_FLEET == true ]]; then fleet_ensure_certificate; else ensure_certificate; fi

  track reload_nginx install_mtls_site
  if ((reload_nginx == 1)); then nginx_apply; else nginx_ensure_running; fi

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

  log "setup complete: $PH_CHANGES change(s)"
}

main "$@"
