#!/usr/bin/env bash
# npm run example -- NAME: builds what examples/NAME needs (cached) and creates, or updates, the app NAME
# from examples/NAME/app.json — its settings exactly as the API takes them. Its seed, if it has one,
# is copied into the seeds folder (SEEDS_DIR). Services are started as for `npm start`; the running
# web and worker pick the app up within APP_SYNC_INTERVAL.
source "$(dirname "$0")/lib.sh"
name="${1:-}"
[ -n "$name" ] && [ -f "examples/$name/app.json" ] || fail "usage: npm run example -- NAME, NAME one of: $(cd examples && ls -d */ | tr -d / | while read -r d; do [ -f "$d/app.json" ] && printf '%s ' "$d"; done)"
prepare_stack
case "$name" in
  wordpress) build_wordpress ;;
  *) build_image "$name" "tryitnow/$name:latest" ;;
esac
if [ -f "examples/$name/seed.sql" ]; then
  mkdir -p "$TIN_SEEDS_DIR"
  cp "examples/$name/seed.sql" "$TIN_SEEDS_DIR/$name.sql"
  info "seed: $TIN_SEEDS_DIR/$name.sql"
fi
step "app $name"
node .next/tin-admin.mjs app "examples/$name/app.json"
info "visitors start it at $TIN_PUBLIC_URL/try/$name (the launch page), once its pool has warmed"
