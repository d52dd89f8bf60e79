#!/usr/bin/env bash
# npm run up: everything `npm start` does, detached; returns once /health answers. Idempotent.
source "$(dirname "$0")/lib.sh"

prepare_stack

if web_healthy && [ -f "$RUN/worker.pid" ] && kill -0 "$(cat "$RUN/worker.pid")" 2>/dev/null; then
  step "web and worker already running"
else
  step "starting worker and web"
  if ! { [ -f "$RUN/worker.pid" ] && kill -0 "$(cat "$RUN/worker.pid")" 2>/dev/null; }; then
    nohup node --import tsx worker/index.ts >>"$LOGS/worker.log" 2>&1 &
    mark_started worker $!
  fi
  if ! web_healthy; then
    NODE_ENV=production nohup node .next/tin-server.mjs >>"$LOGS/web.log" 2>&1 &
    mark_started web $!
  fi
  wait_for "web (/health)" 90 web_healthy
fi
step "ready"
info "API:     http://127.0.0.1:$TIN_PORT/api/v1   (health: http://127.0.0.1:$TIN_PORT/health)"
info "Try it:  $TIN_PUBLIC_URL/try/default"
info "Admin:   $TIN_PUBLIC_URL/admin   (first sign-in: .data/admin-password)"
info "logs:    $LOGS/web.log, $LOGS/worker.log     stop with: npm run down"
