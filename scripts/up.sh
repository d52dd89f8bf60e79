#!/usr/bin/env bash
# npm run up: everything `npm start` does, detached: the supervisor runs in the background (its own
# log in .data/logs/supervisor.log, the processes' in web.log and worker.log) and starts again any
# process that exits; returns once /health answers. Idempotent.
source "$(dirname "$0")/lib.sh"

prepare_stack

if [ -f "$RUN/supervisor.pid" ] && kill -0 "$(cat "$RUN/supervisor.pid")" 2>/dev/null; then
  step "the supervisor already runs (pid $(cat "$RUN/supervisor.pid"))"
else
  web_healthy && fail "something already answers on port $TIN_PORT (npm run down, or set PORT)"
  step "starting $TIN_WEB_PROCESSES web and $TIN_WORKER_PROCESSES worker process(es), supervised"
  nohup node --import tsx scripts/supervise.ts --logs "$LOGS" >>"$LOGS/supervisor.log" 2>&1 &
  mark_started supervisor $!
fi
deadline=$((SECONDS + 120))
until web_healthy; do
  kill -0 "$(cat "$RUN/supervisor.pid")" 2>/dev/null || fail "the supervisor stopped (see $LOGS/supervisor.log)"
  [ "$SECONDS" -lt "$deadline" ] || fail "web (/health) did not come up within 120s (logs: $LOGS)"
  sleep 0.2
done
step "ready"
info "API:     http://127.0.0.1:$TIN_PORT/api/v1   (health: http://127.0.0.1:$TIN_PORT/health)"
info "Try it:  $TIN_PUBLIC_URL/try/default"
info "Admin:   $TIN_PUBLIC_URL/admin   (first sign-in: .data/admin-password)"
info "logs:    $LOGS/web.log, $LOGS/worker.log, $LOGS/supervisor.log     stop with: npm run down"
