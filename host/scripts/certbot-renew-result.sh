#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# ExecStopPost of provider-certbot-renew.service: records how the renewal run ended
# (systemd passes SERVICE_RESULT, EXIT_CODE and EXIT_STATUS) in $PH_STATE/renewal-result,
# which the metrics publisher turns into CertificateRenewalFailed. The unit runs it with
# "-": a failure here never fails the renewal.
set -euo pipefail
umask 022
PH_SCRIPT_NAME=certbot-renew-result.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/metrics.sh
. "$here/lib/metrics.sh"

main() {
  set_defaults
  record_renewal_result "${SERVICE_RESULT:-unknown}" "${EXIT_CODE:-}" "${EXIT_STATUS:-}"
}

main "$@"
