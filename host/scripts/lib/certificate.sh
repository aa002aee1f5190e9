# shellcheck shell=bash
# The site certificate: restored from the S3 backup when there is one (Let's
# Encrypt allows 5 certificates per exact name per 7 days, whoever asks, so a
# replaced instance must not ask again), else obtained with certbot once the
# domain resolves to this host.
#
# Key type, per trust framework profile (certificate_key_args):
# - open-energy: RSA. FAPI allows on TLS 1.2 only RSA-authenticated suites
#   (ECDHE-RSA/DHE-RSA + AES-GCM); certbot >= 2 defaults to ECDSA, with which a
#   TLS 1.2 client could not connect at all. One RSA lineage serves TLS 1.2 and
#   1.3 alike, with one renewal and one backup.
# - ib1: ECDSA P-256 (IB1 Baseline TLS Configuration: ECDSA keys, TLS 1.3 only).
#
# Renewal follows the certificate's lifetime L (set_renewal_window): certbot
# renews once a third of L is left, so a directory's 24-hour certificates renew
# with 8 hours to spare, and Let's Encrypt's 90-day ones at certbot's own 30 days.

have_certificate() {
  [[ -s $PH_LE_LIVE/fullchain.pem && -s $PH_LE_LIVE/privkey.pem ]]
}

# The ACME directory the settings ask for.
acme_directory() {
  if [[ -n $PH_ACME_SERVER ]]; then
    printf '%s\n' "$PH_ACME_SERVER"
  elif [[ $PH_ACME_STAGING == true ]]; then
    printf '%s\n' https://acme-staging-v02.api.letsencrypt.org/directory
  else
    printf '%s\n' https://acme-v02.api.letsencrypt.org/directory
  fi
}

# The directory the current certificate came from (certbot records it).
certificate_directory() {
  local conf="$PH_LE_DIR/renewal/$PH_DOMAIN.conf"
  [[ -r $conf ]] || return 0
  sed -n 's/^server = //p' "$conf" | head -n 1
}

certbot_dirs() {
  printf '%s\n' --config-dir "$PH_LE_DIR" --work-dir "$PH_LE_WORK_DIR" --logs-dir "$PH_LE_LOGS_DIR"
}

# What a restore brings back: what certbot needs to serve and renew the
# certificate, nothing it would run. The backup lives in a bucket the instance
# itself can write, so a process that obtained the role could plant a
# renewal-hooks/ script or a `post_hook = ...` line for certbot to run as root.
PH_LE_RESTORE_TOPS='accounts archive live renewal'

# The one hook a renewal config may name: ours, as request_certificate's
# --deploy-hook stores it (certbot saves it in [renewalparams] as renew_hook).
deploy_hook_line() { printf 'renew_hook = bash %s/certbot-deploy-hook.sh\n' "$PH_SCRIPTS"; }

# Prints why one archive member may not be restored, nothing when it may.
# TYPE is tar's (-: file, d: folder, l: symlink, h: hard link, c/b/p: devices, fifo).
# restore_refusal NAME TYPE LINK_TARGET
restore_refusal() {
  local name=$1 type=$2 target=$3 rel top
  [[ $name == /* ]] && { echo "an absolute path"; return 0; }
  rel=${name#./}
  [[ /$rel/ == */../* ]] && { echo "a '..' in the path"; return 0; }
  top=${rel%%/*}
  [[ " $PH_LE_RESTORE_TOPS " == *" $top "* ]] || { echo "not something certbot needs (only accounts/, archive/, live/, renewal/)"; return 0; }
  case $type in
    - | d) ;;
    l)
      # live/<lineage>/<file> -> ../../archive/<lineage>/<file>, nothing else.
      local lineage=${rel#live/} file
      lineage=${lineage%%/*}
      file=${target#"../../archive/$lineage/"}
      if [[ $rel != "live/$lineage/${rel##*/}" || $file == "$target" || $file == */* || $file == . || $file == .. || -z $file ]]; then
        echo "a symlink to '$target' (only live/<name>/<file> -> ../../archive/<name>/<file>)"
      fi
      ;;
    *) echo "not a regular file, folder or live/ symlink (tar type '$type')" ;;
  esac
}

# Writes to OUT the member names of ARCHIVE that may be restored, logging each
# refused one with its reason. Called from restore_certificate (set -e off).
# restore_allowed_members ARCHIVE OUT
restore_allowed_members() {
  local archive=$1 out=$2 i name line reason target
  local -a names lines
  # -P: list names as stored (an absolute one must be seen, not silently stripped).
  { tar -tzPf "$archive" >"$out.names" && tar --numeric-owner -tvzPf "$archive" >"$out.lines"; } 2>/dev/null \
    || { echo "cannot list the archive"; return 1; }
  mapfile -t names <"$out.names"
  mapfile -t lines <"$out.lines"
  ((${#names[@]} == ${#lines[@]})) || { echo "its listings disagree"; return 1; }
  : >"$out" || return 1
  for i in "${!names[@]}"; do
    name=${names[$i]} line=${lines[$i]}
    [[ $name == . || $name == ./ ]] && continue
    target=""
    [[ $line == l* ]] && target=${line#*" $name -> "}
    reason=$(restore_refusal "$name" "${line:0:1}" "$target")
    if [[ -n $reason ]]; then
      log "restore: refused $name: $reason"
      continue
    fi
    printf '%s\n' "$name" >>"$out" || return 1
  done
}

# Removes every hook line of a restored renewal config and names ours instead.
# restore_renewal_conf FILE
restore_renewal_conf() {
  local conf=$1 line ours placed=0
  ours=$(deploy_hook_line)
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^[[:space:]]*[A-Za-z_]*hook[[:space:]]*= ]]; then
      [[ $line == "$ours" ]] || log "restore: refused renewal/${conf##*/} line '$line' (certbot would run it as root; only our deploy hook is kept)"
      continue
    fi
    printf '%s\n' "$line"
    if [[ $line =~ ^\[renewalparams\][[:space:]]*$ ]]; then printf '%s\n' "$ours"; placed=1; fi
  done <"$conf" >"$conf.restored" || return 1
  if ((placed == 0)); then printf '[renewalparams]\n%s\n' "$ours" >>"$conf.restored" || return 1; fi
  mv -f "$conf.restored" "$conf"
}

# Returns 0 when a backup was restored, 1 when there is none (or it holds no
# certificate for the domain). It is called as a condition, where set -e does
# not hold: every step that can fail says so itself.
#
# The archive is unpacked into a temporary folder first, as root's files
# (--no-same-owner), only the members restore_refusal allows (no absolute
# names, no '..', only accounts/ archive/ live/ renewal/, regular files and
# folders, live/ symlinks into ../../archive); every hook line of renewal/*.conf
# is replaced by our deploy hook; then it is copied into $PH_LE_DIR.
restore_certificate() {
  local tmp conf top why
  aws_cli s3 ls "$PH_BACKUP_URL" >/dev/null 2>&1 || return 1
  log "restoring $PH_LE_DIR from $PH_BACKUP_URL"
  tmp=$(mktemp -d) || die "cannot create a temporary folder to restore $PH_BACKUP_URL"
  aws_cli s3 cp --only-show-errors "$PH_BACKUP_URL" "$tmp/letsencrypt.tar.gz" || { rm -rf "$tmp"; die "cannot download $PH_BACKUP_URL"; }
  why=$(restore_allowed_members "$tmp/letsencrypt.tar.gz" "$tmp/members") \
    || { rm -rf "$tmp"; die "cannot read $PH_BACKUP_URL: ${why:-listing failed} (a damaged backup? delete it to request a new certificate)"; }
  mkdir "$tmp/tree" || { rm -rf "$tmp"; die "cannot create a temporary folder to restore $PH_BACKUP_URL"; }
  # --no-recursion: a folder member brings only itself, never a refused member below it.
  tar -xzf "$tmp/letsencrypt.tar.gz" -C "$tmp/tree" --no-same-owner --no-recursion --no-wildcards -T "$tmp/members" \
    || { rm -rf "$tmp"; die "cannot unpack $PH_BACKUP_URL (a damaged backup? delete it to request a new certificate)"; }
  for conf in "$tmp/tree/renewal"/*; do
    [[ -f $conf && ! -L $conf ]] || continue
    restore_renewal_conf "$conf" || { rm -rf "$tmp"; die "cannot rewrite the hooks of renewal/${conf##*/}"; }
  done
  { mkdir -p "$PH_LE_DIR" && chmod 0755 "$PH_LE_DIR"; } || { rm -rf "$tmp"; die "cannot create $PH_LE_DIR"; }
  for top in $PH_LE_RESTORE_TOPS; do
    [[ -d $tmp/tree/$top ]] || continue
    { cp -a "$tmp/tree/$top" "$PH_LE_DIR/" && chown -R root:root "$PH_LE_DIR/$top"; } \
      || { rm -rf "$tmp"; die "cannot copy the restored $top/ into $PH_LE_DIR"; }
  done
  # certbot's own modes: keys and accounts for root only.
  for top in accounts archive live; do
    if [[ -d $PH_LE_DIR/$top ]]; then chmod 0700 "$PH_LE_DIR/$top" || { rm -rf "$tmp"; die "cannot chmod $PH_LE_DIR/$top"; }; fi
  done
  rm -rf "$tmp"
  if ! have_certificate; then
    log "the backup holds no certificate for $PH_DOMAIN; a new one will be requested"
    return 1
  fi
  changed "$PH_LE_DIR (restored from backup)"
}

# Backs up what a restore takes back (the same allow-list), so that restoring
# our own backup refuses nothing.
backup_certificate() {
  local tmp top
  local -a tops=()
  for top in $PH_LE_RESTORE_TOPS; do
    if [[ -d $PH_LE_DIR/$top ]]; then tops+=("$top"); fi
  done
  ((${#tops[@]} > 0)) || die "$PH_LE_DIR holds none of $PH_LE_RESTORE_TOPS: nothing to back up"
  tmp=$(mktemp -d) || die "cannot create a temporary folder for the certificate backup"
  tar -czf "$tmp/letsencrypt.tar.gz" -C "$PH_LE_DIR" -- "${tops[@]}" || { rm -rf "$tmp"; die "cannot archive $PH_LE_DIR for the backup"; }
  aws_cli s3 cp --only-show-errors "$tmp/letsencrypt.tar.gz" "$PH_BACKUP_URL" || { rm -rf "$tmp"; die "cannot upload the certificate backup to $PH_BACKUP_URL"; }
  rm -rf "$tmp"
  log "backed up $PH_LE_DIR to $PH_BACKUP_URL"
}

# IMDSv2: a session token first (PUT), then the metadata with that token.
public_ipv4() {
  local token
  token=$(curl -fsS --max-time 5 -X PUT "$PH_IMDS_URL/latest/api/token" \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 300') || return 1
  curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$PH_IMDS_URL/latest/meta-data/public-ipv4"
}

# Prints the addresses NAME resolves to, nothing when it does not resolve
# (getent exits 2 then: not an error while we wait for the record).
resolve_ipv4() {
  local -a resolver
  read -r -a resolver <<<"$PH_RESOLVE_CMD"
  { "${resolver[@]}" "$1" 2>/dev/null || true; } | awk '{ print $1 }' | sort -u
}

# Waits, bounded and logging its progress, until the domain resolves to this
# host's public IPv4: the ACME server will connect to that address. The address
# is read again on every poll: the Elastic IP is associated after the instance
# boots, replacing the one AWS gave it at launch (or giving it its first).
wait_for_dns() {
  local ip addresses deadline=$((SECONDS + PH_DNS_WAIT_SECONDS))
  local unknown="this host's public IP (none in the instance metadata yet)"
  while :; do
    ip=$(public_ipv4 2>/dev/null) || ip=""
    addresses=$(resolve_ipv4 "$PH_DOMAIN" | paste -sd ' ' -)
    if [[ -n $ip ]] && grep -qxF "$ip" < <(tr ' ' '\n' <<<"$addresses"); then
      log "$PH_DOMAIN resolves to this host ($ip)"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      [[ -n $ip ]] || die "cannot read this host's public IPv4 from the instance metadata (IMDSv2 at $PH_IMDS_URL) after ${PH_DNS_WAIT_SECONDS}s; check that the Elastic IP is associated with the instance, then rerun: sudo provider-host-bootstrap setup"
      die "$PH_DOMAIN still resolves to '${addresses:-nothing}', not this host's public IP $ip, after ${PH_DNS_WAIT_SECONDS}s; check that the Route53 A record of $PH_DOMAIN points to $ip (the Elastic IP) and that the zone is delegated, then rerun: sudo provider-host-bootstrap setup"
    fi
    log "waiting for $PH_DOMAIN to resolve to ${ip:-$unknown} (now: ${addresses:-nothing}); $((deadline - SECONDS))s left"
    sleep "$PH_DNS_POLL_SECONDS"
  done
}

request_certificate() {
  local -a args dirs key
  mapfile -t dirs < <(certbot_dirs)
  mapfile -t key < <(certificate_key_args)
  args=(certonly --non-interactive --agree-tos "${dirs[@]}" "$@"
    --webroot --webroot-path "$PH_ACME_WEBROOT"
    --domain "$PH_DOMAIN" --cert-name "$PH_DOMAIN"
    "${key[@]}"
    --keep-until-expiring
    # certbot does not run renewal-hooks/deploy/* on a first certonly; a
    # --deploy-hook runs now AND is saved in the renewal config for renewals.
    # Through bash: the bundle's zip may not keep the executable bit.
    --deploy-hook "bash $PH_SCRIPTS/certbot-deploy-hook.sh")
  if [[ -n $PH_ACME_EMAIL ]]; then args+=(--email "$PH_ACME_EMAIL"); else args+=(--register-unsafely-without-email); fi
  args+=(--server "$(acme_directory)")
  log "requesting a certificate for $PH_DOMAIN from $(acme_directory)"
  "$PH_CERTBOT" "${args[@]}" || die "certbot could not obtain a certificate for $PH_DOMAIN; see $PH_LE_LOGS_DIR/letsencrypt.log"
  have_certificate || die "certbot succeeded but $PH_LE_LIVE has no certificate"
  changed "$PH_LE_LIVE (issued)"
}

# A certificate from the configured ACME directory: kept, restored from the
# backup, or requested. One from another directory (staging switched to
# production, or back) or with another key type (the profile changed) is
# replaced in the same lineage; one inside its renewal window is renewed now.
ensure_certificate() {
  local wanted current key
  wanted=$(acme_directory)
  if ! have_certificate && ! restore_certificate; then
    wait_for_dns
    request_certificate
    return 0
  fi
  current=$(certificate_directory)
  if [[ $current != "$wanted" ]]; then
    log "the certificate for $PH_DOMAIN comes from ${current:-an unknown ACME directory}, the settings ask for $wanted: replacing it"
    wait_for_dns
    request_certificate --force-renewal
    return 0
  fi
  key=$(live_key_type)
  if [[ -n $key && $key != "$(wanted_key_type)" ]]; then
    log "the certificate for $PH_DOMAIN has $key key, the $PH_TRUST_PROFILE profile asks for $(wanted_key_type): replacing it"
    wait_for_dns
    request_certificate --force-renewal
    return 0
  fi
  renew_if_due
}

# ecdsa-p256 for ib1, rsa for open-energy.
wanted_key_type() {
  if [[ $PH_TRUST_PROFILE == ib1 ]]; then echo ecdsa-p256; else echo rsa; fi
}

# certbot's key options for the profile's key type.
certificate_key_args() {
  if [[ $PH_TRUST_PROFILE == ib1 ]]; then
    printf '%s\n' --key-type ecdsa --elliptic-curve secp256r1
  else
    printf '%s\n' --key-type rsa --rsa-key-size "$PH_RSA_KEY_SIZE"
  fi
}

# The live certificate's key: rsa, ecdsa-p256, ecdsa-<curve>, or nothing when unreadable.
live_key_type() {
  local text
  text=$(openssl x509 -noout -text -in "$PH_LE_LIVE/cert.pem" 2>/dev/null) || return 0
  if grep -q 'Public Key Algorithm: rsaEncryption' <<<"$text"; then
    echo rsa
  elif grep -q 'Public Key Algorithm: id-ecPublicKey' <<<"$text"; then
    if grep -q 'NIST CURVE: P-256' <<<"$text"; then echo ecdsa-p256; else echo "ecdsa-$(sed -n 's/^ *NIST CURVE: //p' <<<"$text" | head -n 1)"; fi
  fi
}

# Seconds from notBefore to notAfter of a certificate.
# certificate_lifetime_seconds CERT
certificate_lifetime_seconds() {
  local cert=$1 start end
  start=$(openssl x509 -noout -startdate -in "$cert") || return 1
  end=$(openssl x509 -noout -enddate -in "$cert") || return 1
  start=$(date -u -d "${start#notBefore=}" +%s) || return 1
  end=$(date -u -d "${end#notAfter=}" +%s) || return 1
  echo $((end - start))
}

# certbot renews once a third of the lifetime (seconds) is left: minutes, rounded (a CA's
# "24 hours" may be 86399 s), at least 1.
renewal_window_minutes() {
  local minutes=$((($1 + 90) / 180))
  ((minutes >= 1)) || minutes=1
  echo "$minutes"
}

# Writes `renew_before_expiry = <a third of the live certificate's lifetime>` into the
# lineage's renewal config (a top-level key: before the first [section]), where certbot
# renew reads it. Called by the deploy hook after every issuance and renewal, and by
# setup (a restored backup's config may predate it). Records a change when it changed.
set_renewal_window() {
  local conf="$PH_LE_DIR/renewal/$PH_DOMAIN.conf" lifetime line
  [[ -f $conf ]] || return 0
  lifetime=$(certificate_lifetime_seconds "$PH_LE_LIVE/cert.pem" 2>/dev/null) || { log "WARNING: cannot read the lifetime of $PH_LE_LIVE/cert.pem; certbot keeps its renewal window"; return 0; }
  line="renew_before_expiry = $(renewal_window_minutes "$lifetime") minutes"
  grep -qxF "$line" "$conf" && return 0
  if ! { { printf '%s\n' "$line" && grep -v '^[[:space:]]*renew_before_expiry[[:space:]]*=' "$conf"; } >"$conf.window" \
    && chmod --reference="$conf" "$conf.window" && mv -f "$conf.window" "$conf"; }; then
    rm -f "$conf.window"
    die "cannot write the renewal window into $conf"
  fi
  changed "$conf: $line (the certificate lives $((lifetime / 60)) minutes)"
}

# Renews now a certificate inside its renewal window or expired: what a restored backup
# of a short-lived (24-hour) certificate always is after a while. The backup is then
# worth its account key (and lineage); the certificate itself is replaced at once.
# An unreadable certificate is left to nginx -t, which names it.
renew_if_due() {
  local lifetime window
  set_renewal_window
  lifetime=$(certificate_lifetime_seconds "$PH_LE_LIVE/cert.pem" 2>/dev/null) || return 0
  window=$(($(renewal_window_minutes "$lifetime") * 60))
  openssl x509 -noout -checkend "$window" -in "$PH_LE_LIVE/cert.pem" >/dev/null 2>&1 && return 0
  log "the certificate for $PH_DOMAIN has expired or expires within its renewal window ($((window / 60)) minutes): renewing it now"
  wait_for_dns
  request_certificate --force-renewal
}
