# shellcheck shell=bash
# The DNS-01 challenge record in Route53 (certbot-dns-route53-hook.sh). Sourced after
# common.sh, never run.
#
# Route53 answers a change with PENDING and applies it to its servers within about a
# minute; get-change says INSYNC once every authoritative server has it. Asking the
# ACME server to validate before that can fail the order, so the auth hook waits for
# INSYNC, bounded.

dns_challenge_defaults() {
  : "${PH_DNS_CHANGE_WAIT_SECONDS:=300}" # bound of the wait for INSYNC
  : "${PH_DNS_CHANGE_POLL_SECONDS:=5}"
  : "${PH_DNS_CHALLENGE_TTL:=60}"        # short: a stale answer must not outlive a retry
}

# The record's name, with Route53's trailing dot.
dns_challenge_name() { printf '_acme-challenge.%s.\n' "$1"; }

# dns_challenge_check DOMAIN VALIDATION — dies unless both are what certbot passes:
# the configured domain and a base64url token (43 characters for SHA-256), so that
# nothing else can reach the change batch.
dns_challenge_check() {
  local domain=$1 validation=$2
  [[ -n ${PH_HOSTED_ZONE_ID:-} ]] || die "PH_HOSTED_ZONE_ID is empty: a fleet host needs the Route53 zone of $PH_DOMAIN (the stack writes it in fleet mode; deploy the fleet stack again)"
  [[ $domain == "$PH_DOMAIN" ]] || die "certbot asked a DNS-01 record for '$domain', not for $PH_DOMAIN; the instance role may change only _acme-challenge.$PH_DOMAIN"
  [[ $validation =~ ^[A-Za-z0-9_-]{16,128}$ ]] || die "CERTBOT_VALIDATION is not a base64url token (certbot passes it to a --manual-auth-hook)"
}

# dns_challenge_batch ACTION NAME VALIDATION — the change batch (Route53 wants TXT values quoted).
dns_challenge_batch() {
  printf '{"Comment":"ACME DNS-01 for %s","Changes":[{"Action":"%s","ResourceRecordSet":{"Name":"%s","Type":"TXT","TTL":%s,"ResourceRecords":[{"Value":"\\"%s\\""}]}}]}\n' \
    "$PH_DOMAIN" "$1" "$2" "$PH_DNS_CHALLENGE_TTL" "$3"
}

# dns_challenge_change ACTION DOMAIN VALIDATION — submits the change; prints its id.
dns_challenge_change() {
  local action=$1 name batch id
  name=$(dns_challenge_name "$2")
  batch=$(mktemp) || die "cannot create a temporary file for the Route53 change batch"
  dns_challenge_batch "$action" "$name" "$3" >"$batch"
  id=$(aws_cli route53 change-resource-record-sets --hosted-zone-id "$PH_HOSTED_ZONE_ID" \
    --change-batch "file://$batch" --query ChangeInfo.Id --output text) || { rm -f "$batch"; return 1; }
  rm -f "$batch"
  printf '%s\n' "$id"
}

# dns_challenge_wait ID — until Route53 reports the change INSYNC; dies after the bound.
dns_challenge_wait() {
  local id=$1 status deadline=$((SECONDS + PH_DNS_CHANGE_WAIT_SECONDS))
  while :; do
    status=$(aws_cli route53 get-change --id "$id" --query ChangeInfo.Status --output text) \
      || die "route53 get-change $id failed (above); does the instance role allow route53:GetChange?"
    [[ $status == INSYNC ]] && return 0
    ((SECONDS < deadline)) || die "the Route53 change $id is still ${status:-unknown} after ${PH_DNS_CHANGE_WAIT_SECONDS}s; the ACME server could not see the record yet (check Route53's health, then run the certificate step again)"
    sleep "$PH_DNS_CHANGE_POLL_SECONDS"
  done
}

# dns_challenge_publish DOMAIN VALIDATION
dns_challenge_publish() {
  local id
  dns_challenge_check "$1" "$2"
  id=$(dns_challenge_change UPSERT "$1" "$2") \
    || die "cannot write $(dns_challenge_name "$1") TXT in zone $PH_HOSTED_ZONE_ID (above); the instance role must allow route53:ChangeResourceRecordSets on that record"
  log "published $(dns_challenge_name "$1") TXT (change $id); waiting for INSYNC"
  dns_challenge_wait "$id"
  log "$(dns_challenge_name "$1") TXT is in sync"
}

# dns_challenge_remove DOMAIN VALIDATION — best effort: a record left behind does no
# harm (a token is good for one authorization) and must not fail an issuance.
dns_challenge_remove() {
  local id
  dns_challenge_check "$1" "$2"
  if id=$(dns_challenge_change DELETE "$1" "$2"); then
    log "removed $(dns_challenge_name "$1") TXT (change $id)"
  else
    log "could not remove $(dns_challenge_name "$1") TXT (above); it is harmless and replaced at the next issuance"
  fi
}
