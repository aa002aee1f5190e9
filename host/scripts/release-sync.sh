#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Serves the data release named by shared_data/current.json, without a deploy: run by
# provider-host-release.timer every 20 s (and by hand). Nothing to do when the host
# already serves it; else fetch, verify every SHA-256, swap atomically and reload the
# app worker by worker (see lib/release-sync.sh). Exit 1 when a release was refused
# (the current one keeps serving; the reason is in the log and host-status/release.json).
set -euo pipefail
umask 022
PH_SCRIPT_NAME=release-sync.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/provisioning.sh
. "$here/lib/provisioning.sh"

main() {
  require_root
  set_defaults
  require_commands "$PH_NODE" "$PH_AWS" sha256sum flock cmp
  local reload_app=0 reload_nginx=0
  # The operator's deny list rides on this timer: a revocation applies within ~30 s.
  # nginx's files are rendered (a Node start) only when the list changed, not every 20 s.
  track reload_nginx sync_deny_list
  if ((reload_nginx == 1)); then
    install_revocation_nginx
    revocation_apply
  fi
  track reload_app sync_release
  # The app may index the datasets (as after update.sh's swap); a host whose setup has
  # not started the app yet gets it started by setup.sh.
  if ((reload_app == 1)) && [[ $(app_online_count) -gt 0 ]]; then reload_app; fi
  ((PH_RELEASE_REFUSED == 0)) || exit 1
}

main "$@"
