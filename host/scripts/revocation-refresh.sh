#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Refreshes the CRLs nginx checks client certificates against, and the operator's deny
# list: run by provider-host-revocation.timer every PH_CRL_REFRESH_MINUTES (and by
# hand). A changed set reaches nginx by a reload; a source that cannot be fetched or
# verified keeps its installed CRL, and the status (host-status/revocation.json) says so.
set -euo pipefail
umask 022
PH_SCRIPT_NAME=revocation-refresh.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/provisioning.sh
. "$here/lib/provisioning.sh"

main() {
  require_root
  set_defaults
  require_commands "$PH_NODE" "$PH_AWS" "$PH_NGINX_BIN" cmp
  local reload_nginx=0
  track reload_nginx refresh_crls
  track reload_nginx sync_deny_list
  track reload_nginx install_revocation_nginx
  if ((reload_nginx == 1)); then revocation_apply; fi
}

main "$@"
