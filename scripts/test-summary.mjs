// Prints "tests: N passed, N failed, N skipped" over the vitest and Playwright JSON reports.
// Exits 1 when a report is missing or nothing ran, so an empty run can never pass.
import { readFileSync } from "node:fs";

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
let ok = true;
try {
  const vitest = JSON.parse(readFileSync(`${dir}/vitest.json`, "utf8"));
  passed += vitest.numPassedTests;
  // A file that fails before its tests run (an import error, a failing hook) has no failed test of
  // its own: count such files, and not the files whose failures are already counted as tests.
  const brokenFiles = (vitest.testResults ?? []).filter(
    (file) => file.status === "failed" && !(file.assertionResults ?? []).some((test) => test.status === "failed"),
  ).length;
  failed += vitest.numFailedTests + brokenFiles;
  skipped += vitest.numPendingTests + vitest.numTodoTests;
} catch {
  console.error("no vitest report");
  ok = false;
}
try {
  const playwright = JSON.parse(readFileSync(`${dir}/playwright.json`, "utf8"));
  passed += playwright.stats.expected + playwright.stats.flaky;
  failed += playwright.stats.unexpected + (playwright.errors?.length ?? 0);
  skipped += playwright.stats.skipped;
} catch {
  console.error("no playwright report");
  ok = false;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(ok && passed > 0 && failed === 0 ? 0 : 1);
