# shellcheck shell=bash
# The provider app under PM2 (cluster mode), as the app user.
#
# PM2 runs a stable copy in $PH_APP_DIR rather than the release folder: the
# ecosystem file resolves its script from __dirname, which Node resolves
# through the `current` symlink to one release; a copy keeps the path fixed,
# so `pm2 reload` picks up new code without a delete/start.

# Records a change when the app's code changed.
install_app() {
  local file
  ensure_dir "$PH_APP_DIR/provider-app" 0755 root:root
  ensure_dir "$PH_APP_DIR/dist" 0755 root:root
  ensure_dir "$PH_APP_DIR/dist/provider-app" 0755 root:root
  [[ -f $PH_CURRENT/dist/provider-app/start-provider-app.js ]] || die "the bundle at $PH_CURRENT has no dist/provider-app/start-provider-app.js"
  install_file "$PH_CURRENT/provider-app/ecosystem.config.js" "$PH_APP_DIR/provider-app/ecosystem.config.js" 0644 root:root
  for file in "$PH_CURRENT/dist/provider-app"/*; do
    [[ -f $file ]] || continue
    install_file "$file" "$PH_APP_DIR/dist/provider-app/$(basename "$file")" 0644 root:root
  done
}

# Records a change when the config changed. The renderer checks it with the
# app's own schema before it is written.
write_app_config() {
  host_render app-config >"$PH_STATE/provider.json.rendered" || die "cannot write the app config (above)"
  # Readable by the app user only: it names the key files.
  install_file "$PH_STATE/provider.json.rendered" "$PH_APP_CONFIG" 0640 "root:$PH_GROUP"
}

pm2_cmd() { as_app_user "$PH_PM2" "$@"; }

# How many instances of the app PM2 reports online.
app_online_count() {
  pm2_cmd jlist 2>/dev/null | host_render pm2-online "$PH_APP_NAME"
}

wait_for_socket() {
  local deadline=$((SECONDS + PH_WAIT_SOCKET_SECONDS))
  until [[ -S $PH_SOCKET ]]; do
    ((SECONDS < deadline)) || die "the app did not create $PH_SOCKET within ${PH_WAIT_SOCKET_SECONDS}s; see: pm2 logs $PH_APP_NAME"
    sleep 0.5
  done
}

# The app serves what is installed: started when PM2 does not run it; when it
# is already online (a later run, or a first boot that failed after PM2 had
# started it) and RELOAD is 1 because its code, config, secrets or datasets
# changed, reloaded (zero downtime).
# ensure_app_running RELOAD
ensure_app_running() {
  local reload=$1
  if [[ $(app_online_count) -gt 0 ]]; then
    if [[ $reload == 1 ]]; then reload_app; fi
    return 0
  fi
  log "starting $PH_APP_NAME with PM2 ($PH_APP_INSTANCES instances)"
  pm2_cmd start "$PH_APP_DIR/provider-app/ecosystem.config.js" --update-env >/dev/null \
    || die "pm2 could not start $PH_APP_NAME; see: pm2 logs $PH_APP_NAME"
  wait_for_socket
  pm2_cmd save --force >/dev/null || die "pm2 save failed (the app would not come back after a reboot)"
  changed "pm2: $PH_APP_NAME started"
}

# Zero-downtime: PM2 replaces the workers one at a time, each new one taking
# traffic only after it signalled ready (wait_ready); the socket stays open.
reload_app() {
  log "reloading $PH_APP_NAME with PM2"
  pm2_cmd startOrReload "$PH_APP_DIR/provider-app/ecosystem.config.js" --update-env >/dev/null \
    || die "pm2 could not reload $PH_APP_NAME; see: pm2 logs $PH_APP_NAME"
  wait_for_socket
  pm2_cmd save --force >/dev/null || die "pm2 save failed (the app would not come back after a reboot)"
  changed "pm2: $PH_APP_NAME reloaded"
}

# Boot persistence: a systemd unit that resurrects the saved process list,
# sandboxed by our drop-in (host/systemd/pm2-hardening.conf.tmpl: read-only
# system and homes but PM2's home and the socket folder, no new privileges, no
# instance metadata). systemd reloads only when the drop-in changed.
ensure_pm2_startup() {
  local unit="$PH_SYSTEMD_DIR/pm2-$PH_USER.service" dropin_changed=0
  if [[ $PH_SYSTEMD != 1 ]]; then
    log "no systemd (PH_SYSTEMD=$PH_SYSTEMD): skipping pm2 startup"
    return 0
  fi
  if ! { [[ -f $unit ]] && systemctl is-enabled --quiet "pm2-$PH_USER"; }; then
    env PATH="$PATH" "$PH_PM2" startup systemd -u "$PH_USER" --hp "$PH_USER_HOME" --service-name "pm2-$PH_USER" >/dev/null \
      || die "pm2 startup systemd failed"
    changed "$unit"
  fi
  ensure_dir "$unit.d" 0755 root:root
  host_render template "$PH_CURRENT/host/systemd/pm2-hardening.conf.tmpl" "pm2_home=$PH_PM2_HOME" "run_dir=$PH_RUN" \
    >"$PH_STATE/pm2-hardening.conf.rendered" || die "cannot render the PM2 unit's sandbox drop-in (above)"
  track dropin_changed install_file "$PH_STATE/pm2-hardening.conf.rendered" "$unit.d/provider-host-hardening.conf" 0644 root:root
  if ((dropin_changed == 1)); then
    systemctl daemon-reload || die "systemctl daemon-reload failed; the sandbox of pm2-$PH_USER.service is not loaded"
  fi
}

# The PM2 logs (~/.pm2/logs) are rotated by the system's logrotate (daily, by
# its timer): no PM2 module from npm, no extra Node process. copytruncate keeps
# the files PM2 holds open, so `pm2 logs` keeps following them. A host set up
# before this used the pm2-logrotate module: it is removed.
install_logrotate() {
  ensure_dir "$PH_LOGROTATE_DIR" 0755 root:root
  host_render template "$PH_CURRENT/host/logrotate/provider-host.tmpl" \
    "pm2_logs=$PH_PM2_HOME/logs" "user=$PH_USER" "group=$PH_GROUP" \
    >"$PH_STATE/logrotate.rendered" || die "cannot render the logrotate configuration (above)"
  install_file "$PH_STATE/logrotate.rendered" "$PH_LOGROTATE_DIR/provider-host" 0644 root:root
  if pm2_cmd jlist 2>/dev/null | grep -q '"name":"pm2-logrotate"'; then
    pm2_cmd uninstall pm2-logrotate >/dev/null || die "pm2 uninstall pm2-logrotate failed (logrotate now rotates the PM2 logs)"
    pm2_cmd save --force >/dev/null || die "pm2 save failed"
    changed "pm2: pm2-logrotate removed (logrotate rotates the PM2 logs)"
  fi
  if [[ $PH_SYSTEMD == 1 ]] && ! systemctl is-enabled --quiet logrotate.timer; then
    systemctl enable --now --quiet logrotate.timer || die "cannot enable logrotate.timer: the PM2 logs would grow unbounded"
    changed "logrotate.timer enabled"
  fi
}
