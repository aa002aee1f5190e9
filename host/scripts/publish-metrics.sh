#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Publishes the host's metrics to CloudWatch (namespace ProviderHost, Environment=<name>):
# run by provider-host-metrics.timer every 5 minutes, and by hand. Reads only files the
# host keeps (the served certificate, the last renewal's result, the CRL refresh's status,
# PM2's process list, the data release's state); prints names and numbers, never a
# secret. Exit 1 when the metrics could not be sent (the reason is in the log).
set -euo pipefail
umask 022
PH_SCRIPT_NAME=publish-metrics.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/provisioning.sh
. "$here/lib/provisioning.sh"

main() {
  require_root
  set_defaults
  require_commands "$PH_NODE" "$PH_AWS" timeout flock runuser
  publish_metrics
}

main "$@"
