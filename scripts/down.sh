#!/usr/bin/env bash
# npm run down: stops what the scripts started (their pid files in .data/run), nothing else.
source "$(dirname "$0")/lib.sh"

step "stopping what the scripts started"
stop_service web
stop_service worker
if [ -f "$RUN/redis-server.pid" ] && [ -x node_modules/.bin/tsx ] && docker info >/dev/null 2>&1; then
  # The pool's records go with our Redis: remove this deployment's instances too, so nothing is left behind.
  load_env
  ids="$(docker ps -aq --filter "label=tryitnow.deployment=$TIN_PREFIX")"
  if [ -n "$ids" ]; then info "removing $(echo "$ids" | wc -l) instance container(s)"; echo "$ids" | xargs docker rm -f >/dev/null; fi
fi
for service in caddy nats-server mariadbd redis-server dockerd; do stop_service "$service"; done
step "stopped"
