#!/usr/bin/env bash
# npm run down: stops what the scripts started (their pid files in .data/run), nothing else.
source "$(dirname "$0")/lib.sh"

step "stopping what the scripts started"
stop_service web
stop_service worker
if [ -f "$RUN/redis-server.pid" ] && [ -x node_modules/.bin/tsx ]; then
  load_env
  remove_instances
fi
for service in caddy nats-server mariadbd redis-server dockerd; do stop_service "$service"; done
restore_listener_handover
step "stopped"
