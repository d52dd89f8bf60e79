/**
 * Where a request's time goes (ARCHITECTURE.md, "HTTP API"): one web process on the fast path
 * under `node --cpu-prof`, each verb of bench/verbs.ts at concurrency 10 in turn, then its profile
 * summed by self time per function and per module. Not part of `npm run bench` (it measures no
 * rate); run it with `npm run profile` after a change to the request path, and read the table.
 * The profile stays in .data/profile/ for Chromium's DevTools.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import autocannon from "autocannon";
import { createRedis } from "../lib/store/redis";
import { assignedIds, BENCH_ENV, benchConfig, spawnLogged, waitFor } from "./common";

const APP = "bench";
const DIR = ".data/profile";
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 5);
const TOP = Number(process.env.PROFILE_TOP ?? 30);
const config = benchConfig();

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time per key over a V8 profile's samples, as percentages, largest first. */
function selfTime(profile: { nodes: ProfileNode[]; samples: number[] }, keyOf: (node: ProfileNode) => string) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    const key = keyOf(node);
    totals.set(key, (totals.get(key) ?? 0) + 1);
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => ({ key, pct: Math.round((count / profile.samples.length) * 1000) / 10 }));
}

/** A function's module: the package under node_modules, node's own internals, or the file. */
function moduleOf(url: string, name: string): string {
  if (!url) return `(${name || "native"})`;
  const inPackage = url.split("node_modules/").pop() ?? url;
  if (inPackage !== url)
    return inPackage
      .split("/")
      .slice(0, inPackage.startsWith("@") ? 2 : 1)
      .join("/");
  if (url.startsWith("node:")) return url;
  return url.split("/").slice(-2).join("/");
}

async function main() {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const web = spawnLogged("profile-web", process.execPath, ["--cpu-prof", `--cpu-prof-dir=${DIR}`, ".next/tin-server.mjs"]);
  const url = `http://127.0.0.1:${config.PORT}`;
  await waitFor("web", async () => (await fetch(`${url}/api/v1/pool/stats`)).status > 0);
  const redis = createRedis(config);
  const ids = await assignedIds(redis, config.VALKEY_PREFIX, APP, 60_000);
  let next = 1;
  const verbs = [
    { name: "get", method: "GET" as const, path: () => `/api/v1/demo/${ids[0]}` },
    { name: "stats", method: "GET" as const, path: () => "/api/v1/pool/stats" },
    { name: "extend", method: "POST" as const, path: () => `/api/v1/demo/${ids[0]}/extend`, body: '{"minutes":1}' },
    { name: "release", method: "DELETE" as const, path: () => `/api/v1/demo/${ids[next++]}` },
  ];
  for (const verb of verbs) {
    const result = await autocannon({
      url,
      connections: 10,
      duration: SECONDS,
      headers: { "content-type": "application/json", "x-api-key": BENCH_ENV.API_KEY },
      requests: [{ method: verb.method, body: verb.body, setupRequest: (request) => ({ ...request, path: verb.path() }) }],
    });
    console.log(`${verb.name}: ${Math.round(result.requests.total / SECONDS)} req/s, p99 ${result.latency.p99} ms`);
  }
  await web.stop();
  await assignedIds(redis, config.VALKEY_PREFIX, APP, 0).catch(() => undefined);
  redis.disconnect();
  const file = readdirSync(DIR).find((name) => name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile written in ${DIR}`);
  const profile = JSON.parse(readFileSync(`${DIR}/${file}`, "utf8"));
  const show = (title: string, rows: { key: string; pct: number }[]) =>
    console.log(
      `-- ${title}\n${rows
        .slice(0, TOP)
        .map((row) => `${row.pct.toFixed(1).padStart(5)} %  ${row.key}`)
        .join("\n")}`,
    );
  show(
    "self time by function",
    selfTime(
      profile,
      (node) =>
        `${node.callFrame.functionName || "(anonymous)"}  ${moduleOf(node.callFrame.url, node.callFrame.functionName)}:${node.callFrame.lineNumber + 1}`,
    ),
  );
  show(
    "self time by module",
    selfTime(profile, (node) => moduleOf(node.callFrame.url, node.callFrame.functionName)),
  );
  console.log(`profile: ${DIR}/${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
