# shellcheck shell=bash
# The certificate of a fleet host (PH_FLEET=true, docs/fleet.md): one certificate
# for every host behind the load balancer. Sourced after common.sh and
# certificate.sh, never run.
#
# - Obtained once, by DNS-01: the load balancer sends port 80 to any host, so an
#   HTTP-01 token written on one host would be looked for on another. certbot
#   --manual with certbot-dns-route53-hook.sh writes _acme-challenge.<domain> TXT
#   in Route53.
# - Shared through the bucket: the very backup single mode keeps
#   (PH_BACKUP_URL, restored by restore_certificate's allow-list), installed on
#   every host by fleet_sync_certificate, which swaps the whole $PH_LE_DIR at once.
# - Renewed by one host: the S3 lock object $PH_LE_BACKUP_PREFIX/renewal.lock is
#   created with If-None-Match: * (only one create can succeed). It holds its
#   holder and an expiry; a lock whose holder died is taken over after the expiry
#   with If-Match on its ETag (only one take-over can succeed). The others pick
#   the renewed certificate up from the bucket on their timer and reload nginx.
#
# No private key is logged: only fingerprints, serials and paths.

fleet_defaults() {
  : "${PH_FLEET_LOCK_SECONDS:=900}"        # a lock older than this is a dead holder's
  : "${PH_FLEET_CERTBOT_SECONDS:=600}"     # certbot's bound, inside the lock's
  : "${PH_FLEET_WAIT_SECONDS:=1200}"       # a new host waits this long for another host's issuance
  : "${PH_FLEET_POLL_SECONDS:=10}"
  PH_FLEET_LOCK_KEY="${PH_LE_BACKUP_PREFIX}renewal.lock"
  PH_FLEET_STAMP="$PH_STATE/fleet-certificate.sha256"
  ((PH_FLEET_CERTBOT_SECONDS < PH_FLEET_LOCK_SECONDS)) \
    || die "PH_FLEET_CERTBOT_SECONDS ($PH_FLEET_CERTBOT_SECONDS) must be below PH_FLEET_LOCK_SECONDS ($PH_FLEET_LOCK_SECONDS): a lock must outlive its holder's certbot run"
}

# Prints "serial=... sha256=..." of the served certificate, nothing when there is none.
# fleet_certificate_id [LIVE_DIR]
fleet_certificate_id() {
  local live=${1:-$PH_LE_LIVE}
  [[ -s $live/cert.pem ]] || return 0
  openssl x509 -in "$live/cert.pem" -noout -serial -fingerprint -sha256 2>/dev/null \
    | sed -e 's/^serial=/serial=/' -e 's/^.*Fingerprint=/sha256=/' | paste -sd ' ' -
}

# certbot --manual with the Route53 hooks; extra arguments (--force-renewal) follow.
fleet_certbot() {
  local -a args dirs keys
  mapfile -t dirs < <(certbot_dirs)
  # The profile's key type, as single mode asks for it (certificate.sh).
  mapfile -t keys < <(certificate_key_args)
  args=(certonly --non-interactive --agree-tos "${dirs[@]}" "$@"
    --manual --preferred-challenges dns
    --manual-auth-hook "bash $PH_SCRIPTS/certbot-dns-route53-hook.sh auth"
    --manual-cleanup-hook "bash $PH_SCRIPTS/certbot-dns-route53-hook.sh cleanup"
    --domain "$PH_DOMAIN" --cert-name "$PH_DOMAIN" "${keys[@]}" --keep-until-expiring)
  if [[ -n $PH_ACME_EMAIL ]]; then args+=(--email "$PH_ACME_EMAIL"); else args+=(--register-unsafely-without-email); fi
  args+=(--server "$(acme_directory)")
  timeout "$PH_FLEET_CERTBOT_SECONDS" "$PH_CERTBOT" "${args[@]}"
}

# --- the lock -----------------------------------------------------------------

fleet_holder() {
  local name
  name=$(hostname 2>/dev/null | tr -cd 'A-Za-z0-9.-') || name=""
  printf '%s/%s\n' "${name:-host}" "$(tr -cd 'a-f0-9-' </proc/sys/kernel/random/uuid)"
}

# fleet_lock_field FILE NAME — a field of a lock object ("holder" or "expires").
fleet_lock_field() {
  sed -n "s/.*\"$2\":[[:space:]]*\"\\{0,1\\}\\([A-Za-z0-9.:\\/-]*\\)\"\\{0,1\\}.*/\\1/p" "$1" | head -n 1
}

# fleet_lock_put FILE CONDITION VALUE — put-object with If-None-Match or If-Match.
# Exit 0: written; 1: the condition did not hold (another host won); dies on anything else.
fleet_lock_put() {
  local out
  if out=$(aws_cli s3api put-object --bucket "$PH_BUCKET" --key "$PH_FLEET_LOCK_KEY" --body "$1" "$2" "$3" 2>&1 >/dev/null); then
    return 0
  fi
  [[ $out == *PreconditionFailed* || $out == *ConditionalRequestConflict* ]] && return 1
  die "cannot write the renewal lock s3://$PH_BUCKET/$PH_FLEET_LOCK_KEY: $out (the instance role must allow s3:PutObject on it)"
}

# Returns 0 when this run now holds the lock (PH_FLEET_HOLDER names it), 1 when another
# live holder has it. Called as a condition: every failure dies by itself.
fleet_lock_acquire() {
  local tmp etag holder expires now
  PH_FLEET_HOLDER=$(fleet_holder)
  now=$(date +%s)
  tmp=$(mktemp -d) || die "cannot create a temporary folder for the renewal lock"
  printf '{"holder":"%s","expires":%s}\n' "$PH_FLEET_HOLDER" "$((now + PH_FLEET_LOCK_SECONDS))" >"$tmp/lock.json"
  if fleet_lock_put "$tmp/lock.json" --if-none-match '*'; then
    rm -rf "$tmp"
    log "renewal lock taken ($PH_FLEET_HOLDER, for ${PH_FLEET_LOCK_SECONDS}s)"
    return 0
  fi
  if ! etag=$(aws_cli s3api get-object --bucket "$PH_BUCKET" --key "$PH_FLEET_LOCK_KEY" "$tmp/held.json" --query ETag --output text 2>/dev/null); then
    # Released between our create and our read: the next run tries again.
    rm -rf "$tmp"
    log "the renewal lock was released meanwhile; not renewing in this run"
    return 1
  fi
  holder=$(fleet_lock_field "$tmp/held.json" holder)
  expires=$(fleet_lock_field "$tmp/held.json" expires)
  [[ $expires =~ ^[0-9]+$ ]] || expires=0 # unreadable: treated as expired
  if ((expires > now)); then
    rm -rf "$tmp"
    log "the renewal lock is held by ${holder:-an unknown holder} for $((expires - now))s more; another host renews"
    return 1
  fi
  if fleet_lock_put "$tmp/lock.json" --if-match "$etag"; then
    rm -rf "$tmp"
    log "took over the renewal lock of ${holder:-an unknown holder}, expired $((now - expires))s ago ($PH_FLEET_HOLDER)"
    return 0
  fi
  rm -rf "$tmp"
  log "another host took over the expired renewal lock first"
  return 1
}

# Deletes the lock if this run still holds it (a holder that overran its expiry may
# have lost it: then it is the new holder's, and stays).
fleet_lock_release() {
  local tmp
  tmp=$(mktemp -d) || die "cannot create a temporary folder for the renewal lock"
  if aws_cli s3api get-object --bucket "$PH_BUCKET" --key "$PH_FLEET_LOCK_KEY" "$tmp/held.json" >/dev/null 2>&1 \
    && [[ $(fleet_lock_field "$tmp/held.json" holder) == "${PH_FLEET_HOLDER:-}" ]]; then
    aws_cli s3api delete-object --bucket "$PH_BUCKET" --key "$PH_FLEET_LOCK_KEY" >/dev/null \
      || log "could not delete the renewal lock (above); it expires by itself in at most ${PH_FLEET_LOCK_SECONDS}s"
    log "renewal lock released"
  else
    log "the renewal lock is no longer ours (we overran ${PH_FLEET_LOCK_SECONDS}s?); left to its holder"
  fi
  rm -rf "$tmp"
}

# --- the shared certificate -------------------------------------------------------

# restore_certificate (its allow-list, its hook rewriting) into DIR instead of $PH_LE_DIR
# (bash's locals are seen by the functions this one calls), each renewal config's paths
# pinned to FINAL, where DIR will be moved. Returns 1 when the backup holds no
# certificate for the domain, or a renewal config that cannot be pinned.
# fleet_restore_into DIR FINAL
fleet_restore_into() {
  local final=$2 conf
  local PH_LE_DIR=$1
  local PH_LE_LIVE=$1/live/$PH_DOMAIN
  restore_certificate || return 1
  for conf in "$PH_LE_DIR/renewal"/*.conf; do
    [[ -f $conf && ! -L $conf ]] || continue
    fleet_pin_renewal_paths "$conf" "$final" || return 1
  done
}

# The obtaining host wrote its own paths into the renewal config; certbot renews into
# them. Pinned to this host's folder: the hosts' layouts may differ, and a planted
# archive_dir would have certbot write a key wherever it names, as root.
# fleet_pin_renewal_paths CONF LE_DIR
fleet_pin_renewal_paths() {
  local conf=$1 dir=$2 lineage
  lineage=$(basename "$conf" .conf)
  if [[ ! $lineage =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]]; then
    log "restore: refused renewal/${conf##*/}: not a certificate name"
    return 1
  fi
  sed -e "s|^archive_dir = .*|archive_dir = $dir/archive/$lineage|" \
    -e "s|^cert = .*|cert = $dir/live/$lineage/cert.pem|" \
    -e "s|^privkey = .*|privkey = $dir/live/$lineage/privkey.pem|" \
    -e "s|^chain = .*|chain = $dir/live/$lineage/chain.pem|" \
    -e "s|^fullchain = .*|fullchain = $dir/live/$lineage/fullchain.pem|" \
    "$conf" >"$conf.pinned" && mv -f "$conf.pinned" "$conf"
}

# Installs the certificate from the bucket when it differs from the one this host
# serves: restored (restore_certificate's allow-list) into a folder beside
# $PH_LE_DIR, then swapped in whole. Records a change when the certificate changed;
# nothing when the bucket has none yet.
fleet_sync_certificate() {
  local tmp sum staging="$PH_LE_DIR.incoming" before after
  tmp=$(mktemp -d) || die "cannot create a temporary folder to read $PH_BACKUP_URL"
  if ! aws_cli s3 cp --only-show-errors "$PH_BACKUP_URL" "$tmp/backup.tar.gz" >/dev/null 2>&1; then
    # None yet, or stored by another host just now (then a second try gets it).
    if ! aws_cli s3 ls "$PH_BACKUP_URL" >/dev/null 2>&1; then
      rm -rf "$tmp"
      return 0
    fi
    aws_cli s3 cp --only-show-errors "$PH_BACKUP_URL" "$tmp/backup.tar.gz" >/dev/null \
      || { rm -rf "$tmp"; die "cannot download $PH_BACKUP_URL (above; the instance role must allow s3:GetObject on it)"; }
  fi
  sum=$(sha256sum "$tmp/backup.tar.gz" | cut -d ' ' -f 1)
  rm -rf "$tmp"
  if have_certificate && [[ -s $PH_FLEET_STAMP && $(cat "$PH_FLEET_STAMP") == "$sum" ]]; then return 0; fi
  rm -rf "$staging"
  if ! fleet_restore_into "$staging" "$PH_LE_DIR"; then
    rm -rf "$staging"
    die "the fleet certificate in $PH_BACKUP_URL could not be installed (above); this host keeps serving the one it has"
  fi
  before=$(fleet_certificate_id)
  after=$(fleet_certificate_id "$staging/live/$PH_DOMAIN")
  if [[ -n $before && $before == "$after" ]]; then
    rm -rf "$staging"
  else
    rm -rf "$PH_LE_DIR.previous"
    if [[ -d $PH_LE_DIR ]]; then mv -T "$PH_LE_DIR" "$PH_LE_DIR.previous" || die "cannot move $PH_LE_DIR aside"; fi
    if ! mv -T "$staging" "$PH_LE_DIR"; then
      [[ -d $PH_LE_DIR.previous ]] && mv -T "$PH_LE_DIR.previous" "$PH_LE_DIR"
      die "cannot move the fleet certificate into $PH_LE_DIR"
    fi
    rm -rf "$PH_LE_DIR.previous"
    changed "$PH_LE_LIVE (the fleet certificate from the bucket: $after)"
  fi
  if ! { mkdir -p "$(dirname "$PH_FLEET_STAMP")" && printf '%s\n' "$sum" >"$PH_FLEET_STAMP"; }; then
    die "cannot write $PH_FLEET_STAMP"
  fi
}

# Obtains the certificate by DNS-01 and stores it in the bucket; the caller holds the lock.
fleet_obtain_certificate() {
  log "requesting the fleet certificate for $PH_DOMAIN by DNS-01 from $(acme_directory)"
  if ! fleet_certbot; then
    fleet_lock_release
    die "certbot could not obtain a certificate for $PH_DOMAIN by DNS-01; see $PH_LE_LOGS_DIR/letsencrypt.log"
  fi
  have_certificate || { fleet_lock_release; die "certbot succeeded but $PH_LE_LIVE has no certificate"; }
  backup_certificate
  changed "$PH_LE_LIVE (issued for the fleet: $(fleet_certificate_id))"
}

# setup.sh / update.sh in fleet mode: the certificate this host has, else the fleet's
# from the bucket, else obtained by this host under the lock while the others wait,
# bounded, for it to appear in the bucket.
fleet_ensure_certificate() {
  local deadline
  fleet_defaults
  have_certificate && return 0
  fleet_sync_certificate
  have_certificate && return 0
  deadline=$((SECONDS + PH_FLEET_WAIT_SECONDS))
  while :; do
    if fleet_lock_acquire; then
      # Another host may have stored one between our look and our lock.
      fleet_sync_certificate
      have_certificate || fleet_obtain_certificate
      fleet_lock_release
      return 0
    fi
    ((SECONDS < deadline)) || die "no fleet certificate in $PH_BACKUP_URL after ${PH_FLEET_WAIT_SECONDS}s while another host held the renewal lock; see that host's log (provider-host setup), or delete s3://$PH_BUCKET/$PH_FLEET_LOCK_KEY if no host is obtaining one, then rerun: sudo provider-host-bootstrap setup"
    sleep "$PH_FLEET_POLL_SECONDS"
    fleet_sync_certificate
    have_certificate && return 0
  done
}

# The fleet timer: picks up a certificate another host renewed (reloading nginx), then
# renews under the lock when certbot finds it due (--keep-until-expiring: its own
# renewal window). Extra arguments go to certbot (e.g. --force-renewal by hand).
fleet_renew_certificate() {
  local reload=0 before after
  fleet_defaults
  track reload fleet_sync_certificate
  if fleet_lock_acquire; then
    track reload fleet_sync_certificate
    # certbot's window: a third of the lifetime, as in single mode (certificate.sh).
    set_renewal_window
    before=$(fleet_certificate_id)
    if ! fleet_certbot "$@"; then
      fleet_lock_release
      die "certbot could not renew the fleet certificate for $PH_DOMAIN; see $PH_LE_LOGS_DIR/letsencrypt.log (the others keep serving the current one)"
    fi
    after=$(fleet_certificate_id)
    if [[ $after != "$before" ]]; then
      backup_certificate
      changed "$PH_LE_LIVE (renewed for the fleet: $after)"
      reload=1
    else
      log "the fleet certificate is not due for renewal ($after)"
    fi
    fleet_lock_release
  fi
  if ((reload == 1)); then nginx_apply; fi
}

# The fleet's timer instead of certbot's own renewal timer (whose `certbot renew`
# would renew without the lock). Records a change when a unit changed or was enabled.
install_fleet_certificate_timer() {
  ensure_dir "$PH_SYSTEMD_DIR" 0755 root:root
  host_render template "$PH_CURRENT/host/systemd/provider-fleet-certificate.service.tmpl" \
    "ph_etc=$PH_ETC" "script=$PH_PREFIX/current/host/scripts/fleet-certificate-refresh.sh" \
    "result_script=$PH_PREFIX/current/host/scripts/certbot-renew-result.sh" \
    >"$PH_STATE/fleet-certificate.service.rendered" || die "cannot render the fleet certificate service (above)"
  install_timer provider-fleet-certificate "fleet certificate" "$PH_STATE/fleet-certificate.service.rendered" "the fleet certificate would neither renew nor reach this host"
}
