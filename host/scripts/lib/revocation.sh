# shellcheck shell=bash
# Revocation (docs/host.md "Revocation"): the CRLs nginx checks client certificates
# against, and the operator's deny list.
#
# refresh_crls     fetches every CRL (the configured URLs and the trust bundle's
#                  distribution points), verifies each against the trust bundle, refuses
#                  an older or expired one, installs the set atomically
#                  ($PH_REVOCATION_DIR/crl.pem) and writes the status (state, hours to
#                  nextUpdate, last success, last error) — host-render revocation-refresh.
#                  A source that fails keeps its installed CRL and says so.
# sync_deny_list   downloads the deny list (BUCKET_LAYOUT.denyListKey), validates it and
#                  installs it; no object is an empty list.
# install_revocation_nginx
#                  renders the two nginx files from both (nginx/revocation.ts).
# Each records a change when it changed something; the caller tests nginx and reloads
# it (revocation_apply here, nginx_apply in setup.sh), never restarts it.
#
# Run by setup.sh and update.sh, by provider-host-revocation.timer every
# PH_CRL_REFRESH_MINUTES (host/scripts/revocation-refresh.sh), and the deny list also by
# the release timer every 20 s (host/scripts/release-sync.sh).

# The revocation status object the host writes (BUCKET_LAYOUT.revocationStatusKey;
# host/test/revocation.test.ts checks they agree).
PH_REVOCATION_STATUS_KEY=host-status/revocation.json

refresh_crls() {
  local result="" ok=1 lines=$PH_STATE/revocation-refresh.log line
  ensure_dir "$PH_REVOCATION_DIR" 0755 root:root
  result=$(host_render revocation-refresh 2>"$lines") || ok=0
  while IFS= read -r line; do log "$line"; done <"$lines"
  ((ok == 1)) || die "cannot refresh the CRLs (above); the installed set is unchanged"
  [[ $result == changed ]] && changed "CRL set in $PH_REVOCATION_DIR/crl.pem"
  revocation_upload_status
  return 0
}

# Best effort: the operator's view (provider-host status) and the alarms read it.
revocation_upload_status() {
  local status=$PH_REVOCATION_DIR/status.json
  [[ -s $status ]] || return 0
  if ! aws_cli s3 cp --only-show-errors "$status" "s3://$PH_BUCKET/$PH_REVOCATION_STATUS_KEY" 2>"$PH_STATE/revocation-status.err"; then
    log "WARNING: cannot write s3://$PH_BUCKET/$PH_REVOCATION_STATUS_KEY: $(head -c 300 "$PH_STATE/revocation-status.err")"
  fi
}

sync_deny_list() {
  local url="s3://$PH_BUCKET/$PH_DENY_LIST_KEY" installed=$PH_REVOCATION_DIR/deny-list.json next count
  ensure_dir "$PH_REVOCATION_DIR" 0755 root:root
  next=$PH_REVOCATION_DIR/.deny-list.json.next
  rm -f "$next"
  # `s3 ls` of a missing key: exit 1 and nothing on stderr (the role may list revocation/).
  if ! aws_cli s3 ls "$url" >/dev/null 2>"$PH_STATE/deny-list.err"; then
    if [[ -s $PH_STATE/deny-list.err ]]; then
      log "WARNING: cannot read $url: $(head -c 300 "$PH_STATE/deny-list.err"); the installed deny list stays"
      return 0
    fi
    if [[ -e $installed ]]; then
      rm -f "$installed"
      changed "deny list removed ($url no longer exists)"
    fi
    return 0
  fi
  if ! aws_cli s3 cp --only-show-errors "$url" "$next" 2>"$PH_STATE/deny-list.err"; then
    log "WARNING: cannot download $url: $(head -c 300 "$PH_STATE/deny-list.err"); the installed deny list stays"
    return 0
  fi
  if ! count=$(host_render deny-list-check "$next"); then
    rm -f "$next"
    log "ERROR: $url is not a valid deny list (above); the installed one stays. Write it with: provider-host revoke"
    return 0
  fi
  if [[ -e $installed ]] && cmp -s "$next" "$installed"; then
    rm -f "$next"
    return 0
  fi
  chmod 0644 "$next"
  mv -f "$next" "$installed" || die "cannot install $installed"
  changed "deny list: $count entr$( ((count == 1)) && echo y || echo ies) from $url"
}

install_revocation_nginx() {
  local result
  ensure_dir "$PH_REVOCATION_DIR" 0755 root:root
  result=$(host_render revocation-nginx) || die "cannot render the revocation files for nginx (above)"
  [[ $result == changed ]] && changed "nginx revocation files in $PH_REVOCATION_DIR"
  return 0
}

# After a timer's refresh: a changed CRL set or deny list reaches the running nginx by a
# reload (no request dropped). nginx -t failing keeps the running configuration.
revocation_apply() {
  if [[ $PH_SYSTEMD == 1 ]]; then
    systemctl is-active --quiet nginx || return 0
  else
    nginx_running || return 0
  fi
  nginx_apply
}

# The timer that refreshes the CRLs. Records a change when a unit changed or the timer
# was enabled.
install_revocation_timer() {
  host_render template "$PH_CURRENT/host/systemd/provider-host-revocation.service.tmpl" \
    "ph_etc=$PH_ETC" "script=$PH_PREFIX/current/host/scripts/revocation-refresh.sh" \
    >"$PH_STATE/revocation.service.rendered" || die "cannot render the revocation service (above)"
  host_render template "$PH_CURRENT/host/systemd/provider-host-revocation.timer.tmpl" \
    "minutes=$PH_CRL_REFRESH_MINUTES" \
    >"$PH_STATE/revocation.timer.rendered" || die "cannot render the revocation timer (above)"
  install_timer provider-host-revocation revocation "$PH_STATE/revocation.service.rendered" \
    "revoked certificates would be accepted until their CRL expires" "$PH_STATE/revocation.timer.rendered"
}
