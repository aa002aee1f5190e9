# shellcheck shell=bash
# Certificate renewal: a systemd timer of our own (AL2023 has no cron), twice
# a day with a random delay. `certbot renew` renews only what is due and runs
# the deploy hook saved in the lineage's renewal config (reload nginx, refresh
# the S3 backup). Our own units rather than the package's certbot-renew.timer:
# the flags and directories are ours, and the units are verified in tests.

# Records a change when a unit changed or the timer was enabled.
install_renewal_timer() {
  local certbot_path
  certbot_path=$(command -v "$PH_CERTBOT") || die "certbot not found"
  ensure_dir "$PH_SYSTEMD_DIR" 0755 root:root
  host_render template "$PH_CURRENT/host/systemd/provider-certbot-renew.service.tmpl" \
    "certbot=$certbot_path" "ph_etc=$PH_ETC" "le_dir=$PH_LE_DIR" "le_work_dir=$PH_LE_WORK_DIR" "le_logs_dir=$PH_LE_LOGS_DIR" \
    "result_script=$PH_PREFIX/current/host/scripts/certbot-renew-result.sh" \
    >"$PH_STATE/renew.service.rendered" || die "cannot render the renewal service (above)"
  install_timer provider-certbot-renew renewal "$PH_STATE/renew.service.rendered" "certificates would not renew"
}
