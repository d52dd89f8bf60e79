#!/usr/bin/env bash
# npm run bench: the benchmarks of bench/, each printing a table, a JSON line and its baseline.
# npm run profile: bench/profile.ts only.
# They run against their own Caddy, web port, Redis prefix and database, beside anything else.
source "$(dirname "$0")/lib.sh"

prepare chromium
trap stop_started_now EXIT
build_next
prepare_database bench BENCH_DATABASE_URL
build_image hello tryitnow/hello:latest

# npm run profile: where one web process's time goes under each verb (bench/profile.ts), no rates.
if [ "${1:-}" = "--profile" ]; then
  step "profile: one web process under node --cpu-prof, each verb at c10"
  node --import tsx bench/profile.ts
  exit
fi

step "bench: acquire hot path (autocannon; floor = bare node server, same script, same Redis)"
node --import tsx bench/acquire.ts
step "bench: every other API verb (get, unknown id, extend, stats, release; web fast path, web through Next.js, floor = bare node + same lib calls)"
node --import tsx bench/verbs.ts
step "bench: status streams on one web process (100, 2,000 and 10,000; RSS, Redis commands/s, expired to every stream)"
# 10,000 streams are 10,000 sockets on each side: as many descriptors as the machine allows.
(ulimit -n "$(ulimit -Hn)" && node --import tsx bench/streams.ts)
step "bench: drain protection (the proof-of-work gate and the drain caps against the plain acquire; challenges per second)"
node --import tsx bench/gate.ts
step "bench: cold start and refill (real containers)"
node --import tsx bench/provisioning.ts
step "bench: demo databases (WordPress: seed into its template, clone per instance in the server vs a dump piped, cold start against the image by hand)"
build_wordpress
node --import tsx bench/databases.ts
step "bench: what one host holds (memory per idle instance of the sample app against bare containers)"
node --import tsx bench/sizing.ts
step "bench: the embed, click to demo (Chromium through Caddy)"
node --import tsx bench/embed.ts
step "bench: funnel events (ingest into MariaDB vs plain INSERTs; the beacon endpoint vs a bare server)"
node --import tsx bench/events.ts
