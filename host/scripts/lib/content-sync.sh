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

# sync_tree NAME S3_PREFIX — records a change when the tree changed.
sync_tree() {
  local name=$1 prefix=$2 link="$PH_SRV/$1" releases="$PH_SRV/releases" staging hash target current=""
  if [[ -L $link ]]; then current=$(readlink -f "$link"); fi
  staging=$(mktemp -d "$releases/.staging-$name.XXXXXX") || die "cannot create a staging folder in $releases"
  if [[ -n $current && -d $current ]]; then
    cp -al "$current/." "$staging/" \
      || { rm -rf "$staging"; die "cannot hard-link $current into $staging (both must be on one file system); $link is unchanged"; }
  fi
  if ! aws_cli s3 sync --only-show-errors --delete "s3://$PH_BUCKET/$prefix" "$staging"; then
    rm -rf "$staging"
    die "cannot sync s3://$PH_BUCKET/$prefix"
  fi
  hash=$(tree_hash "$staging") || { rm -rf "$staging"; die "cannot hash $staging"; }
  target="$releases/$name-$hash"
  if [[ $current == "$target" ]]; then
    rm -rf "$staging"
    return 0
  fi
  if [[ -d $target ]]; then
    rm -rf "$staging"
  else
    mv "$staging" "$target" \
      || { rm -rf "$staging"; die "cannot move $staging to $target; $link still points to ${current:-nothing}. Check that $releases is writable and has space, then rerun"; }
  fi
  { chmod 0755 "$target" && find "$target" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +; } \
    || die "cannot make $target world-readable; $link still points to ${current:-nothing}"
  ln -sfn "$target" "$link.next" || die "cannot create the link $link.next; $link still points to ${current:-nothing}"
  mv -Tf "$link.next" "$link" || die "cannot replace $link with $link.next (-> $target); $link still points to ${current:-nothing}"
  changed "$link -> $(basename "$target")"
  prune_trees "$name" "$target" "$current"
}

# Keeps the new and the previous tree (open downloads), removes older ones.
prune_trees() {
  local name=$1 keep1=$2 keep2=$3 tree
  for tree in "$PH_SRV/releases/$name"-*; do
    if [[ -d $tree && $tree != "$keep1" && $tree != "$keep2" ]]; then
      rm -rf "$tree" || die "cannot remove the old tree $tree (the new one is in place)"
    fi
  done
}

# Records a change when the datasets or the public files changed. The datasets are
# published releases (release-sync.sh), not a folder of the bucket.
sync_content() {
  sync_release
  sync_tree public "$PH_PUBLIC_PREFIX"
}
