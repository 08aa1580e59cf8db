#!/usr/bin/env bash
# The local demo (what `make dev` runs after the build): the dev OpenID Provider, the echo origin
# and the Worker under `wrangler dev`, with local KV seeded from dev/kv/*.json.
#
#   scripts/dev.sh               run until Ctrl-C (logs stream to the terminal)
#   DEV_SMOKE=1 scripts/dev.sh   start everything, run a few checks, stop everything, exit 0/1
#
# Env (defaults in brackets): DEV_PORT [8787], OP_PORT [9000], ORIGIN_PORT [9100],
# GLOBEX_IDP_PORT [9400] (globex's own identity provider),
# DEV_STATE_DIR [.wrangler/state] (local KV persistence), DEV_READY_TIMEOUT [600] seconds for the
# Worker (wrangler dev runs the [build] command from wrangler.toml first, which can be slow cold),
# DEV_LOG_DIR [.wrangler/dev-logs].
#
# Every service runs in its own session (setsid) and is stopped by process group on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DEV_PORT=${DEV_PORT:-8787}
OP_PORT=${OP_PORT:-9000}
GLOBEX_IDP_PORT=${GLOBEX_IDP_PORT:-9400}
ORIGIN_PORT=${ORIGIN_PORT:-9100}
DEV_STATE_DIR=${DEV_STATE_DIR:-.wrangler/state}
DEV_LOG_DIR=${DEV_LOG_DIR:-.wrangler/dev-logs}
DEV_READY_TIMEOUT=${DEV_READY_TIMEOUT:-600}
DEV_SMOKE=${DEV_SMOKE:-}
OP_URL="http://127.0.0.1:${OP_PORT}"
GLOBEX_IDP_URL="http://127.0.0.1:${GLOBEX_IDP_PORT}"
ORIGIN_URL="http://127.0.0.1:${ORIGIN_PORT}"
WORKER_URL="http://127.0.0.1:${DEV_PORT}"
export WRANGLER_SEND_METRICS=false

log() { printf 'dev: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- process bookkeeping -------------------------------------------------------------------------
PIDS=()
NAMES=()
TAIL_PID=

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local i pid
  if [ -n "$TAIL_PID" ]; then kill "$TAIL_PID" 2>/dev/null || true; fi
  for i in "${!PIDS[@]}"; do
    pid=${PIDS[$i]}
    kill -0 "$pid" 2>/dev/null || kill -0 -- "-$pid" 2>/dev/null || continue
    log "stopping ${NAMES[$i]} (process group $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  # bounded wait (5 s) for each group, then SIGKILL whatever is left of it
  local deadline=$((SECONDS + 5))
  for i in "${!PIDS[@]}"; do
    pid=${PIDS[$i]}
    while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME LOGFILE CMD...: run CMD in a new session, output to LOGFILE, remember its PID (= PGID).
start() {
  local name=$1 logfile=$2
  shift 2
  : >"$logfile"
  setsid "$@" </dev/null >"$logfile" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
  log "started $name (pid $!): $*"
}

# wait_for_line NAME LOGFILE PATTERN TIMEOUT_S
wait_for_line() {
  local name=$1 logfile=$2 pattern=$3 timeout=$4 pid=${PIDS[-1]}
  local deadline=$((SECONDS + timeout))
  until grep -q -- "$pattern" "$logfile" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$logfile" >&2; die "$name exited before it was ready"; }
    ((SECONDS < deadline)) || { tail -n 40 "$logfile" >&2; die "$name not ready within ${timeout}s"; }
    sleep 0.2
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- preflight -----------------------------------------------------------------------------------
[ -x node_modules/.bin/wrangler ] || die "node_modules missing: run 'make setup-node' (or 'npm ci')"
for p in "$DEV_PORT" "$OP_PORT" "$ORIGIN_PORT" "$GLOBEX_IDP_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use (set DEV_PORT / OP_PORT / ORIGIN_PORT / GLOBEX_IDP_PORT)"
done
mkdir -p .wrangler "$DEV_LOG_DIR" "$DEV_STATE_DIR"

# --- secrets and local KV ------------------------------------------------------------------------
scripts/dev-vars.sh

node scripts/kv-bulk.mjs .wrangler/kv-bulk.json >/dev/null
# dev/kv/settings.json names the default ports; point it at the ones in use.
OP_URL="$OP_URL" ORIGIN_URL="$ORIGIN_URL" GLOBEX_IDP_URL="$GLOBEX_IDP_URL" node -e '
  const fs = require("fs");
  const file = ".wrangler/kv-bulk.json";
  const bulk = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const e of bulk) {
    if (e.key === "org:org_globex") {
      const o = JSON.parse(e.value);
      if (o.login && o.login.idp) o.login.idp.issuer = process.env.GLOBEX_IDP_URL;
      e.value = JSON.stringify(o);
    }
    if (e.key !== "settings") continue;
    const s = JSON.parse(e.value);
    for (const i of s.issuers) i.issuer = process.env.OP_URL;
    if (s.login) s.login.issuer = process.env.OP_URL;
    s.origin = process.env.ORIGIN_URL;
    e.value = JSON.stringify(s);
  }
  fs.writeFileSync(file, JSON.stringify(bulk));
'
npx wrangler kv bulk put .wrangler/kv-bulk.json --binding ORGS --local --persist-to "$DEV_STATE_DIR" \
  >"$DEV_LOG_DIR/kv.log" 2>&1 || { cat "$DEV_LOG_DIR/kv.log" >&2; die "seeding local KV failed"; }
log "seeded local KV ($(node -p 'JSON.parse(require("fs").readFileSync(".wrangler/kv-bulk.json")).length') entries) in $DEV_STATE_DIR"

# --- services ------------------------------------------------------------------------------------
start op "$DEV_LOG_DIR/op.log" node dev/op.mjs --port "$OP_PORT" --worker-port "$DEV_PORT"
wait_for_line op "$DEV_LOG_DIR/op.log" "OP ready" 30

start globex-idp "$DEV_LOG_DIR/globex-idp.log" node dev/op.mjs --flavor customer --port "$GLOBEX_IDP_PORT" --worker-port "$DEV_PORT"
wait_for_line globex-idp "$DEV_LOG_DIR/globex-idp.log" "OP ready" 30

start origin "$DEV_LOG_DIR/origin.log" node dev/origin.mjs --port "$ORIGIN_PORT"
wait_for_line origin "$DEV_LOG_DIR/origin.log" "origin ready" 30

start wrangler "$DEV_LOG_DIR/wrangler.log" npx wrangler dev --ip 127.0.0.1 --port "$DEV_PORT" \
  --persist-to "$DEV_STATE_DIR" --show-interactive-dev-session=false
WRANGLER_PID=${PIDS[-1]}

# Ready when the Worker answers anything for acme's host (wrangler builds first, then serves).
log "waiting for the Worker on $WORKER_URL (wrangler dev builds first; up to ${DEV_READY_TIMEOUT}s)"
deadline=$((SECONDS + DEV_READY_TIMEOUT))
until code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: acme.localhost:${DEV_PORT}" "$WORKER_URL/public/ready") \
  && [ "$code" != "000" ]; do
  kill -0 "$WRANGLER_PID" 2>/dev/null || { tail -n 60 "$DEV_LOG_DIR/wrangler.log" >&2; die "wrangler dev exited before it was ready"; }
  ((SECONDS < deadline)) || { tail -n 60 "$DEV_LOG_DIR/wrangler.log" >&2; die "Worker not ready within ${DEV_READY_TIMEOUT}s"; }
  sleep 0.5
done

cat <<INFO

orggate is running (Ctrl-C stops everything):
  http://acme.localhost:${DEV_PORT}/      Acme's portal (try /docs/, /api/reports/1, /public/x)
  http://globex.localhost:${DEV_PORT}/    Globex's portal (signs in through Globex's own IdP)
  http://localhost:${DEV_PORT}/           no org in the host: org picker / /o/acme/... path prefix
  http://acme.localhost:${DEV_PORT}/_orggate/admin   acme's admin page (sign in as alice)
  OpenID Provider   ${OP_URL}   (the tenant's IdP; discovery: ${OP_URL}/.well-known/openid-configuration)
  Globex's own IdP  ${GLOBEX_IDP_URL}   (no organizations; groups mapped by globex's claim rules)
  echo origin       ${ORIGIN_URL}   (what reached it: ${ORIGIN_URL}/_test/requests)

Demo users (password in parentheses):
  alice@acme.test  (alice-pass)  acme: read:reports write:reports read:docs admin
                                  -> acme reports read+write, acme docs, acme /admin/*
  bob@globex.test  (bob-pass)    globex: reports:view read:docs (bearer tokens from the tenant OP)

Globex signs in at its own IdP (password in parentheses); rights come from its groups:
  bob@globex.test  (bob-okta)    groups globex-staff          -> reports:view read:docs
  dana@globex.test (dana-okta)   groups globex-staff, eng-admins -> + admin, role editor
  frank@globex.test (frank-okta) email not verified            -> refused (globex admits verified globex.test only)
  mallory@evil.test (mallory-okta)                             -> refused (not a globex.test address)
  carol@both.test  (carol-pass)  acme: read:reports | globex: reports:view read:docs admin
                                  -> acme reports read-only (403 on write, no acme docs);
                                     globex reports, docs and /admin/*
  machine client   orggate-m2m / m2m-secret (client credentials, organization=org_acme)
                                  -> acme reports read as caller "client"; never /admin/users/*

Logs: ${DEV_LOG_DIR}/{op,globex-idp,origin,wrangler}.log
INFO

# --- smoke mode: a few checks against the live stack, then stop ----------------------------------
if [ -n "$DEV_SMOKE" ]; then
  failures=0
  pass() { log "ok   - $*"; }
  fail() { log "FAIL - $*"; failures=$((failures + 1)); }
  # hcurl HOST PATH [curl args...] -> prints "STATUS BODY"
  hcurl() {
    local host=$1 path=$2
    shift 2
    curl -s --max-time 10 -H "Host: ${host}:${DEV_PORT}" -w '\n%{http_code}' "$@" "$WORKER_URL$path"
  }
  status_of() { tail -n 1 <<<"$1"; }
  body_of() { sed '$d' <<<"$1"; }

  r=$(curl -s --max-time 10 -w '\n%{http_code}' "$OP_URL/.well-known/openid-configuration" || true)
  if [ "$(status_of "$r")" = 200 ] && grep -q "\"issuer\": *\"${OP_URL}\"" <<<"$(body_of "$r")"; then
    pass "OP discovery answers with issuer $OP_URL"
  else fail "OP discovery: $(head -c 300 <<<"$r")"; fi

  curl -s --max-time 5 -X DELETE "$ORIGIN_URL/_test/requests" >/dev/null || true
  r=$(hcurl acme.localhost /public/x -H 'x-orggate-org-id: spoofed' || true)
  if [ "$(status_of "$r")" = 200 ] && grep -q '"url": "/public/x"' <<<"$(body_of "$r")" \
    && curl -s --max-time 5 "$ORIGIN_URL/_test/requests" | grep -q '"url": "/public/x"' \
    && ! curl -s --max-time 5 "$ORIGIN_URL/_test/requests" | grep -q 'spoofed'; then
    pass "acme.localhost /public/x is forwarded to the origin (settings + org:org_acme read from local KV), spoofed header stripped"
  else fail "acme /public/x: $(head -c 300 <<<"$r")"; fi

  r=$(hcurl acme.localhost '/_orggate/login?return_to=/docs/' -H 'Accept: text/html' || true)
  if [ "$(status_of "$r")" = 200 ] && grep -q 'Acme Corporation' <<<"$(body_of "$r")"; then
    pass "acme login page is branded from acme's KV document"
  else fail "acme login page: $(head -c 300 <<<"$r")"; fi

  r=$(hcurl nope.localhost /x || true)
  if [ "$(status_of "$r")" = 404 ] && grep -q '"unknown_org"' <<<"$(body_of "$r")"; then
    pass "nope.localhost -> 404 unknown_org"
  else fail "nope.localhost: $(head -c 300 <<<"$r")"; fi

  r=$(hcurl acme.localhost /api/reports/1 -H 'Accept: application/json' -D - || true)
  if [ "$(status_of "$r")" = 401 ] && grep -qi '^www-authenticate: Bearer realm="orggate"' <<<"$r"; then
    pass "acme /api/reports/1 without a token -> 401 with a Bearer challenge"
  else fail "acme /api/reports/1 without a token: $(head -c 300 <<<"$r")"; fi

  # The whole chain: a client-credentials token from the OP, verified by the Worker against the
  # OP's JWKS, forwarded to the origin as caller "client".
  token=$(curl -s --max-time 10 -u orggate-m2m:m2m-secret -d grant_type=client_credentials -d organization=org_acme \
    "$OP_URL/token" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{process.stdout.write(JSON.parse(s).access_token||"")}catch{}})' || true)
  r=$(hcurl acme.localhost /api/reports/1 -H "Authorization: Bearer ${token}" || true)
  if [ -n "$token" ] && [ "$(status_of "$r")" = 200 ] && grep -q '"x-orggate-caller": "client"' <<<"$(body_of "$r")"; then
    pass "m2m token from the OP -> acme /api/reports/1 200, origin sees x-orggate-caller: client"
  else fail "m2m token on acme: token=${token:0:20}... $(head -c 300 <<<"$r")"; fi

  if ((failures)); then
    log "smoke: $failures check(s) failed; last wrangler output:"
    tail -n 30 "$DEV_LOG_DIR/wrangler.log" >&2
    exit 1
  fi
  log "smoke: all checks passed"
  exit 0
fi

# --- interactive: stream the logs until Ctrl-C or until a service dies ---------------------------
tail -n 0 -F "$DEV_LOG_DIR/op.log" "$DEV_LOG_DIR/origin.log" "$DEV_LOG_DIR/wrangler.log" &
TAIL_PID=$!
set +e
wait -n "${PIDS[@]}"
set -e
for i in "${!PIDS[@]}"; do
  kill -0 "${PIDS[$i]}" 2>/dev/null || log "${NAMES[$i]} exited; stopping the rest"
done
exit 1
