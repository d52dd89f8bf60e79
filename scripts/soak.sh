#!/usr/bin/env bash
# npm run soak: the product over time (bench/soak.ts; README, "Soak"): churn under SIGKILLs for
# SOAK_CHURN_MINUTES (10) with SOAK_KILLS (50), then SOAK_STEADY_MINUTES (30) of steady load,
# sampled every 10 s. Prints the slopes, saves .data/soak/soak.png; exits 1 when something leaked,
# went twice, or grows without bound. On its own Caddy, ports, Redis prefix and database.
source "$(dirname "$0")/lib.sh"

prepare chromium
trap stop_started_now EXIT
build_next
prepare_database supervise SUPERVISE_DATABASE_URL
build_image hello tryitnow/hello:latest
step "soak: churn ${SOAK_CHURN_MINUTES:-10} min with ${SOAK_KILLS:-50} kills, then ${SOAK_STEADY_MINUTES:-30} min of steady load"
node --import tsx bench/soak.ts
