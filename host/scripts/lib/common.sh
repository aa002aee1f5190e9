# shellcheck shell=bash
# shellcheck disable=SC2034 # variables are read by the scripts that source this file
# shellcheck disable=SC2153 # the settings (PH_BUCKET, ...) are assigned by load_host_settings' export
# Shared settings and helpers of the host scripts. Sourced, never run.
#
# Two kinds of PH_* variables:
#  - the host contract's settings (contract/host-settings.ts: domain, bucket,
#    scope, ...), read from $PH_ETC/host.env (written by bootstrap.sh from the
#    stack's host-config SSM parameter), validated and defaulted by the shipped
#    renderer (`host-render env`): no default for any of them here;
#  - this host's layout (paths, users, ports, commands), with the production
#    defaults for Amazon Linux 2023 in set_defaults below, so that the very same
#    scripts run in the local replica against a temporary root.
# The caller's environment wins over both.

PH_ETC="${PH_ETC:-/etc/provider-host}"

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${PH_SCRIPT_NAME:-provider-host}" "$*" | log_write; }
# log's line to stderr (journald, cloud-init's output), as always, and appended to
# $PH_HOST_LOG_DIR/<script>.log for the CloudWatch agent once that folder exists
# (install_host_logs, lib/metrics.sh). The file is best effort: never fails the script.
log_write() {
  local text name=${PH_SCRIPT_NAME:-provider-host}
  IFS= read -r -d '' text || true
  printf '%s' "$text" >&2
  [[ -n ${PH_HOST_LOG_DIR:-} && -d $PH_HOST_LOG_DIR ]] || return 0
  { printf '%s' "$text" >>"$PH_HOST_LOG_DIR/${name%.sh}.log"; } 2>/dev/null || true
}
die() { log "ERROR: $*"; exit 1; }

# What a run changed; "0 change(s)" on a second run is the idempotence contract.
PH_CHANGES=0
changed() { PH_CHANGES=$((PH_CHANGES + 1)); log "changed: $*"; }

# Steps report what they changed through changed(), never through their exit
# status: a function called as `f && x=1`, `f || true` or `if f` runs with
# `set -e` suspended inside it (and inside everything it calls), so a failing
# cp, mv or systemctl would go unnoticed. Steps are therefore called as plain
# statements and return 0 or die; a caller that must know whether a step
# changed something (to reload nginx or the app) wraps it in track:
#
#   track FLAG COMMAND [ARG...]
#
# runs COMMAND as a plain statement (set -e holds inside it), then sets the
# caller's variable FLAG to 1 when COMMAND recorded a change.
track() {
  local track_flag=$1 track_mark=$PH_CHANGES
  shift
  "$@"
  if ((PH_CHANGES > track_mark)); then printf -v "$track_flag" 1; fi
}

set_defaults() {
  # Where things live.
  : "${PH_PREFIX:=/opt/provider-host}"          # releases/<hash>, current -> the bundle in use
  : "${PH_CURRENT:=$PH_PREFIX/current}"
  : "${PH_APP_DIR:=$PH_PREFIX/app}"             # stable copy of the app PM2 runs
  : "${PH_STATE:=/var/lib/provider-host}"
  : "${PH_SRV:=/srv/provider}"                  # shared_data and public (symlinks to releases)
  : "${PH_RUN:=/run/provider}"                  # the app's socket folder
  : "${PH_SOCKET:=$PH_RUN/provider.sock}"
  : "${PH_SECRETS_DIR:=$PH_ETC/secrets}"
  : "${PH_TRUST_BUNDLE:=$PH_ETC/trust-bundle.pem}"
  : "${PH_APP_CONFIG:=$PH_ETC/provider.json}"
  : "${PH_RENDER:=$PH_CURRENT/dist/host/host-render.js}" # the shipped renderer (host/render)

  # Users.
  : "${PH_USER:=provider}"
  : "${PH_GROUP:=$PH_USER}"
  : "${PH_USER_HOME:=/home/$PH_USER}"
  : "${PH_NGINX_GROUP:=nginx}"

  # nginx.
  : "${PH_NGINX_BIN:=nginx}"
  : "${PH_NGINX_ARGS:=}"                        # e.g. "-p DIR -c FILE" for a private nginx
  : "${PH_NGINX_PID:=/run/nginx.pid}"
  : "${PH_NGINX_MAIN_CONF:=/etc/nginx/nginx.conf}"  # the distribution's; its default server is taken over
  : "${PH_NGINX_DEFAULT_D:=/etc/nginx/default.d}"     # inside the distribution's catch-all server
  : "${PH_NGINX_CONF_DIR:=/etc/nginx/conf.d}"
  : "${PH_NGINX_SITE:=$PH_NGINX_CONF_DIR/provider.conf}"
  : "${PH_NGINX_SHARE:=/etc/nginx/provider-host}" # snippets/ and errors/ from the bundle
  : "${PH_NGINX_LOG_DIR:=/var/log/nginx}"
  : "${PH_NGINX_AUTHZ_CACHE_DIR:=/var/cache/provider-host/nginx-authz}" # the app's decisions (no token)
  : "${PH_HTTP_LISTEN_V4:=80}"
  : "${PH_HTTP_LISTEN_V6:=[::]:80}"
  : "${PH_HTTPS_LISTEN_V4:=443}"
  : "${PH_HTTPS_LISTEN_V6:=[::]:443}"

  # certbot / Let's Encrypt.
  : "${PH_CERTBOT:=certbot}"
  : "${PH_LE_DIR:=/etc/letsencrypt}"
  : "${PH_LE_WORK_DIR:=/var/lib/letsencrypt}"
  : "${PH_LE_LOGS_DIR:=/var/log/letsencrypt}"
  : "${PH_ACME_WEBROOT:=$PH_STATE/acme}"
  : "${PH_APP_STATE_DIR:=$PH_STATE/app}"         # the app's own state (ib1 heartbeat), shared by its workers
  : "${PH_RSA_KEY_SIZE:=2048}"
  : "${PH_DNS_POLL_SECONDS:=15}"
  : "${PH_RESOLVE_CMD:=getent ahostsv4}"        # prints the IPv4 addresses of its argument
  : "${PH_IMDS_URL:=http://169.254.169.254}"

  # Revocation: the CRL set, its status and the deny list's nginx files (lib/revocation.sh).
  : "${PH_REVOCATION_DIR:=$PH_ETC/revocation}"

  # Operations (lib/metrics.sh): the scripts' own logs, the CloudWatch agent and its inputs.
  : "${PH_HOST_LOG_DIR:=/var/log/provider-host}"   # log() appends <script>.log here
  : "${PH_CLOUD_INIT_LOG:=/var/log/cloud-init-output.log}"
  : "${PH_CWAGENT_CTL:=amazon-cloudwatch-agent-ctl}" # absent (the replica, tests): logs not shipped
  : "${PH_CWAGENT_USER:=cwagent}"                    # the package's user (agent-config.ts AGENT_USER)
  # Not the agent's own .../etc/amazon-cloudwatch-agent.json: fetch-config deletes that one.
  : "${PH_CWAGENT_CONFIG:=$PH_ETC/cloudwatch-agent.json}"

  # Processes.
  : "${PH_SYSTEMD:=1}"                          # 0 where there is no systemd (the replica)
  : "${PH_SYSTEMD_DIR:=/etc/systemd/system}"
  : "${PH_TMPFILES_DIR:=/etc/tmpfiles.d}"
  : "${PH_NODE:=node}"
  : "${PH_PM2:=$PH_PREFIX/runtime/node_modules/.bin/pm2}" # pinned: host/runtime, installed by bootstrap.sh
  : "${PH_PM2_HOME:=$PH_USER_HOME/.pm2}"
  : "${PH_APP_NAME:=provider}"
  : "${PH_AWS:=aws}"
  : "${PH_LOGROTATE_DIR:=/etc/logrotate.d}"     # the PM2 logs' rotation (logrotate, not a PM2 module)
  : "${PH_WAIT_SOCKET_SECONDS:=60}"

  load_host_settings

  # Derived from the settings (exported by load_host_settings).
  : "${PH_HTTPS_ORIGIN:=https://$PH_DOMAIN}"
  PH_LE_LIVE="$PH_LE_DIR/live/$PH_DOMAIN"
  PH_SCRIPTS="$PH_CURRENT/host/scripts"
  PH_BACKUP_URL="s3://$PH_BUCKET/${PH_LE_BACKUP_PREFIX}letsencrypt.tar.gz"
  # What the renderer reads besides the settings (host/render/host-layout.ts).
  export PH_ETC PH_PREFIX PH_CURRENT PH_STATE PH_SRV PH_SOCKET PH_SECRETS_DIR PH_TRUST_BUNDLE \
    PH_NGINX_SHARE PH_NGINX_LOG_DIR PH_NGINX_AUTHZ_CACHE_DIR PH_HTTP_LISTEN_V4 PH_HTTP_LISTEN_V6 \
    PH_HTTPS_LISTEN_V4 PH_HTTPS_LISTEN_V6 PH_HTTPS_ORIGIN PH_ACME_WEBROOT PH_LE_LIVE PH_REVOCATION_DIR PH_APP_STATE_DIR
}

# The shipped renderer (a Node program; see host/render/host-render.ts).
host_render() {
  [[ -r $PH_RENDER ]] || die "the bundle at $PH_CURRENT has no renderer ($PH_RENDER); deploy a complete bundle"
  "$PH_NODE" "$PH_RENDER" "$@"
}

# Exports the host contract's settings: host.env, under the caller's
# environment, validated by their one definition (bad values are named, with
# the fix) and completed with its defaults.
load_host_settings() {
  local lines line
  lines=$(host_render env) || die "the host settings are not valid (above); fix the environment file and deploy again"
  while IFS= read -r line; do
    # Values were checked by their rules; export takes them as data, never as code.
    [[ $line =~ ^(PH_[A-Z0-9_]+)=(.*)$ ]] || die "host-render printed an unexpected line: $line"
    export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
  done <<<"$lines"
}

# Writes stdin to DEST if its content, mode or owner differ; atomic (rename).
# Records a change when it wrote DEST; dies when it cannot.
# install_content DEST MODE OWNER:GROUP
install_content() {
  local dest=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp "$(dirname "$dest")/.$(basename "$dest").XXXXXX") \
    || die "cannot create a temporary file next to $dest (does $(dirname "$dest") exist, and is it writable?)"
  if ! { cat >"$tmp" && chmod "$mode" "$tmp" && chown "$owner" "$tmp"; }; then
    rm -f "$tmp"
    die "cannot write $dest with mode $mode and owner $owner (disk full, read-only, or unknown owner?)"
  fi
  if [[ -f $dest ]] && cmp -s "$tmp" "$dest" \
    && [[ "$(stat -c '%a %U:%G' "$dest")" == "$(stat -c '%a %U:%G' "$tmp")" ]]; then
    rm -f "$tmp"
    return 0
  fi
  mv -f "$tmp" "$dest" || { rm -f "$tmp"; die "cannot move the new $dest into place"; }
  changed "$dest"
}

# install_file SRC DEST MODE OWNER:GROUP
install_file() {
  [[ -r $1 ]] || die "cannot read $1 (is the bundle at $PH_CURRENT complete?)"
  install_content "$2" "$3" "$4" <"$1"
}

# ensure_dir DIR MODE OWNER:GROUP
ensure_dir() {
  local dir=$1 mode=$2 owner=$3
  if [[ ! -d $dir ]]; then
    { mkdir -p "$dir" && chmod "$mode" "$dir" && chown "$owner" "$dir"; } \
      || die "cannot create $dir with mode $mode and owner $owner"
    changed "$dir/"
  elif [[ "$(stat -c '%a %U:%G' "$dir")" != "${mode#0} $owner" ]]; then
    { chmod "$mode" "$dir" && chown "$owner" "$dir"; } || die "cannot set mode $mode and owner $owner on $dir"
    changed "$dir/ (mode/owner)"
  fi
}

aws_cli() { "$PH_AWS" --region "$PH_REGION" "$@"; }

# The PM2 daemon's V8 flags (the daemon a pm2 command starts, and the boot unit's:
# pm2-hardening.conf.tmpl): lite mode, no optimising compiler, for a process that only
# supervises — 57 → 48 MB RSS measured (npm run bench:memory). Not for the app's workers,
# where it cost 40 % of their requests/s (bench:app-small). Adding --max-semi-space-size=1
# and MALLOC_ARENA_MAX=2 measured no change (48.0 → 47.8 MB): most of its RSS is the node
# binary's code, shared with the workers (docs/operations.md "Memory").
PH_PM2_NODE_OPTIONS=--lite-mode

# Runs a command as the app user with its PM2 home (and the app's environment).
as_app_user() {
  runuser -u "$PH_USER" -- env HOME="$PH_USER_HOME" PM2_HOME="$PH_PM2_HOME" PATH="$PATH" PM2_NODE_OPTIONS="$PH_PM2_NODE_OPTIONS" \
    PROVIDER_CONFIG="$PH_APP_CONFIG" PROVIDER_INSTANCES="$PH_APP_INSTANCES" PROVIDER_APP_NAME="$PH_APP_NAME" \
    "$@"
}

require_root() {
  [[ $(id -u) == 0 ]] || die "run as root (the scripts create users, own files for them and manage nginx)"
}

require_commands() {
  local command missing=()
  for command in "$@"; do command -v "$command" >/dev/null 2>&1 || missing+=("$command"); done
  ((${#missing[@]} == 0)) || die "missing command(s): ${missing[*]} (the bootstrap installs their packages with dnf on every run; try again with: sudo provider-host-bootstrap setup)"
}

nginx_cmd() {
  local -a args=()
  [[ -n $PH_NGINX_ARGS ]] && read -r -a args <<<"$PH_NGINX_ARGS"
  "$PH_NGINX_BIN" "${args[@]}" "$@"
}

nginx_running() {
  [[ -s $PH_NGINX_PID ]] && kill -0 "$(cat "$PH_NGINX_PID")" 2>/dev/null
}

# Validates the configuration, then reloads nginx (or starts it if it is not running).
nginx_apply() {
  nginx_cmd -t -q || die "nginx -t rejected the configuration; the previous site keeps serving"
  if [[ $PH_SYSTEMD == 1 ]]; then
    if ! systemctl is-enabled --quiet nginx; then
      systemctl enable --quiet nginx || die "cannot enable nginx.service (systemctl enable nginx); see: systemctl status nginx"
      changed "nginx enabled"
    fi
    if systemctl is-active --quiet nginx; then
      systemctl reload nginx || die "systemctl reload nginx failed; see: journalctl -u nginx"
    else
      systemctl start nginx || die "systemctl start nginx failed; see: journalctl -u nginx"
    fi
  elif nginx_running; then
    nginx_cmd -s reload || die "nginx -s reload failed; see $PH_NGINX_LOG_DIR/error.log"
  else
    nginx_cmd || die "nginx did not start; see $PH_NGINX_LOG_DIR/error.log"
  fi
}

# Makes sure nginx runs, without reloading it when it already does.
nginx_ensure_running() {
  if [[ $PH_SYSTEMD == 1 ]]; then
    systemctl is-active --quiet nginx || nginx_apply
  else
    nginx_running || nginx_apply
  fi
}

# install_timer NAME LABEL RENDERED_SERVICE CONSEQUENCE [RENDERED_TIMER] — installs
# NAME.service (rendered) and NAME.timer (rendered, or from the bundle), reloads systemd
# when a unit changed and enables the timer once; LABEL and CONSEQUENCE name them in
# messages. Records a change when a unit changed or the timer was enabled.
install_timer() {
  local name=$1 label=$2 service=$3 consequence=$4 timer=${5:-$PH_CURRENT/host/systemd/$1.timer} units_changed=0
  ensure_dir "$PH_SYSTEMD_DIR" 0755 root:root
  track units_changed install_file "$service" "$PH_SYSTEMD_DIR/$name.service" 0644 root:root
  track units_changed install_file "$timer" "$PH_SYSTEMD_DIR/$name.timer" 0644 root:root
  if [[ $PH_SYSTEMD != 1 ]]; then
    log "no systemd (PH_SYSTEMD=$PH_SYSTEMD): $label units written, not enabled"
    return 0
  fi
  if ((units_changed == 1)); then
    systemctl daemon-reload || die "systemctl daemon-reload failed; the $label units in $PH_SYSTEMD_DIR are not loaded"
  fi
  if ! systemctl is-enabled --quiet "$name.timer"; then
    systemctl enable --now --quiet "$name.timer" \
      || die "cannot enable $name.timer: $consequence; see: systemctl status $name.timer"
    changed "$name.timer enabled"
  fi
}
