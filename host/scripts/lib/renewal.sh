# shellcheck shell=bash
# Certificate renewal: a systemd timer of our own (AL2023 has no cron), twice
# a day with a random delay. `certbot renew` renews only what is due and runs
# the deploy hook saved in the lineage's renewal config (reload nginx, refresh
# the S3 backup). Our own units rather than the package's certbot-renew.timer:
# the flags and directories are ours, and the units are verified in tests.

# Returns 0 when a unit changed.
install_renewal_timer() {
  local changed_any=1 certbot_path
  certbot_path=$(command -v "$PH_CERTBOT") || die "certbot not found"
  ensure_dir "$PH_SYSTEMD_DIR" 0755 root:root
  render_template "$PH_CURRENT/host/systemd/provider-certbot-renew.service.tmpl" \
    "certbot=$certbot_path" "ph_etc=$PH_ETC" "le_dir=$PH_LE_DIR" "le_work_dir=$PH_LE_WORK_DIR" "le_logs_dir=$PH_LE_LOGS_DIR" \
    >"$PH_STATE/renew.service.rendered" || die "cannot render the renewal service"
  install_file "$PH_STATE/renew.service.rendered" "$PH_SYSTEMD_DIR/provider-certbot-renew.service" 0644 root:root && changed_any=0
  install_file "$PH_CURRENT/host/systemd/provider-certbot-renew.timer" "$PH_SYSTEMD_DIR/provider-certbot-renew.timer" 0644 root:root && changed_any=0
  if [[ $PH_SYSTEMD == 1 ]]; then
    ((changed_any == 0)) && systemctl daemon-reload
    systemctl is-enabled --quiet provider-certbot-renew.timer \
      || { systemctl enable --now --quiet provider-certbot-renew.timer; changed "provider-certbot-renew.timer enabled"; }
  else
    log "no systemd (PH_SYSTEMD=$PH_SYSTEMD): renewal units written, not enabled"
  fi
  return "$changed_any"
}
