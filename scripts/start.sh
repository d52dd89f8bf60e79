#!/usr/bin/env bash
# npm start: install what is missing, start the services that are not running, migrate, build the
# sample image and the web app, then run web and worker in the foreground. Ctrl-C stops what it
# started and keeps the running demos, as `npm run down` does.
source "$(dirname "$0")/lib.sh"

prepare_stack

web_healthy && fail "something already answers on port $TIN_PORT (npm run down, or set PORT)"
step "starting worker and web (Ctrl-C stops them and the services started here)"
node --import tsx worker/index.ts &
WORKER=$!
NODE_ENV=production node .next/tin-server.mjs &
WEB=$!

cleanup() {
  trap - INT TERM EXIT
  step "stopping"
  kill -TERM "$WEB" "$WORKER" 2>/dev/null || true
  wait "$WEB" "$WORKER" 2>/dev/null || true
  stop_started_now
}
trap cleanup INT TERM EXIT

wait_for "web (/health)" 90 web_healthy
step "ready"
info "API:     http://127.0.0.1:$TIN_PORT/api/v1"
info "Try it:  $TIN_PUBLIC_URL/try/default"
info "Admin:   $TIN_PUBLIC_URL/admin   (first sign-in: .data/admin-password)"
wait -n "$WEB" "$WORKER" || true
