# shellcheck shell=bash
# Secrets from SSM Parameter Store and the trust bundle from S3.
# Values are never printed: they go from the AWS CLI to a 0600 temp file to
# their place, and only names appear in the log.

# Why the AWS CLI could not read PARAMETER, and what to do, from its error output
# (which names the error code and never a value).
secret_error() {
  local parameter=$1 error_file=$2
  if grep -q 'ParameterNotFound' "$error_file"; then
    printf '%s' "SSM parameter $parameter does not exist; create it as a SecureString (docs/stack.md, \"Creating the secrets\"): aws ssm put-parameter --region $PH_REGION --name $parameter --type SecureString --value file://FILE (add --tier Advanced when FILE is over 4096 bytes); the host tries setup again by itself (provider-host-setup-retry.timer), or at once with: sudo provider-host-bootstrap setup"
  elif grep -Eq 'AccessDenied|KMS|not authorized' "$error_file"; then
    printf '%s' "the instance role may not read SSM parameter $parameter ($(grep -Eo '\((AccessDenied[A-Za-z]*|KMS[A-Za-z]*)\)' "$error_file" | head -n 1)); it needs ssm:GetParameter on it and kms:Decrypt on its key (secrets.kmsKeyArn) - deploy again after changing either"
  else
    printf '%s' "cannot read SSM parameter $parameter: $(grep -m 1 . "$error_file" || echo 'no error output')"
  fi
}

# fetch_secret PARAMETER DEST LABEL NAME — LABEL is the PEM label (an extended
# regular expression) it must hold, whole: a truncated value has no END line.
# NAME says what it is in messages. Records a change when DEST was rewritten.
fetch_secret() {
  local parameter=$1 dest=$2 kind=$3 what=$4 tmp errors begins ends
  tmp=$(mktemp "$PH_SECRETS_DIR/.fetch.XXXXXX") || die "cannot create a temporary file in $PH_SECRETS_DIR"
  errors=$(mktemp "$PH_SECRETS_DIR/.errors.XXXXXX") || die "cannot create a temporary file in $PH_SECRETS_DIR"
  if ! aws_cli ssm get-parameter --name "$parameter" --with-decryption \
    --query Parameter.Value --output text >"$tmp" 2>"$errors"; then
    rm -f "$tmp"
    local reason
    reason=$(secret_error "$parameter" "$errors")
    rm -f "$errors"
    die "$reason"
  fi
  rm -f "$errors"
  begins=$(grep -Ec -- "^-----BEGIN $kind-----" "$tmp" || true)
  ends=$(grep -Ec -- "^-----END $kind-----" "$tmp" || true)
  if ((begins == 0 || begins != ends)); then
    rm -f "$tmp"
    die "SSM parameter $parameter does not hold a complete PEM $what ($begins BEGIN, $ends END line(s)): put the whole PEM file (a chain over 4096 bytes needs --tier Advanced)"
  fi
  install_content "$dest" 0600 "$PH_USER:$PH_GROUP" <"$tmp"
  rm -f "$tmp"
}

# Records a change when a secret changed (the app must reload to use it).
fetch_secrets() {
  fetch_secret "$PH_TLS_CERT_PARAM" "$PH_SECRETS_DIR/transport.crt" 'CERTIFICATE' certificate
  # [ ]: no file of the bundle spells the private-key marker (its scans look for it).
  fetch_secret "$PH_TLS_KEY_PARAM" "$PH_SECRETS_DIR/transport.key" '([A-Z]+ )?PRIVATE[ ]KEY' 'private key'
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
