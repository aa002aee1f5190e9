# shellcheck shell=bash
# The instance metadata service (IMDS) is for root only. Any process that can
# reach 169.254.169.254 (fd00:ec2::254 over IPv6) can ask it for the instance
# role's credentials, and with them read the bucket and the SSM secrets. The
# app runs as $PH_USER; a flaw in it must not be worth the role.
#
# Mechanism: an nftables rule set of our own (table inet provider_host, hook
# output) rejecting every packet the app user's sockets send to the metadata
# addresses. The rule matches the socket's owner (meta skuid), so it holds for
# every process of that user, whichever service started it (cloud-init's first
# setup.sh run included). Root (the host scripts, the SSM agent) is untouched.
# The rule file is loaded now and, at every boot, by
# provider-host-metadata-guard.service before the network comes up (and before
# pm2-<user>.service, whose own IPAddressDeny= is a second lock, see app.sh).

# Where the rule file lives, and the nft command (a prefix such as
# "ip netns exec NS nft" points it at a network namespace: the e2e test).
metadata_guard_defaults() {
  : "${PH_NFT:=nft}"
  : "${PH_METADATA_GUARD_RULES:=$PH_ETC/metadata-guard.nft}"
  PH_METADATA_GUARD_TABLE=provider_host
}

nft_cmd() {
  local -a nft
  read -r -a nft <<<"$PH_NFT"
  "${nft[@]}" "$@"
}

# Prints the rule set for the app user's uid. Loading it twice leaves one copy:
# the table is declared (created if missing), deleted, and declared again.
# metadata_guard_rules UID
metadata_guard_rules() {
  local uid=$1
  [[ $uid =~ ^[0-9]+$ ]] || die "metadata_guard_rules: '$uid' is not a numeric uid"
  cat <<EOF
#!/usr/sbin/nft -f
# Written by the provider host's setup.sh (host/scripts/lib/metadata-guard.sh); do not edit.
# The app user (uid $uid, $PH_USER) may not reach the instance metadata service:
# its role credentials are for root (host scripts, SSM agent) only.
table inet $PH_METADATA_GUARD_TABLE
delete table inet $PH_METADATA_GUARD_TABLE
table inet $PH_METADATA_GUARD_TABLE {
  chain output {
    type filter hook output priority filter; policy accept;
    meta skuid $uid ip daddr 169.254.169.254 counter reject
    meta skuid $uid ip6 daddr fd00:ec2::254 counter reject
  }
}
EOF
}

# Loads the rule file into the kernel (atomic: nft -f applies all or nothing).
load_metadata_guard() {
  metadata_guard_defaults
  nft_cmd -f "$PH_METADATA_GUARD_RULES" || die "nft could not load $PH_METADATA_GUARD_RULES: the app user could reach the instance metadata (and the role's credentials); see: nft -c -f $PH_METADATA_GUARD_RULES"
}

# Writes the rule file and the boot unit; with systemd, enables the unit and
# loads the rules when the file changed or the table is not in the kernel.
# Records a change for each.
install_metadata_guard() {
  local uid nft_path rules_changed=0 unit_changed=0
  metadata_guard_defaults
  uid=$(id -u "$PH_USER") || die "the app user $PH_USER does not exist; the metadata guard needs its uid"
  metadata_guard_rules "$uid" >"$PH_STATE/metadata-guard.nft.rendered"
  track rules_changed install_file "$PH_STATE/metadata-guard.nft.rendered" "$PH_METADATA_GUARD_RULES" 0644 root:root
  ensure_dir "$PH_SYSTEMD_DIR" 0755 root:root
  nft_path=$(command -v nft 2>/dev/null) || nft_path=/usr/sbin/nft
  host_render template "$PH_CURRENT/host/systemd/provider-host-metadata-guard.service.tmpl" \
    "nft=$nft_path" "rules=$PH_METADATA_GUARD_RULES" >"$PH_STATE/metadata-guard.service.rendered" \
    || die "cannot render the metadata guard unit (above)"
  track unit_changed install_file "$PH_STATE/metadata-guard.service.rendered" "$PH_SYSTEMD_DIR/provider-host-metadata-guard.service" 0644 root:root
  if [[ $PH_SYSTEMD != 1 ]]; then
    log "no systemd (PH_SYSTEMD=$PH_SYSTEMD): metadata guard rules and unit written, not loaded"
    return 0
  fi
  if ((unit_changed == 1)); then
    systemctl daemon-reload || die "systemctl daemon-reload failed; the metadata guard unit is not loaded"
  fi
  if ! systemctl is-enabled --quiet provider-host-metadata-guard.service; then
    systemctl enable --quiet provider-host-metadata-guard.service \
      || die "cannot enable provider-host-metadata-guard.service: after a reboot the app user could reach the instance metadata"
    changed "provider-host-metadata-guard.service enabled"
  fi
  if ((rules_changed == 1)) || ! nft_cmd list table inet "$PH_METADATA_GUARD_TABLE" >/dev/null 2>&1; then
    load_metadata_guard
    changed "metadata guard loaded (nft table inet $PH_METADATA_GUARD_TABLE)"
  fi
}
