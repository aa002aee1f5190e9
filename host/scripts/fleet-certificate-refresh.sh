#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The fleet certificate timer (provider-fleet-certificate.service, fleet mode only):
# installs the certificate another host renewed and reloads nginx; renews it under the
# S3 lock when certbot finds it due (lib/fleet-certificate.sh). Arguments go to certbot.
set -euo pipefail
umask 022
PH_SCRIPT_NAME=fleet-certificate-refresh.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/certificate.sh
. "$here/lib/certificate.sh"
# shellcheck source=lib/fleet-certificate.sh
. "$here/lib/fleet-certificate.sh"

main() {
  set_defaults
  [[ $PH_FLEET == true ]] || die "PH_FLEET is not true: a single host renews with provider-certbot-renew.timer"
  fleet_renew_certificate "$@"
  log "fleet certificate: $(fleet_certificate_id) ($PH_CHANGES change(s))"
}

main "$@"
