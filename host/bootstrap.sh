#!/bin/bash
# provider-host-bootstrap — hands the host over from cloud-init (first boot) and from
# the SSM association (every deploy) to the host scripts shipped in the bundle.
#
#   provider-host-bootstrap setup
#       First boot (cloud-init runcmd): packages, host config, bundle, the bundle's
#       pinned runtime (PM2), host/scripts/setup.sh.
#   provider-host-bootstrap retry-setup
#       The retry timer (provider-host-setup-retry.timer): setup again until one has
#       completed; nothing when one has, or when another run holds the lock.
#   provider-host-bootstrap update [--bundle-hash H] [--data-hash H] [--public-hash H] [--trust-hash H]
#       A deploy (SSM association): the same, then host/scripts/update.sh. The hashes make
#       the association change whenever the bundle or the data change; the bundle hash is
#       also checked against the host config so a stale parameter read fails loudly.
#
# Static settings come from $PH_ETC/bootstrap.env (written by the user data); everything
# Terraform only knows at apply time (bucket, bundle key, ...) comes from the non-secret
# SSM parameter named there, written to $PH_ETC/host.env. Secrets are never handled here.
set -euo pipefail
umask 022

PH_ETC="${PH_ETC:-/etc/provider-host}"
PH_PREFIX="${PH_PREFIX:-/opt/provider-host}"
PH_STATE="${PH_STATE:-/var/lib/provider-host}"
PH_LOCK="${PH_LOCK:-/run/provider-host-bootstrap.lock}"
PH_KEEP_RELEASES="${PH_KEEP_RELEASES:-3}"
PH_AWS_ATTEMPTS="${PH_AWS_ATTEMPTS:-10}"
PH_RETRY_SLEEP="${PH_RETRY_SLEEP:-3}"
PH_BIN_DIR="${PH_BIN_DIR:-/usr/local/bin}"
export PH_ETC PH_PREFIX PH_STATE

log() { printf '%s provider-host-bootstrap: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Bounded retries: instance-profile credentials and the network can lag at first boot.
#   retry ATTEMPTS COMMAND [ARG...]
retry() {
  local attempts=$1 attempt=1
  shift
  until "$@"; do
    [ "$attempt" -ge "$attempts" ] && return 1
    log "attempt $attempt of $attempts failed: $1; retrying"
    sleep $((attempt * PH_RETRY_SLEEP))
    attempt=$((attempt + 1))
  done
}

load_bootstrap_env() {
  [ -r "$PH_ETC/bootstrap.env" ] || die "$PH_ETC/bootstrap.env is missing (written by the user data)"
  # shellcheck source=/dev/null
  . "$PH_ETC/bootstrap.env"
  : "${PH_REGION:?PH_REGION missing in bootstrap.env}"
  : "${PH_HOST_CONFIG_PARAM:?PH_HOST_CONFIG_PARAM missing in bootstrap.env}"
  : "${PH_NODE_MAJOR:?PH_NODE_MAJOR missing in bootstrap.env}"
  : "${PH_PM2_VERSION:?PH_PM2_VERSION missing in bootstrap.env}"
  : "${PH_PACKAGES:?PH_PACKAGES missing in bootstrap.env}"
  : "${PH_PACKAGE_ATTEMPTS:=5}"
  : "${PH_LOCK_WAIT_SECONDS:=3600}"
}

missing_packages() {
  local package
  for package in ${PH_PACKAGES//,/ }; do
    rpm -q --quiet "$package" || printf '%s\n' "$package"
  done
}

# On every run, not once by cloud-init: a dnf transaction that failed at first boot (a
# network blip while the Elastic IP is associated) is retried here, and again by the
# next run, instead of leaving every later step without its commands.
install_packages() {
  local -a missing
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing packages: ${missing[*]}"
  retry "$PH_PACKAGE_ATTEMPTS" dnf install -y --setopt=install_weak_deps=False "${missing[@]}" \
    || die "dnf could not install ${missing[*]} after $PH_PACKAGE_ATTEMPTS attempts; the retry timer, the next deploy or 'sudo provider-host-bootstrap setup' tries again"
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -eq 0 ] || die "dnf succeeded but ${missing[*]} still missing"
}

npm_ci_in() { (cd "$1" && npm ci --ignore-scripts --omit=dev --no-audit --no-fund); }

# The host's Node runtime (PM2) is pinned by the bundle: host/runtime's lockfile
# (every transitive version and its integrity hash), installed with npm ci
# --ignore-scripts (no package's install script runs as root) into
# $PH_PREFIX/runtime, again only when the lockfile changes. No npm install -g.
install_runtime() {
  local shipped="$PH_PREFIX/current/host/runtime" runtime="$PH_PREFIX/runtime" locked staging
  if [ -x "/usr/bin/node-${PH_NODE_MAJOR}" ] && command -v alternatives >/dev/null; then
    alternatives --set node "/usr/bin/node-${PH_NODE_MAJOR}" || log "alternatives could not select node-${PH_NODE_MAJOR}; keeping the default"
  fi
  [ -f "$shipped/package-lock.json" ] || die "the bundle has no host/runtime/package-lock.json (the pinned PM2)"
  locked=$(sed -n '/"node_modules\/pm2": {/,/}/s/^ *"version": "\([^"]*\)".*/\1/p' "$shipped/package-lock.json" | head -n 1)
  [ "$locked" = "$PH_PM2_VERSION" ] \
    || die "the bundle pins pm2@${locked:-?} (host/runtime/package-lock.json) but app.pm2Version is $PH_PM2_VERSION; set app.pm2Version to $locked, or update host/runtime (npm install --package-lock-only pm2@$PH_PM2_VERSION) and deploy"
  if ! cmp -s "$shipped/package-lock.json" "$runtime/package-lock.json" || [ ! -x "$runtime/node_modules/pm2/bin/pm2" ]; then
    log "installing pm2@$locked from the bundle's lockfile into $runtime"
    staging="$(mktemp -d "$PH_PREFIX/.runtime.XXXXXX")"
    cp "$shipped/package.json" "$shipped/package-lock.json" "$staging/"
    retry "$PH_AWS_ATTEMPTS" npm_ci_in "$staging" \
      || { rm -rf "$staging"; die "npm ci could not install the host runtime (pm2@$locked)"; }
    chmod 0755 "$staging"
    rm -rf "$runtime.old"
    if [ -d "$runtime" ]; then mv "$runtime" "$runtime.old"; fi
    mv "$staging" "$runtime"
    rm -rf "$runtime.old"
  fi
  # For people: `sudo -u provider pm2 logs` (the host scripts use the full path).
  mkdir -p "$PH_BIN_DIR"
  ln -sfn "$runtime/node_modules/pm2/bin/pm2" "$PH_BIN_DIR/pm2"
}

fetch_host_config() {
  local tmp="$PH_ETC/host.env.next"
  retry "$PH_AWS_ATTEMPTS" aws ssm get-parameter --region "$PH_REGION" --name "$PH_HOST_CONFIG_PARAM" \
    --query Parameter.Value --output text >"$tmp" || die "cannot read SSM parameter $PH_HOST_CONFIG_PARAM"
  # The file is sourced: accept only KEY=shell-safe-value lines (the schema guarantees them).
  if grep -Evq '^(PH_[A-Z0-9_]+=[A-Za-z0-9._:/@%+,=-]*)?$' "$tmp"; then
    die "SSM parameter $PH_HOST_CONFIG_PARAM has lines that are not PH_KEY=shell-safe-value"
  fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$PH_ETC/host.env"
  set -a
  # shellcheck source=/dev/null
  . "$PH_ETC/host.env"
  set +a
  : "${PH_BUCKET:?PH_BUCKET missing in host config}"
  : "${PH_BUNDLE_KEY:?PH_BUNDLE_KEY missing in host config}"
}

install_bundle() {
  local expected="${1:-}" hash release staging
  hash="$(basename "$PH_BUNDLE_KEY" .zip)"
  [[ "$hash" =~ ^[A-Za-z0-9]+$ ]] || die "bundle key $PH_BUNDLE_KEY does not end in <hash>.zip"
  if [ -n "$expected" ] && [ "$hash" != "$expected" ]; then
    die "host config names bundle $hash but this deploy ships $expected; the parameter is stale — re-run the association"
  fi
  release="$PH_PREFIX/releases/$hash"
  mkdir -p "$PH_PREFIX/releases"
  if [ ! -d "$release" ]; then
    log "installing bundle $hash"
    staging="$(mktemp -d "$PH_PREFIX/releases/.staging.XXXXXX")"
    retry "$PH_AWS_ATTEMPTS" aws s3 cp --region "$PH_REGION" --only-show-errors "s3://${PH_BUCKET}/${PH_BUNDLE_KEY}" "$staging/bundle.zip" \
      || { rm -rf "$staging"; die "cannot download s3://${PH_BUCKET}/${PH_BUNDLE_KEY}"; }
    unzip -q "$staging/bundle.zip" -d "$staging/tree" || { rm -rf "$staging"; die "bundle $hash is not a valid zip"; }
    mv "$staging/tree" "$release"
    rm -rf "$staging"
  fi
  # Atomic switch: a reader sees the old or the new release, never a half.
  ln -sfn "$release" "$PH_PREFIX/current.next"
  mv -Tf "$PH_PREFIX/current.next" "$PH_PREFIX/current"
  PH_RELEASE="$hash"
  export PH_RELEASE
}

prune_releases() {
  local current old
  current="$(readlink -f "$PH_PREFIX/current")"
  # Newest first; keep PH_KEEP_RELEASES and never the current one.
  find "$PH_PREFIX/releases" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %p\n' \
    | sort -rn | tail -n "+$((PH_KEEP_RELEASES + 1))" | cut -d' ' -f2- \
    | while read -r old; do
        [ "$old" = "$current" ] || rm -rf "$old"
      done
}

run_host_script() {
  local script="$PH_PREFIX/current/host/scripts/$1.sh"
  [ -f "$script" ] || die "the bundle has no host/scripts/$1.sh"
  log "running host/scripts/$1.sh (release ${PH_RELEASE:-?})"
  bash "$script"
}

do_setup() {
  install_packages
  fetch_host_config
  install_bundle ""
  install_runtime
  run_host_script setup
  mkdir -p "$PH_STATE"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$PH_STATE/setup.done"
  prune_releases
}

do_update() {
  local expected_bundle="" arg
  while [ $# -gt 0 ]; do
    arg="$1"
    case "$arg" in
      --bundle-hash) expected_bundle="${2:?--bundle-hash needs a value}"; shift 2 ;;
      --data-hash | --public-hash | --trust-hash) log "deploy ${arg#--}: ${2:?$arg needs a value}"; shift 2 ;;
      *) die "unknown option $arg (use --bundle-hash, --data-hash, --public-hash, --trust-hash)" ;;
    esac
  done
  if [ ! -f "$PH_STATE/setup.done" ]; then
    log "first-boot setup has not completed; running setup instead of update"
    do_setup
    return
  fi
  install_packages
  fetch_host_config
  install_bundle "$expected_bundle"
  install_runtime
  run_host_script update
  prune_releases
}

main() {
  [ "$(id -u)" = 0 ] || die "run as root"
  local command="${1:-}"
  [ $# -gt 0 ] && shift
  mkdir -p "$PH_ETC" "$PH_STATE"
  load_bootstrap_env
  # One run at a time: an association may fire while first boot is still running.
  exec 9>"$PH_LOCK"
  case "$command" in
    setup | update)
      flock -w "$PH_LOCK_WAIT_SECONDS" 9 || die "another bootstrap run still holds $PH_LOCK after ${PH_LOCK_WAIT_SECONDS}s"
      ;;
    retry-setup)
      if ! flock -n 9; then
        log "another bootstrap run is in progress; nothing to retry now"
        return 0
      fi
      if [ -f "$PH_STATE/setup.done" ]; then
        log "setup has completed; nothing to retry"
        return 0
      fi
      log "first-boot setup has not completed; trying it again"
      command=setup
      ;;
  esac
  case "$command" in
    setup) do_setup ;;
    update) do_update "$@" ;;
    *) die "usage: provider-host-bootstrap setup | retry-setup | update [--bundle-hash H] [--data-hash H] [--public-hash H] [--trust-hash H]" ;;
  esac
  log "$command done"
}

main "$@"
