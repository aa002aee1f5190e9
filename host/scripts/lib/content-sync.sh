# shellcheck shell=bash
# Datasets and public files from S3, staged then swapped atomically.
#
# $PH_SRV/<name> is a symlink to $PH_SRV/releases/<name>-<content hash>. A new
# version is staged next to it (hard-linked from the current one, so only
# changed files are downloaded), then the link is replaced with one rename:
# a reader sees the old tree or the new one, never a mix. Files already open
# (a download in progress) keep their content.

tree_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -c1-16
}

# sync_tree NAME S3_PREFIX — returns 0 when the tree changed.
sync_tree() {
  local name=$1 prefix=$2 link="$PH_SRV/$1" releases="$PH_SRV/releases" staging hash target current=""
  [[ -L $link ]] && current=$(readlink -f "$link")
  staging=$(mktemp -d "$releases/.staging-$name.XXXXXX")
  [[ -n $current && -d $current ]] && cp -al "$current/." "$staging/"
  if ! aws_cli s3 sync --only-show-errors --delete "s3://$PH_BUCKET/$prefix" "$staging"; then
    rm -rf "$staging"
    die "cannot sync s3://$PH_BUCKET/$prefix"
  fi
  hash=$(tree_hash "$staging")
  target="$releases/$name-$hash"
  if [[ $current == "$target" ]]; then
    rm -rf "$staging"
    return 1
  fi
  if [[ -d $target ]]; then rm -rf "$staging"; else mv "$staging" "$target"; fi
  chmod 0755 "$target"
  find "$target" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
  ln -sfn "$target" "$link.next"
  mv -Tf "$link.next" "$link"
  changed "$link -> $(basename "$target")"
  prune_trees "$name" "$target" "$current"
}

# Keeps the new and the previous tree (open downloads), removes older ones.
prune_trees() {
  local name=$1 keep1=$2 keep2=$3 tree
  for tree in "$PH_SRV/releases/$name"-*; do
    [[ -d $tree && $tree != "$keep1" && $tree != "$keep2" ]] && rm -rf "$tree"
  done
  return 0
}

# Returns 0 when the datasets or the public files changed.
sync_content() {
  local changed_any=1
  sync_tree shared_data "$PH_DATA_PREFIX" && changed_any=0
  sync_tree public "$PH_PUBLIC_PREFIX" && changed_any=0
  return "$changed_any"
}
