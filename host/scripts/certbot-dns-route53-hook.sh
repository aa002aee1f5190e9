#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# certbot --manual hook of a fleet host (lib/fleet-certificate.sh): publishes the
# DNS-01 answer as the TXT record _acme-challenge.<domain> in the domain's Route53
# zone and waits, bounded, until Route53 reports the change INSYNC (on every
# authoritative server), so that the ACME server's lookup finds it.
#
#   certbot-dns-route53-hook.sh auth      (--manual-auth-hook: UPSERT, wait INSYNC)
#   certbot-dns-route53-hook.sh cleanup   (--manual-cleanup-hook: DELETE; never fails)
#
# certbot passes CERTBOT_DOMAIN and CERTBOT_VALIDATION. The instance role may change
# exactly this record (TXT, _acme-challenge.<domain>): the hook writes nothing else.
set -euo pipefail
umask 077
PH_SCRIPT_NAME=certbot-dns-route53-hook.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/dns-challenge.sh
. "$here/lib/dns-challenge.sh"

main() {
  local action=${1:-}
  set_defaults
  dns_challenge_defaults
  case $action in
    auth) dns_challenge_publish "${CERTBOT_DOMAIN:-}" "${CERTBOT_VALIDATION:-}" ;;
    cleanup) dns_challenge_remove "${CERTBOT_DOMAIN:-}" "${CERTBOT_VALIDATION:-}" ;;
    *) die "usage: certbot-dns-route53-hook.sh auth|cleanup (certbot's --manual-auth-hook / --manual-cleanup-hook)" ;;
  esac
}

main "$@"
