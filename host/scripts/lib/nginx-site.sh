# shellcheck shell=bash
# The nginx site: snippets and error pages from the bundle, then the bootstrap
# (HTTP + ACME) or the mutual-TLS site rendered from nginx/templates.

# The distribution's nginx.conf declares its own port-80 default_server, which
# would answer any name (and makes nginx -t refuse our sites' default server):
# drop default_server from its listen lines, with the expression the nginx tests
# prove, and make its catch-all server close connections. Idempotent.
take_over_default_server() {
  local expr
  if [[ -f $PH_NGINX_MAIN_CONF ]]; then
    expr=$(host_render default-server-sed) || die "cannot get the default-server expression from the renderer"
    sed -E "$expr" "$PH_NGINX_MAIN_CONF" >"$PH_STATE/nginx.conf.rendered" || die "cannot rewrite $PH_NGINX_MAIN_CONF"
    install_file "$PH_STATE/nginx.conf.rendered" "$PH_NGINX_MAIN_CONF" 0644 root:root
  fi
  if [[ -d $PH_NGINX_DEFAULT_D ]]; then
    install_file "$PH_NGINX_SHARE/snippets/close-connection.conf" "$PH_NGINX_DEFAULT_D/provider-host.conf" 0644 root:root
  fi
}

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
  take_over_default_server
}

# install_site bootstrap|mtls — rendered by the shipped renderer from the
# bundle's nginx/templates. Records a change when the site file changed.
install_site() {
  host_render site "$1" >"$PH_STATE/site.rendered" || die "cannot render the $1 site (above)"
  install_file "$PH_STATE/site.rendered" "$PH_NGINX_SITE" 0644 root:root
}

install_bootstrap_site() {
  install_site bootstrap
}

install_mtls_site() {
  # nginx creates the cache folder itself, owned by its workers; its parent must exist.
  ensure_dir "$(dirname "$PH_NGINX_AUTHZ_CACHE_DIR")" 0755 root:root
  install_site mtls
}
