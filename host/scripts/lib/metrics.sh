# shellcheck shell=bash
# Operations on the host (docs/operations.md): what leaves the host for CloudWatch.
#
# publish_metrics          computes the host's metrics (host-render metrics-data: the
#                          certificate's days left, the last renewal's result, the CRLs'
#                          hours left and last refresh, PM2 restarts since the last run,
#                          the data release's age) and sends them with one
#                          `aws cloudwatch put-metric-data`; run by provider-host-metrics.timer
#                          every 5 minutes (host/scripts/publish-metrics.sh).
# record_renewal_result    the renewal service's ExecStopPost (certbot-renew-result.sh):
#                          how the last `certbot renew` ended, for CertificateRenewalFailed.
# install_host_logs        the folder log() (common.sh) appends the scripts' lines to, and
#                          its rotation.
# install_cloudwatch_agent renders the agent's configuration on the host (host-render
#                          cloudwatch-agent-config: this host's log paths, the environment's
#                          log groups), lets the agent's user read those logs, and loads the
#                          configuration when it changed or the agent is not running. Where
#                          the agent is not installed (the replica, tests) it says so and
#                          goes on.
# Nothing here is on the data path: a failure is logged and never stops nginx or the app.

# The namespace of the host's metrics (HOST_METRICS_NAMESPACE in
# host/cloudwatch-agent/host-metrics.ts; host/test/metrics.test.ts checks they agree).
PH_METRICS_NAMESPACE=ProviderHost
# Bound of each outside call (pm2 jlist, put-metric-data, the agent's control script).
PH_METRICS_TIMEOUT_SECONDS=${PH_METRICS_TIMEOUT_SECONDS:-60}

# The PID of the app user's PM2 daemon, when it runs. `pm2 jlist` without a daemon would
# start one (outside pm2-<user>.service): it is asked only when this succeeds.
pm2_daemon_pid() {
  local pid
  [[ -s $PH_PM2_HOME/pm2.pid ]] || return 1
  pid=$(<"$PH_PM2_HOME/pm2.pid")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

publish_metrics() {
  local dir=$PH_STATE/metrics lock pid="" jlist="" summary
  if [[ -z ${PH_ENVIRONMENT:-} ]]; then
    log "no metrics published: PH_ENVIRONMENT is empty (a host config older than operations; deploy the stack again)"
    return 0
  fi
  ensure_dir "$dir" 0700 root:root
  exec {lock}>"$dir/lock"
  if ! flock -n "$lock"; then
    log "another run holds $dir/lock: this one publishes nothing"
    return 0
  fi
  rm -f "$dir/jlist.json" "$dir/metric-data.json" "$dir/restarts.next"
  if pid=$(pm2_daemon_pid); then
    # Read and removed here (0700, root): the list carries the app's environment.
    if as_app_user timeout "$PH_METRICS_TIMEOUT_SECONDS" "$PH_PM2" jlist >"$dir/jlist.json" 2>"$dir/jlist.err"; then
      jlist=$dir/jlist.json
    else
      log "WARNING: pm2 jlist failed ($(head -c 300 "$dir/jlist.err" | tr '\n' ' ')): AppRestarts is left out"
      pid=""
    fi
  fi
  summary=$(host_render metrics-data "out=$dir/metric-data.json" "restarts_state=$dir/restarts.json" "restarts_next=$dir/restarts.next" \
    "certificate=$PH_LE_LIVE/fullchain.pem" "renewal=$PH_STATE/renewal-result" "crl=$PH_REVOCATION_DIR/status.json" \
    "release=$PH_STATE/release" "app=$PH_APP_NAME" "jlist=$jlist" "pm2_pid=$pid") \
    || { rm -f "$dir/jlist.json"; die "cannot compute the metrics (above)"; }
  rm -f "$dir/jlist.json"
  if ! timeout "$PH_METRICS_TIMEOUT_SECONDS" "$PH_AWS" --region "$PH_REGION" cloudwatch put-metric-data \
    --namespace "$PH_METRICS_NAMESPACE" --metric-data "file://$dir/metric-data.json" >/dev/null 2>"$dir/put.err"; then
    # The restarts baseline stays: the next run counts these restarts again.
    die "cannot put the metrics into CloudWatch ($PH_METRICS_NAMESPACE, $PH_REGION): $(head -c 300 "$dir/put.err" | tr '\n' ' ')"
  fi
  if [[ -f $dir/restarts.next ]]; then mv -f "$dir/restarts.next" "$dir/restarts.json"; fi
  log "published to $PH_METRICS_NAMESPACE (Environment=$PH_ENVIRONMENT): $summary"
}

# record_renewal_result SERVICE_RESULT [EXIT_CODE] [EXIT_STATUS] — what systemd says about
# the renewal run that just ended (success, exit-code, timeout, signal, ...), kept in
# $PH_STATE/renewal-result ("<result> <time> <code>/<status>") for the metrics.
record_renewal_result() {
  local result=$1 detail="${2:-}/${3:-}" file=$PH_STATE/renewal-result
  [[ $result =~ ^[a-z-]+$ ]] || result=unknown
  [[ $detail =~ ^[A-Za-z0-9/-]*$ ]] || detail=unknown
  { printf '%s %s %s\n' "$result" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$detail" >"$file.next" && mv -f "$file.next" "$file"; } \
    || die "cannot write $file"
  if [[ $result == success ]]; then
    log "renewal run ended: success (certificates renewed when due)"
  else
    log "ERROR: the certificate renewal failed ($result, $detail): see $PH_LE_LOGS_DIR/letsencrypt.log and journalctl -u provider-certbot-renew.service"
  fi
}

# The scripts' own log files (log() in common.sh) and their rotation. Records a change when
# it created the folder or wrote the rotation file.
install_host_logs() {
  ensure_dir "$PH_HOST_LOG_DIR" 0750 root:root
  ensure_dir "$PH_LOGROTATE_DIR" 0755 root:root
  host_render template "$PH_CURRENT/host/logrotate/provider-host-scripts.tmpl" "log_dir=$PH_HOST_LOG_DIR" \
    >"$PH_STATE/logrotate-host-scripts.rendered" || die "cannot render the host logs' rotation (above)"
  install_file "$PH_STATE/logrotate-host-scripts.rendered" "$PH_LOGROTATE_DIR/provider-host-scripts" 0644 root:root
}

# The timer that publishes the metrics. Records a change when a unit changed or the timer
# was enabled.
install_metrics_timer() {
  ensure_dir "$PH_SYSTEMD_DIR" 0755 root:root
  host_render template "$PH_CURRENT/host/systemd/provider-host-metrics.service.tmpl" \
    "ph_etc=$PH_ETC" "script=$PH_PREFIX/current/host/scripts/publish-metrics.sh" \
    >"$PH_STATE/metrics.service.rendered" || die "cannot render the metrics service (above)"
  install_timer provider-host-metrics metrics "$PH_STATE/metrics.service.rendered" \
    "the certificate, CRL and restart alarms would see no data"
}

# acl_grant PATH PERMS [default] [USER] — lets USER (default: the agent's user) PERMS (r--, r-x, --x) on PATH and,
# with "default", read the files created in it later (a default ACL: new nginx, certbot and
# script logs, and logrotate's new files). Records a change when it changed an ACL; a
# failure is a warning (the data path does not depend on it).
acl_grant() {
  local path=$1 perms=$2 default=${3:-} acl user=${4:-$PH_CWAGENT_USER}
  [[ -e $path ]] || return 0
  acl=$(getfacl --omit-header --absolute-names "$path" 2>/dev/null) || { log "WARNING: cannot read the ACL of $path (getfacl)"; return 0; }
  # An entry the mask cuts down is printed with "#effective:": set again, which recomputes the mask.
  if ! grep -qx "user:$user:$perms" <<<"$acl"; then
    if setfacl -m "u:$user:$perms" "$path"; then
      changed "$path: $user may ${perms} (ACL)"
    else
      log "WARNING: cannot let $user read $path (setfacl; does the file system support ACLs?)"
    fi
  fi
  if [[ $default == default ]] && ! grep -qx "default:user:$user:r--" <<<"$acl"; then
    if setfacl -d -m "u:$user:r" "$path"; then
      changed "$path/: new files readable by $user (default ACL)"
    else
      log "WARNING: cannot give $path a default ACL for $user (setfacl)"
    fi
  fi
  return 0
}

# The agent runs as $PH_CWAGENT_USER, not root: it must read every file it ships. ACLs
# grant exactly that, whoever owns the files: nginx's logs are nginx:root 0640 in a 0711
# folder on AL2023 (no group would help short of root), certbot's folder is root's 0700,
# the app's logs sit in its 0750 home. Without setfacl (package acl) only group
# membership is left: the app's group covers the PM2 logs; the rest is not shipped.
grant_agent_read() {
  local file
  if ! command -v setfacl >/dev/null 2>&1 || ! command -v getfacl >/dev/null 2>&1; then
    log "WARNING: setfacl not found (package acl): $PH_CWAGENT_USER reads the app's logs through the group $PH_GROUP; nginx's, certbot's and the host scripts' logs are not shipped"
    if ! id -nG "$PH_CWAGENT_USER" | tr ' ' '\n' | grep -qx "$PH_GROUP"; then
      usermod -a -G "$PH_GROUP" "$PH_CWAGENT_USER" || { log "WARNING: cannot add $PH_CWAGENT_USER to the group $PH_GROUP (usermod)"; return 0; }
      changed "user $PH_CWAGENT_USER: in group $PH_GROUP (reads the app's logs)"
    fi
    return 0
  fi
  acl_grant "$PH_USER_HOME" --x
  acl_grant "$PH_PM2_HOME" --x
  acl_grant "$PH_PM2_HOME/logs" r-x default
  acl_grant "$PH_NGINX_LOG_DIR" r-x default
  acl_grant "$PH_LE_LOGS_DIR" r-x default
  acl_grant "$PH_HOST_LOG_DIR" r-x default
  for file in "$PH_NGINX_LOG_DIR/access.json.log" "$PH_NGINX_LOG_DIR/error.log" "$PH_PM2_HOME/logs/$PH_APP_NAME"-*.log \
    "$PH_LE_LOGS_DIR/letsencrypt.log" "$PH_HOST_LOG_DIR"/*.log "$PH_CLOUD_INIT_LOG"; do
    [[ -f $file ]] && acl_grant "$file" r--
  done
  return 0
}

cwagent_running() {
  timeout "$PH_METRICS_TIMEOUT_SECONDS" "$1" -a status 2>/dev/null | grep -q '"status": *"running"'
}

# Records a change when it created the logs folder or wrote a file, changed an ACL, or
# (re)loaded the agent.
install_cloudwatch_agent() {
  local ctl rendered=$PH_STATE/cloudwatch-agent.json.rendered config_changed=0
  install_host_logs
  if ! ctl=$(command -v "$PH_CWAGENT_CTL"); then
    log "no CloudWatch agent here ($PH_CWAGENT_CTL not found): logs and memory/disk metrics are not shipped"
    return 0
  fi
  if [[ -z ${PH_ENVIRONMENT:-} ]]; then
    log "the CloudWatch agent is not configured: PH_ENVIRONMENT is empty (a host config older than operations; deploy the stack again)"
    return 0
  fi
  if ! id -u "$PH_CWAGENT_USER" >/dev/null 2>&1; then
    log "WARNING: the CloudWatch agent's user $PH_CWAGENT_USER does not exist (reinstall amazon-cloudwatch-agent): logs are not shipped"
    return 0
  fi
  grant_agent_read
  host_render cloudwatch-agent-config "nginx_log_dir=$PH_NGINX_LOG_DIR" "pm2_log_dir=$PH_PM2_HOME/logs" "app=$PH_APP_NAME" \
    "host_log_dir=$PH_HOST_LOG_DIR" "cloud_init_log=$PH_CLOUD_INIT_LOG" "le_logs_dir=$PH_LE_LOGS_DIR" \
    >"$rendered" || die "cannot render the CloudWatch agent's configuration (above)"
  track config_changed install_file "$rendered" "$PH_CWAGENT_CONFIG" 0644 root:root
  if ((config_changed == 0)) && cwagent_running "$ctl"; then return 0; fi
  # fetch-config validates the file, translates it for the agent and (-s) restarts it.
  if timeout "$PH_METRICS_TIMEOUT_SECONDS" "$ctl" -a fetch-config -m ec2 -s -c "file:$PH_CWAGENT_CONFIG" >"$PH_STATE/cloudwatch-agent.out" 2>&1; then
    changed "CloudWatch agent: $PH_CWAGENT_CONFIG loaded, agent (re)started"
  else
    log "WARNING: the CloudWatch agent did not take $PH_CWAGENT_CONFIG ($(tail -c 600 "$PH_STATE/cloudwatch-agent.out" | tr '\n' ' ')); logs and memory/disk metrics are not shipped until a later setup or update loads it"
  fi
}
