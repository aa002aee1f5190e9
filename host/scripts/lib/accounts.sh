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
}
