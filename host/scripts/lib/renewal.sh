# shellcheck shell=bash
# Certificate renewal: a systemd timer of our own (AL2023 has no cron). `certbot
# renew` renews only what is due and runs the deploy hook saved in the lineage's
# renewal config (reload nginx, refresh the S3 backup). Our own units rather than
# the package's certbot-renew.timer: the flags and directories are ours, and the
# units are verified in tests.
#
# The cadence follows the certificate's lifetime L: a check every L/12 (from 5
# minutes to 12 hours), while certbot renews once L/3 is left (set_renewal_window,
# lib/certificate.sh): four checks or more fall inside the window, so a failed one
# is retried well before the certificate lapses. Let's Encrypt's 90 days give twice
# a day; a directory's 24-hour certificates every 2 hours, renewing 8 hours early.

# The timer's period in minutes for a lifetime in seconds: L/12, rounded, within 5 … 720.
renewal_period_minutes() {
  local minutes=$((($1 + 360) / 720))
  ((minutes >= 5)) || minutes=5
  ((minutes <= 720)) || minutes=720
  echo "$minutes"
}

# Prints "<calendar time> <randomized delay>" for the timer: twice a day (03:00 and
# 15:00, up to an hour late) at the 12-hour period; every H hours or every N minutes
# below it, late by at most a quarter of the period. systemd restarts a repetition
# at each day or hour, so a period that does not divide it only shortens one gap.
# renewal_schedule PERIOD_MINUTES
renewal_schedule() {
  local minutes=$1
  if ((minutes >= 720)); then
    echo "03,15:00:00 1h"
  elif ((minutes >= 60)); then
    echo "00/$((minutes / 60)):00:00 $((minutes * 60 / 4))s"
  else
    echo "*:00/$minutes:00 $((minutes * 60 / 4))s"
  fi
}

# Records a change when a unit changed or the timer was enabled.
install_renewal_timer() {
  local certbot_path lifetime period calendar delay
  certbot_path=$(command -v "$PH_CERTBOT") || die "certbot not found"
  ensure_dir "$PH_SYSTEMD_DIR" 0755 root:root
  host_render template "$PH_CURRENT/host/systemd/provider-certbot-renew.service.tmpl" \
    "certbot=$certbot_path" "ph_etc=$PH_ETC" "le_dir=$PH_LE_DIR" "le_work_dir=$PH_LE_WORK_DIR" "le_logs_dir=$PH_LE_LOGS_DIR" \
    "result_script=$PH_PREFIX/current/host/scripts/certbot-renew-result.sh" \
    >"$PH_STATE/renew.service.rendered" || die "cannot render the renewal service (above)"
  # No readable certificate (yet): Let's Encrypt's cadence, twice a day.
  lifetime=$(certificate_lifetime_seconds "$PH_LE_LIVE/cert.pem" 2>/dev/null) || lifetime=$((90 * 86400))
  period=$(renewal_period_minutes "$lifetime")
  read -r calendar delay < <(renewal_schedule "$period")
  host_render template "$PH_CURRENT/host/systemd/provider-certbot-renew.timer.tmpl" "calendar_time=$calendar" "randomized_delay=$delay" \
    >"$PH_STATE/renew.timer.rendered" || die "cannot render the renewal timer (above)"
  log "renewal checks every $period minutes (the certificate lives $((lifetime / 60)) minutes)"
  install_timer provider-certbot-renew renewal "$PH_STATE/renew.service.rendered" "certificates would not renew" "$PH_STATE/renew.timer.rendered"
}
