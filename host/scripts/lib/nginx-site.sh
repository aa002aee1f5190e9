# shellcheck shell=bash
# The nginx site: snippets and error pages from the bundle, then the bootstrap
# (HTTP + ACME) or the mutual-TLS site rendered from nginx/templates.

# Records a change when a snippet or error page changed.
install_nginx_share() {
  local kind file
  ensure_dir "$PH_NGINX_SHARE" 0755 root:root
  for kind in snippets errors; do
    ensure_dir "$PH_NGINX_SHARE/$kind" 0755 root:root
    for file in "$PH_CURRENT/nginx/$kind"/*; do
      install_file "$file" "$PH_NGINX_SHARE/$kind/$(basename "$file")" 0644 root:root
    done
  done
}

bootstrap_site_values() {
  printf '%s\n' \
    "server_name=$PH_DOMAIN" \
    "http_listen_v4=$PH_HTTP_LISTEN_V4" \
    "http_listen_v6=$PH_HTTP_LISTEN_V6" \
    "acme_webroot=$PH_ACME_WEBROOT" \
    "log_dir=$PH_NGINX_LOG_DIR" \
    "snippets_dir=$PH_NGINX_SHARE/snippets"
}

# Records a change when the site file changed.
install_bootstrap_site() {
  local -a values
  mapfile -t values < <(bootstrap_site_values)
  render_template "$PH_CURRENT/nginx/templates/bootstrap-site.conf.tmpl" "${values[@]}" >"$PH_STATE/site.rendered" \
    || die "cannot render the bootstrap site"
  install_file "$PH_STATE/site.rendered" "$PH_NGINX_SITE" 0644 root:root
}

# Records a change when the site file changed.
install_mtls_site() {
  local -a values
  # nginx creates the cache folder itself, owned by its workers; its parent must exist.
  ensure_dir "$(dirname "$PH_NGINX_AUTHZ_CACHE_DIR")" 0755 root:root
  mapfile -t values < <(bootstrap_site_values)
  values+=(
    "https_listen_v4=$PH_HTTPS_LISTEN_V4"
    "https_listen_v6=$PH_HTTPS_LISTEN_V6"
    "https_origin=$PH_HTTPS_ORIGIN"
    "ssl_certificate=$PH_LE_LIVE/fullchain.pem"
    "ssl_certificate_key=$PH_LE_LIVE/privkey.pem"
    "client_ca=$PH_TRUST_BUNDLE"
    "error_pages_dir=$PH_NGINX_SHARE/errors"
    "public_root=$PH_SRV/public"
    "app_socket=$PH_SOCKET"
    "datasets_dir=$PH_SRV/shared_data"
    "authz_cache_dir=$PH_NGINX_AUTHZ_CACHE_DIR"
  )
  render_template "$PH_CURRENT/nginx/templates/mtls-site.conf.tmpl" "${values[@]}" >"$PH_STATE/site.rendered" \
    || die "cannot render the mTLS site"
  install_file "$PH_STATE/site.rendered" "$PH_NGINX_SITE" 0644 root:root
}
