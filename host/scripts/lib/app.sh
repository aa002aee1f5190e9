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

# Boot persistence: a systemd unit that resurrects the saved process list.
ensure_pm2_startup() {
  local unit="$PH_SYSTEMD_DIR/pm2-$PH_USER.service"
  if [[ $PH_SYSTEMD != 1 ]]; then
    log "no systemd (PH_SYSTEMD=$PH_SYSTEMD): skipping pm2 startup"
    return 0
  fi
  [[ -f $unit ]] && systemctl is-enabled --quiet "pm2-$PH_USER" && return 0
  env PATH="$PATH" "$PH_PM2" startup systemd -u "$PH_USER" --hp "$PH_USER_HOME" --service-name "pm2-$PH_USER" >/dev/null \
    || die "pm2 startup systemd failed"
  changed "$unit"
}

# pm2-logrotate keeps ~/.pm2/logs bounded (it is a PM2 module, from npm).
ensure_pm2_logrotate() {
  [[ $PH_PM2_LOGROTATE == 1 ]] || { log "PH_PM2_LOGROTATE=$PH_PM2_LOGROTATE: skipping pm2-logrotate"; return 0; }
  if pm2_cmd jlist 2>/dev/null | grep -q '"name":"pm2-logrotate"'; then
    return 0
  fi
  pm2_cmd install pm2-logrotate >/dev/null || die "pm2 install pm2-logrotate failed (it needs the npm registry)"
  { pm2_cmd set pm2-logrotate:max_size 50M && pm2_cmd set pm2-logrotate:retain 14 \
    && pm2_cmd set pm2-logrotate:compress true && pm2_cmd save --force; } >/dev/null \
    || die "cannot configure pm2-logrotate (pm2 set/save)"
  changed "pm2: pm2-logrotate installed"
}
