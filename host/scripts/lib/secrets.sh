# shellcheck shell=bash
# Secrets from SSM Parameter Store and the trust bundle from S3.
# Values are never printed: they go from the AWS CLI to a 0600 temp file to
# their place, and only names appear in the log.

# fetch_secret PARAMETER DEST — returns 1 when DEST was already up to date.
fetch_secret() {
  local parameter=$1 dest=$2 tmp
  tmp=$(mktemp "$PH_SECRETS_DIR/.fetch.XXXXXX")
  if ! aws_cli ssm get-parameter --name "$parameter" --with-decryption \
    --query Parameter.Value --output text >"$tmp"; then
    rm -f "$tmp"
    die "cannot read SSM parameter $parameter (the instance role needs ssm:GetParameter and kms:Decrypt on it)"
  fi
  local status=0
  install_content "$dest" 0600 "$PH_USER:$PH_GROUP" <"$tmp" || status=1
  rm -f "$tmp"
  return "$status"
}

# Returns 0 when a secret changed (the app must reload to use it).
fetch_secrets() {
  local changed_any=1
  fetch_secret "$PH_TLS_CERT_PARAM" "$PH_SECRETS_DIR/transport.crt" && changed_any=0
  fetch_secret "$PH_TLS_KEY_PARAM" "$PH_SECRETS_DIR/transport.key" && changed_any=0
  grep -q -- '-----BEGIN CERTIFICATE-----' "$PH_SECRETS_DIR/transport.crt" \
    || die "SSM parameter $PH_TLS_CERT_PARAM does not hold a PEM certificate"
  grep -q -- '-----BEGIN .*PRIVATE[ ]KEY-----' "$PH_SECRETS_DIR/transport.key" \
    || die "SSM parameter $PH_TLS_KEY_PARAM does not hold a PEM private key"
  return "$changed_any"
}

# Returns 0 when the bundle changed (nginx must reload to trust it).
fetch_trust_bundle() {
  local tmp
  tmp=$(mktemp "$PH_ETC/.trust-bundle.XXXXXX")
  if ! aws_cli s3 cp --only-show-errors "s3://$PH_BUCKET/$PH_TRUST_BUNDLE_KEY" "$tmp"; then
    rm -f "$tmp"
    die "cannot download the client-CA trust bundle s3://$PH_BUCKET/$PH_TRUST_BUNDLE_KEY"
  fi
  grep -q -- '-----BEGIN CERTIFICATE-----' "$tmp" || { rm -f "$tmp"; die "s3://$PH_BUCKET/$PH_TRUST_BUNDLE_KEY is not a PEM CA bundle"; }
  local status=0
  install_content "$PH_TRUST_BUNDLE" 0644 root:root <"$tmp" || status=1
  rm -f "$tmp"
  return "$status"
}
