# shellcheck shell=bash
# The daily access report (docs/operations.md "Access report"): who read what, mailed to
# people once a day.
#
# send_daily_report DAY   builds DAY's report (UTC) from this host's logs — nginx's JSON
#                         access log and its rotated copies, the app's PM2 logs — with the
#                         shipped renderer (host-render daily-report), writes the page and
#                         its JSON model to the bucket and mails the page (with a plain-text
#                         part) through `aws sesv2 send-email` from PH_REPORT_SENDER to
#                         PH_REPORT_RECIPIENTS. Run by provider-host-report.timer at
#                         PH_REPORT_HOUR (host/scripts/daily-report.sh), and by hand.
# install_report_timer    the timer when the report is on (PH_REPORT_SENDER set), none
#                         when it is off.
# Nothing here is on the data path; the report carries counts, client ids, certificate
# subjects and dataset names, never a token or a key (tools/report redacts them).

# The objects the host writes (BUCKET_LAYOUT.accessReport{Html,Json}Key in
# contract/bucket-layout.ts; host/test/report.test.ts checks they agree).
PH_REPORT_HTML_KEY=host-status/access-report.html
PH_REPORT_JSON_KEY=host-status/access-report.json
# Bound of building the report, and of each AWS call.
PH_REPORT_BUILD_TIMEOUT_SECONDS=${PH_REPORT_BUILD_TIMEOUT_SECONDS:-300}
PH_REPORT_AWS_TIMEOUT_SECONDS=${PH_REPORT_AWS_TIMEOUT_SECONDS:-60}

send_daily_report() {
  local day=$1 dir=$PH_STATE/report lock summary line failed=0 message_id recipients
  if [[ -z ${PH_REPORT_SENDER:-} || -z ${PH_REPORT_RECIPIENTS:-} ]]; then
    log "no report mailed: PH_REPORT_SENDER or PH_REPORT_RECIPIENTS is empty (operations.report.enabled is off for this environment)"
    return 0
  fi
  [[ -r $PH_RENDER ]] || die "the bundle at $PH_CURRENT has no renderer ($PH_RENDER); deploy a complete bundle"
  ensure_dir "$dir" 0700 root:root
  exec {lock}>"$dir/lock"
  if ! flock -n "$lock"; then
    log "another run holds $dir/lock: this one sends nothing"
    return 0
  fi
  rm -f "$dir/access-report.html" "$dir/access-report.json" "$dir/mail-content.json" "$dir/mail-destination.json"
  if ! summary=$(timeout "$PH_REPORT_BUILD_TIMEOUT_SECONDS" "$PH_NODE" "$PH_RENDER" daily-report "day=$day" \
    "nginx_log_dir=$PH_NGINX_LOG_DIR" "pm2_log_dir=$PH_PM2_HOME/logs" "app=$PH_APP_NAME" "out_dir=$dir" 2>"$dir/build.err"); then
    while IFS= read -r line; do log "$line"; done <"$dir/build.err"
    die "cannot build the access report of $day (above)"
  fi
  while IFS= read -r line; do log "$line"; done <"$dir/build.err"

  # The page the mail points at, and its model, for whoever reads the bucket.
  if ! timeout "$PH_REPORT_AWS_TIMEOUT_SECONDS" "$PH_AWS" --region "$PH_REGION" s3 cp --only-show-errors --content-type 'text/html; charset=utf-8' \
    "$dir/access-report.html" "s3://$PH_BUCKET/$PH_REPORT_HTML_KEY" 2>"$dir/put.err" \
    || ! timeout "$PH_REPORT_AWS_TIMEOUT_SECONDS" "$PH_AWS" --region "$PH_REGION" s3 cp --only-show-errors --content-type application/json \
      "$dir/access-report.json" "s3://$PH_BUCKET/$PH_REPORT_JSON_KEY" 2>>"$dir/put.err"; then
    log "ERROR: cannot write the report to s3://$PH_BUCKET/host-status/: $(head -c 300 "$dir/put.err" | tr '\n' ' ')"
    failed=1
  fi

  recipients=$(tr ',' '\n' <<<"$PH_REPORT_RECIPIENTS" | grep -c .)
  if message_id=$(timeout "$PH_REPORT_AWS_TIMEOUT_SECONDS" "$PH_AWS" --region "$PH_REGION" sesv2 send-email \
    --from-email-address "$PH_REPORT_SENDER" --destination "file://$dir/mail-destination.json" \
    --content "file://$dir/mail-content.json" --query MessageId --output text 2>"$dir/send.err"); then
    log "mailed the access report of $summary to $recipients recipient(s) from $PH_REPORT_SENDER (SES message $message_id)"
  else
    log "ERROR: SES did not take the access report of $day (from $PH_REPORT_SENDER): $(head -c 300 "$dir/send.err" | tr '\n' ' ')"
    failed=1
  fi
  ((failed == 0)) || die "the access report of $day was not delivered everywhere (above)"
}

# The daily timer, at PH_REPORT_HOUR (UTC), when the report is on; removed when it is off.
# Records a change when a unit changed, or the timer was enabled or removed.
install_report_timer() {
  local name=provider-host-report hour
  if [[ -z ${PH_REPORT_SENDER:-} ]]; then
    [[ -e $PH_SYSTEMD_DIR/$name.timer || -e $PH_SYSTEMD_DIR/$name.service ]] || return 0
    if [[ $PH_SYSTEMD == 1 ]]; then systemctl disable --now --quiet "$name.timer" 2>/dev/null || true; fi
    rm -f "$PH_SYSTEMD_DIR/$name.timer" "$PH_SYSTEMD_DIR/$name.service"
    if [[ $PH_SYSTEMD == 1 ]]; then systemctl daemon-reload || die "systemctl daemon-reload failed after removing the report units"; fi
    changed "$name.timer removed (operations.report is off)"
    return 0
  fi
  printf -v hour '%02d' "$PH_REPORT_HOUR"
  host_render template "$PH_CURRENT/host/systemd/$name.service.tmpl" \
    "ph_etc=$PH_ETC" "script=$PH_PREFIX/current/host/scripts/daily-report.sh" "state_dir=$PH_STATE" "host_log_dir=$PH_HOST_LOG_DIR" \
    >"$PH_STATE/report.service.rendered" || die "cannot render the report service (above)"
  host_render template "$PH_CURRENT/host/systemd/$name.timer.tmpl" "hour=$hour" \
    >"$PH_STATE/report.timer.rendered" || die "cannot render the report timer (above)"
  install_timer "$name" report "$PH_STATE/report.service.rendered" \
    "nobody would receive the daily access report" "$PH_STATE/report.timer.rendered"
}
