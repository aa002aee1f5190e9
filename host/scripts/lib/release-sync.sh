# shellcheck shell=bash
# Published data releases (tools/publish; formats: contract/release-manifest.ts).
#
# `provider-host publish` writes, in this order: shared_data/objects/<sha256> (each
# file's bytes), shared_data/releases/<id>.json (the manifest), and last
# shared_data/current.json (the pointer). sync_release reads the pointer; when it names
# a release this host does not serve, it downloads the manifest and every object it
# lacks into a local object store, checks each SHA-256, builds the release's tree of
# hard links in a staging folder, checks the whole tree with sha256sum -c, and swaps
# $PH_SRV/shared_data to it with one rename (the same stage-then-swap as
# content-sync.sh). Any mismatch keeps the current release and says why: in the log
# and in the status object the host writes (host-status/release.json).
#
# Run by setup.sh and update.sh (through sync_content) and, without a deploy, by
# provider-host-release.timer every 20 s (host/scripts/release-sync.sh).

# The one object besides the certificate backup the instance role may write
# (RELEASE_LAYOUT.hostStatusKey; host/test/release-sync.test.ts checks they agree).
PH_RELEASE_STATUS_KEY=host-status/release.json
# A refused release is tried again after this long (a fixed object under the same key).
PH_RELEASE_RETRY_SECONDS=${PH_RELEASE_RETRY_SECONDS:-300}
# The status object is rewritten at least this often while nothing changes.
PH_RELEASE_HEARTBEAT_SECONDS=${PH_RELEASE_HEARTBEAT_SECONDS:-300}
# Set to 1 by sync_release when it refused a release (release-sync.sh exits 1).
# shellcheck disable=SC2034 # read by release-sync.sh
PH_RELEASE_REFUSED=0

now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# Writes the status object (serving, since, last refusal) and uploads it; a failed
# upload is logged, never fatal (the data path must not depend on it).
release_write_status() {
  local state=$PH_STATE/release serving=none since="" rejected=()
  [[ -s $state/serving ]] && serving=$(<"$state/serving")
  [[ -s $state/serving-since ]] && since=$(<"$state/serving-since")
  if [[ -s $state/rejected-id ]]; then
    rejected=("$(<"$state/rejected-id")" "$(<"$state/rejected-at")" "$(<"$state/rejected-reason")")
  fi
  if ! host_render release-status "$serving" "$since" "${rejected[@]}" >"$state/status.json"; then
    log "WARNING: cannot render the release status (above)"
    return 0
  fi
  if ! aws_cli s3 cp --only-show-errors "$state/status.json" "s3://$PH_BUCKET/$PH_RELEASE_STATUS_KEY" 2>"$state/status.err"; then
    log "WARNING: cannot write s3://$PH_BUCKET/$PH_RELEASE_STATUS_KEY: $(head -c 300 "$state/status.err")"
  fi
}

# release_refuse ID REASON — keeps the current release, records why.
release_refuse() {
  local state=$PH_STATE/release
  # shellcheck disable=SC2034 # read by release-sync.sh
  PH_RELEASE_REFUSED=1
  log "ERROR: refusing release $1: $2; $PH_SRV/shared_data still serves $(cat "$state/serving" 2>/dev/null || echo 'what it served')"
  printf '%s\n' "$1" >"$state/rejected-id"
  now_utc >"$state/rejected-at"
  printf '%s\n' "$2" >"$state/rejected-reason"
  release_write_status
}

# An empty tree before the first publish, so nginx and the app have a data folder.
release_ensure_tree() {
  local link=$PH_SRV/shared_data target=$PH_SRV/releases/shared_data-none
  [[ -e $link ]] && return 0
  ensure_dir "$target" 0755 root:root
  { ln -sfn "$target" "$link.next" && mv -Tf "$link.next" "$link"; } || die "cannot create $link"
  changed "$link -> shared_data-none (no release published yet)"
}

# Records a change when it swapped shared_data to a new release.
sync_release() {
  local state=$PH_STATE/release objects=$PH_SRV/releases/.objects link=$PH_SRV/shared_data lock
  ensure_dir "$PH_SRV/releases" 0755 root:root
  ensure_dir "$state" 0700 root:root
  ensure_dir "$objects" 0755 root:root
  # One sync at a time (the timer and a deploy's update.sh).
  exec {lock}>"$state/lock"
  flock -w 600 "$lock" || die "another release sync holds $state/lock for more than 10 minutes"
  release_sync_locked "$state" "$objects" "$link"
  exec {lock}>&-
}

release_sync_locked() {
  local state=$1 objects=$2 link=$3 id key sha current="" served="" plan hash size name obj actual staging target
  local pointer_url="s3://$PH_BUCKET/${PH_DATA_PREFIX}current.json"
  [[ -L $link ]] && current=$(readlink -f "$link")
  [[ -s $state/serving ]] && served=$(<"$state/serving")

  rm -f "$state/current.json"
  # `s3 ls` of a missing key: exit 1 and nothing on stderr (an access or network
  # error says why). The role may list shared_data/, so a missing key is not a 403.
  if ! aws_cli s3 ls "$pointer_url" >/dev/null 2>"$state/pointer.err"; then
    [[ -s $state/pointer.err ]] && die "cannot read $pointer_url: $(head -c 300 "$state/pointer.err")"
    release_ensure_tree # nothing published yet
    [[ -n $served || -s $state/status.json ]] || release_write_status
    return 0
  fi
  aws_cli s3 cp --only-show-errors "$pointer_url" "$state/current.json" || die "cannot download $pointer_url"
  if ! read -r id key sha < <(host_render release-pointer "$state/current.json"); then
    release_refuse "(pointer)" "$pointer_url is not a valid release pointer (see the log)"
    return 0
  fi
  if [[ $id == "$served" && $current == "$PH_SRV/releases/shared_data-$id" ]]; then
    if [[ -z $(find "$state/status.json" -newermt "-$PH_RELEASE_HEARTBEAT_SECONDS seconds" 2>/dev/null) ]]; then release_write_status; fi
    return 0
  fi
  if [[ -s $state/rejected-id && $(<"$state/rejected-id") == "$id" ]] \
    && [[ -n $(find "$state/rejected-id" -newermt "-$PH_RELEASE_RETRY_SECONDS seconds" 2>/dev/null) ]]; then
    return 0 # refused a moment ago: retried after PH_RELEASE_RETRY_SECONDS
  fi
  log "release $id is live in s3://$PH_BUCKET; this host serves ${served:-none}: fetching it"

  rm -f "$state/manifest.json"
  if ! aws_cli s3 cp --only-show-errors "s3://$PH_BUCKET/$key" "$state/manifest.json"; then
    release_refuse "$id" "cannot download its manifest s3://$PH_BUCKET/$key"
    return 0
  fi
  actual=$(sha256sum "$state/manifest.json" | cut -c1-64)
  if [[ $actual != "$sha" ]]; then
    release_refuse "$id" "its manifest $key has SHA-256 $actual, the pointer says $sha"
    return 0
  fi
  if ! plan=$(host_render release-plan "$state/manifest.json" "$id"); then
    release_refuse "$id" "its manifest $key is not valid (see the log)"
    return 0
  fi

  staging=$(mktemp -d "$PH_SRV/releases/.staging-shared_data.XXXXXX") || die "cannot create a staging folder in $PH_SRV/releases"
  chmod 0755 "$staging"
  while read -r hash size name; do
    [[ -n $hash ]] || continue
    obj=$objects/$hash
    if [[ ! -f $obj ]]; then
      if ! aws_cli s3 cp --only-show-errors "s3://$PH_BUCKET/${PH_DATA_PREFIX}objects/$hash" "$objects/.download-$hash"; then
        rm -rf "$staging" "$objects/.download-$hash"
        release_refuse "$id" "cannot download ${PH_DATA_PREFIX}objects/$hash ($name)"
        return 0
      fi
      actual=$(sha256sum "$objects/.download-$hash" | cut -c1-64)
      if [[ $actual != "$hash" ]]; then
        rm -rf "$staging" "$objects/.download-$hash"
        release_refuse "$id" "$name: object ${PH_DATA_PREFIX}objects/$hash holds bytes with SHA-256 $actual (size $size expected)"
        return 0
      fi
      { chmod 0644 "$objects/.download-$hash" && mv -f "$objects/.download-$hash" "$obj"; } || die "cannot store $obj"
    fi
    { mkdir -p "$(dirname "$staging/$name")" && ln "$obj" "$staging/$name"; } \
      || { rm -rf "$staging"; die "cannot link $obj into $staging (both must be on one file system)"; }
  done <<<"$plan"
  # Every byte of the tree about to be served, once more.
  host_render release-checksums "$state/manifest.json" >"$state/checksums" || die "cannot list the checksums of $id"
  if ! (cd "$staging" && sha256sum --quiet --strict -c "$state/checksums") >"$state/verify.log" 2>&1; then
    rm -rf "$staging"
    release_refuse "$id" "sha256sum -c failed: $(head -c 300 "$state/verify.log" | tr '\n' ' ')"
    return 0
  fi

  target=$PH_SRV/releases/shared_data-$id
  rm -rf "$target"
  find "$staging" -type d -exec chmod 0755 {} + || die "cannot make $staging readable"
  mv "$staging" "$target" \
    || { rm -rf "$staging"; die "cannot move $staging to $target; $link still points to ${current:-nothing}. Check that $PH_SRV/releases is writable and has space, then rerun"; }
  ln -sfn "$target" "$link.next" || die "cannot create the link $link.next; $link is unchanged"
  mv -Tf "$link.next" "$link" || die "cannot replace $link (-> $target); $link is unchanged"
  printf '%s\n' "$id" >"$state/serving"
  now_utc >"$state/serving-since"
  rm -f "$state/rejected-id" "$state/rejected-at" "$state/rejected-reason"
  changed "$link -> shared_data-$id"
  # The new and the previous tree stay (downloads in progress); objects no tree links go.
  prune_trees shared_data "$target" "$current"
  find "$objects" -maxdepth 1 -type f -links 1 -delete || log "WARNING: cannot prune $objects"
  release_write_status
}

# The timer that picks releases up without a deploy. Records a change when a unit
# changed or the timer was enabled.
install_release_timer() {
  ensure_dir "$PH_SYSTEMD_DIR" 0755 root:root
  host_render template "$PH_CURRENT/host/systemd/provider-host-release.service.tmpl" \
    "ph_etc=$PH_ETC" "script=$PH_PREFIX/current/host/scripts/release-sync.sh" \
    >"$PH_STATE/release.service.rendered" || die "cannot render the release service (above)"
  install_timer provider-host-release release "$PH_STATE/release.service.rendered" "published releases would not be picked up"
}
