#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Mails the access report of the previous UTC day (or of --day YYYY-MM-DD) to the
# environment's report recipients through Amazon SES, and keeps the page and its JSON in
# the bucket (host-status/access-report.html, .json): run by provider-host-report.timer
# at PH_REPORT_HOUR, and by hand. Exit 1 when the report could not be built, written or
# mailed (the reason is in the log); 2 on bad usage.
set -euo pipefail
umask 077
PH_SCRIPT_NAME=daily-report.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/provisioning.sh
. "$here/lib/provisioning.sh"

usage() {
  printf 'usage: %s [--day YYYY-MM-DD]   (default: yesterday, UTC)\n' "$0" >&2
  exit 2
}

main() {
  local day=""
  while (($# > 0)); do
    case $1 in
      --day) (($# >= 2)) || usage; day=$2; shift 2 ;;
      -h | --help) usage ;;
      *) usage ;;
    esac
  done
  [[ -z $day || $day =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || usage
  require_root
  set_defaults
  require_commands "$PH_NODE" "$PH_AWS" timeout flock date
  [[ -n $day ]] || day=$(date -u -d yesterday +%Y-%m-%d)
  send_daily_report "$day"
}

main "$@"
