# shellcheck shell=bash
# The app user and the folders the host needs.

ensure_app_user() {
  if ! getent group "$PH_GROUP" >/dev/null; then
    groupadd --system "$PH_GROUP" || die "cannot create the group $PH_GROUP (groupadd)"
    changed "group $PH_GROUP"
  fi
  if ! id -u "$PH_USER" >/dev/null 2>&1; then
    useradd --system --gid "$PH_GROUP" --home-dir "$PH_USER_HOME" --no-create-home \
      --shell /sbin/nologin --comment "provider app (PM2)" "$PH_USER" \
      || die "cannot create the user $PH_USER (useradd)"
    changed "user $PH_USER"
  fi
  getent group "$PH_NGINX_GROUP" >/dev/null || die "group $PH_NGINX_GROUP does not exist (is nginx installed? set PH_NGINX_GROUP)"
}

ensure_folders() {
  local app="$PH_USER:$PH_GROUP"
  ensure_dir "$PH_ETC" 0755 root:root
  ensure_dir "$PH_SECRETS_DIR" 0700 "$app"
  ensure_dir "$PH_STATE" 0755 root:root
  ensure_dir "$PH_ACME_WEBROOT" 0755 root:root
  ensure_dir "$PH_USER_HOME" 0750 "$app"
  ensure_dir "$PH_SRV" 0755 root:root
  ensure_dir "$PH_SRV/releases" 0755 root:root
  ensure_dir "$PH_APP_DIR" 0755 root:root
  # The app's own state (the ib1 heartbeat's), written by every PM2 worker.
  ensure_dir "$PH_APP_STATE_DIR" 0750 "$app"
  # The distribution owns the log folder's mode; only create it where it is missing.
  if [[ ! -d $PH_NGINX_LOG_DIR ]]; then
    mkdir -p "$PH_NGINX_LOG_DIR" || die "cannot create $PH_NGINX_LOG_DIR"
    changed "$PH_NGINX_LOG_DIR/"
  fi
  # setgid: the socket the app creates inherits the nginx group, so nginx
  # (and nobody else) can connect to it.
  ensure_dir "$PH_RUN" 2750 "$PH_USER:$PH_NGINX_GROUP"
  # /run is a tmpfs: systemd-tmpfiles recreates the socket folder at boot,
  # before PM2 resurrects the app.
  ensure_dir "$PH_TMPFILES_DIR" 0755 root:root
  # (A here-string, not a pipe: install_content must run in this shell, so that
  # its change is counted and its die ends the run.)
  install_content "$PH_TMPFILES_DIR/provider-host.conf" 0644 root:root <<<"d $PH_RUN 2750 $PH_USER $PH_NGINX_GROUP -"
  grant_app_access_log_read
}

# ib1: the heartbeat counts every response in nginx's JSON access log, so the app user
# reads it: an ACL on the log folder (traverse) and on the log, and a default ACL so the
# files nginx and logrotate create later are readable too (as the CloudWatch agent's,
# lib/metrics.sh). Without setfacl the heartbeat reports the log unreadable (503).
grant_app_access_log_read() {
  [[ $PH_TRUST_PROFILE == ib1 ]] || return 0
  if ! command -v setfacl >/dev/null 2>&1; then
    log "WARNING: setfacl not found (package acl): $PH_USER cannot read $PH_NGINX_LOG_DIR/access.json.log; the heartbeat will fail"
    return 0
  fi
  acl_grant "$PH_NGINX_LOG_DIR" --x default "$PH_USER"
  acl_grant "$PH_NGINX_LOG_DIR/access.json.log" r-- "" "$PH_USER"
}
