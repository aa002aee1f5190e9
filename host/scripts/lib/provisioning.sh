# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/lib
# Every module setup.sh and update.sh use, sourced in dependency order
# (common.sh first: the others call log, die and the install helpers).
# Sourced, never run. The two source paths let shellcheck find the modules
# both when it checks this file alone and when it follows it from setup.sh.

lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$lib/common.sh"
# shellcheck source=accounts.sh
. "$lib/accounts.sh"
# shellcheck source=secrets.sh
. "$lib/secrets.sh"
# shellcheck source=content-sync.sh
. "$lib/content-sync.sh"
# shellcheck source=release-sync.sh
. "$lib/release-sync.sh"
# shellcheck source=nginx-site.sh
. "$lib/nginx-site.sh"
# shellcheck source=certificate.sh
. "$lib/certificate.sh"
# shellcheck source=fleet-certificate.sh
. "$lib/fleet-certificate.sh"
# shellcheck source=app.sh
. "$lib/app.sh"
# shellcheck source=renewal.sh
. "$lib/renewal.sh"
# shellcheck source=metadata-guard.sh
. "$lib/metadata-guard.sh"
# shellcheck source=revocation.sh
. "$lib/revocation.sh"
# shellcheck source=metrics.sh
. "$lib/metrics.sh"
# shellcheck source=report.sh
. "$lib/report.sh"
unset lib
