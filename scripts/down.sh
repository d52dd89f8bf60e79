#!/usr/bin/env bash
# npm run down: stops what the scripts started (their pid files in .data/run), nothing else: the
# supervisor first, which stops its web and worker processes. The demos stay: their containers keep
# running (dockerd's live-restore), their records are in Redis's append-only file, so the next
# `npm run up` resumes them (ARCHITECTURE.md, "Restarts").
# npm run down -- --purge: first removes every instance of this deployment (containers, routes,
# egress rules, records), starting a stopped Docker daemon or Redis for it; fails naming what is left.
source "$(dirname "$0")/lib.sh"

PURGE=""
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    *) fail "unknown option $arg (only --purge)" ;;
  esac
done

step "stopping what the scripts started${PURGE:+, after removing every instance}"
stop_processes
if [ -n "$PURGE" ]; then
  load_env
  purge_instances
elif docker info >/dev/null 2>&1; then
  load_env
  count="$(instance_containers | wc -l)"
  if [ "$count" -gt 0 ]; then info "keeping $count instance(s) running (demos and the warm pool): npm run up resumes them (npm run down -- --purge removes them)"; fi
fi
for service in caddy nats-server demo-db mariadbd redis-server dockerd; do stop_service "$service"; done
restore_listener_handover
step "stopped"
