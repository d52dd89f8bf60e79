#!/usr/bin/env bash
# npm start: install what is missing, start the services that are not running, migrate, build the
# sample image and the web app, then run the supervisor in the foreground: WEB_PROCESSES web
# processes and WORKER_PROCESSES workers, each started again when it exits (ARCHITECTURE.md,
# "Supervision"). A process given up on stops everything: exit 1. Ctrl-C stops what it started and
# keeps the running demos, as `npm run down` does.
source "$(dirname "$0")/lib.sh"

prepare_stack

web_healthy && fail "something already answers on port $TIN_PORT (npm run down, or set PORT)"
step "starting $TIN_WEB_PROCESSES web and $TIN_WORKER_PROCESSES worker process(es), supervised (Ctrl-C stops them and the services started here)"
node --import tsx scripts/supervise.ts --exit-on-give-up &
SUPERVISOR=$!
STATUS=0

cleanup() {
  # A second Ctrl-C, or npm's own SIGTERM to its script, must not cut the clean-up short.
  trap '' INT TERM
  trap - EXIT
  step "stopping"
  kill -TERM "$SUPERVISOR" 2>/dev/null || true
  wait "$SUPERVISOR" 2>/dev/null || STATUS=$?
  stop_started_now
  exit "$STATUS"
}
trap cleanup INT TERM EXIT

until web_healthy; do
  kill -0 "$SUPERVISOR" 2>/dev/null || { STATUS=1; fail "the supervisor stopped before the web answered (see the lines above)"; }
  [ "$SECONDS" -lt 600 ] || { STATUS=1; fail "web (/health) did not come up"; }
  sleep 0.2
done
step "ready"
info "API:     http://127.0.0.1:$TIN_PORT/api/v1"
info "Try it:  $TIN_PUBLIC_URL/try/default"
info "Admin:   $TIN_PUBLIC_URL/admin   (first sign-in: .data/admin-password)"
wait "$SUPERVISOR" || STATUS=$?
[ "$STATUS" -eq 0 ] || warn "the supervisor gave up on a process (see the lines above): exit $STATUS"
