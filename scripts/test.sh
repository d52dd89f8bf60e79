#!/usr/bin/env bash
# npm test: the same set-up as `npm start` (packages, services, migrations, images, build), then unit
# and integration tests (vitest, against the real services) and browser tests (Playwright, Debian's
# Chromium). Services this run started are stopped at the end. Exits non-zero on any failure.
source "$(dirname "$0")/lib.sh"

prepare chromium
trap stop_started_now EXIT

build_next
prepare_database test TEST_DATABASE_URL
prepare_database open OPEN_DATABASE_URL
prepare_database supervise SUPERVISE_DATABASE_URL
build_image hello tryitnow/hello:latest
build_image hello-alt tryitnow/hello-alt:latest
# The WordPress example (e2e/demo-databases.spec.ts): Debian 12 made here with debootstrap, then the app's image.
build_wordpress

status=0
rm -rf "$DATA/test-results" && mkdir -p "$DATA/test-results"
step "unit and integration tests (vitest)"
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$DATA/test-results/vitest.json" || status=1
step "browser tests (Playwright, /usr/bin/chromium)"
node_modules/.bin/playwright test || status=1

# One closing line over both runners; a runner that produced no report counts as a failure.
summary="$(node scripts/test-summary.mjs "$DATA/test-results")" || status=1
echo "$summary"
if [ "$status" -eq 0 ]; then step "all tests passed"; else printf '\033[31mxx  some tests failed\033[0m\n'; fi
exit "$status"
