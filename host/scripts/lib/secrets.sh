# shellcheck shell=bash
# Secrets from SSM Parameter Store and the trust bundle from S3.
# Values are never printed: they go from the AWS CLI to a 0600 temp file to
# their place, and only names appear in the log.

# fetch_secret PARAMETER DEST — records a change when DEST was rewritten.
fetch_secret() {
  local parameter=$1 dest=$2 tmp
  tmp=$(mktemp "$PH_SECRETS_DIR/.fetch.XXXXXX") || die "cannot create a temporary file in $PH_SECRETS_DIR"
  if ! aws_cli ssm get-parameter --name "$parameter" --with-decryption \
    --query Parameter.Value --output text >"$tmp"; then
    rm -f "$tmp"
    die "cannot read SSM parameter $parameter (the instance role needs ssm:GetParameter and kms:Decrypt on it)"
  fi
  install_content "$dest" 0600 "$PH_USER:$PH_GROUP" <"$tmp"
  rm -f "$tmp"
}

# Records a change when a secret changed (the app must reload to use it).
fetch_secrets() {
  fetch_secret "$PH_TLS_CERT_PARAM" "$PH_SECRETS_DIR/transport.crt"
  fetch_secret "$PH_TLS_KEY_PARAM" "$PH_SECRETS_DIR/transport.key"
  grep -q -- '-----BEGIN CERTIFICATE-----' "$PH_SECRETS_DIR/transport.crt" \
    || die "SSM parameter $PH_TLS_CERT_PARAM does not hold a PEM certificate"
  grep -q -- '-----BEGIN .*PRIVATE[ ]KEY-----' "$PH_SECRETS_DIR/transport.key" \
    || die "SSM parameter $PH_TLS_KEY_PARAM does not hold a PEM private key"
}

# Records a change when the bundle changed (nginx must reload to trust it).
fetch_trust_bundle() {
  local tmp
  tmp=$(mktemp "$PH_ETC/.trust-bundle.XXXXXX") || die "cannot create a temporary file in $PH_ETC"
  if ! aws_cli s3 cp --only-show-errors "s3://$PH_BUCKET/$PH_TRUST_BUNDLE_KEY" "$tmp"; then
    rm -f "$tmp"
    die "cannot download the client-CA trust bundle s3://$PH_BUCKET/$PH_TRUST_BUNDLE_KEY"
  fi
  grep -q -- '-----BEGIN CERTIFICATE-----' "$tmp" || { rm -f "$tmp"; die "s3://$PH_BUCKET/$PH_TRUST_BUNDLE_KEY is not a PEM CA bundle"; }
  install_content "$PH_TRUST_BUNDLE" 0644 root:root <"$tmp"
  rm -f "$tmp"
}
