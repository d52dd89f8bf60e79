/**
 * What one host holds (docs/production.md, "Sizing"): a real worker fills a pool of N idle
 * instances of the sample app, and the host's memory is measured before and after: the drop of
 * MemAvailable per instance (container, its containerd shim, Docker's and the kernel's share),
 * the container's own cgroup usage, the shim's RSS, and the product's own share (Caddy's RSS and
 * Redis's memory per instance). Baseline in the same run: N bare containers of the same image
 * (create + start, no limits, no route, no record), measured the same way.
 */
import { readdirSync, readFileSync } from "node:fs";
import Docker from "dockerode";
import { createApp } from "../lib/apps/create";
import { removeApp } from "../lib/apps/remove";
import { cliCaller } from "../lib/audit/model";
import { createContext } from "../lib/context";
import {
  benchConfig,
  containerMemory,
  report,
  type startBenchCaddy,
  startBenchProxy,
  startBenchWorker,
  waitDrained,
  waitFor,
} from "./common";

const IMAGE = "tryitnow/hello:latest";
const COUNT = Number(process.env.SIZING_INSTANCES ?? 50);
const SETTLE_MS = 10_000;
const config = benchConfig();
const ctx = createContext(config, "bench");
const docker = new Docker({ socketPath: config.DOCKER_SOCKET });
const BENCH = cliCaller("npm run bench");
const mb = (bytes: number) => Math.round((bytes / 1048576) * 100) / 100;

const memAvailable = () => Number(readFileSync("/proc/meminfo", "utf8").match(/MemAvailable:\s+(\d+)/)![1]) * 1024;
const rssOf = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) * 1024;

/** The containerd shims' RSS, by container id (a shim's command line names the container it runs). */
function shimRss(ids: string[]): number[] {
  const wanted = new Set(ids);
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (!argv[0]?.endsWith("containerd-shim-runc-v2")) continue;
      const id = argv[argv.indexOf("-id") + 1];
      if (wanted.has(id)) found.push(rssOf(Number(entry)));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const cgroupUsage = (id: string) => containerMemory(docker, id);

const redisUsed = async () => Number((await ctx.redis.info("memory")).match(/used_memory:(\d+)/)![1]);
const caddyPid = (caddy: ReturnType<typeof startBenchCaddy>) => caddy.child.pid!;

/** The host's memory a moment after a change, once Docker and the kernel have settled. */
async function settledAvailable(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const readings: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    readings.push(memAvailable());
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return readings.sort((a, b) => a - b)[2];
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);

async function measure(ids: string[]) {
  const usages = await Promise.all(ids.map(cgroupUsage));
  return { cgroup: mean(usages), shim: mean(shimRss(ids)) };
}

async function pooled(caddy: ReturnType<typeof startBenchCaddy>) {
  const worker = await startBenchWorker(ctx.redis, config.VALKEY_PREFIX);
  const before = await settledAvailable();
  const caddyBefore = rssOf(caddyPid(caddy));
  const redisBefore = await redisUsed();
  const slug = `sizing-${Date.now().toString(36)}`;
  await createApp(ctx, { slug, image: IMAGE, pool_target: COUNT, pool_min: 0, pool_max: COUNT }, BENCH);
  const keys = ctx.keys.app(slug);
  await waitFor(`${COUNT} ready`, async () => (await ctx.redis.llen(keys.ready)) >= COUNT, 300_000);
  const after = await settledAvailable();
  const containers = await docker.listContainers({ filters: { label: [`tryitnow.app=${slug}`] } });
  const parts = await measure(containers.map((c) => c.Id));
  const result = {
    host: (before - after) / COUNT,
    ...parts,
    caddy: (rssOf(caddyPid(caddy)) - caddyBefore) / COUNT,
    redis: ((await redisUsed()) - redisBefore) / COUNT,
    limitMb: config.CONTAINER_MEMORY_MB,
  };
  await removeApp(ctx, slug, BENCH);
  await waitDrained(docker, slug, 120_000);
  await worker.stop();
  return result;
}

async function bare() {
  const before = await settledAvailable();
  const ids: string[] = [];
  for (let i = 0; i < COUNT; i += 1) {
    const container = await docker.createContainer({ name: `tin-bench-sizing-${i}`, Image: IMAGE });
    await container.start();
    ids.push(container.id);
  }
  const after = await settledAvailable();
  const parts = await measure(ids);
  await Promise.all(ids.map((id) => docker.getContainer(id).remove({ force: true })));
  return { host: (before - after) / COUNT, ...parts };
}

async function main() {
  const caddy = await startBenchProxy(ctx);
  try {
    const ours = await pooled(caddy);
    const baseline = await bare();
    const rows = [
      {
        target: `pool of ${COUNT} idle instances (worker, routes, egress rules, limits)`,
        "host MB/instance": mb(ours.host),
        "container MB": mb(ours.cgroup),
        "shim MB": mb(ours.shim),
        "caddy MB/instance": mb(ours.caddy),
        "redis KB/instance": Math.round(ours.redis / 102.4) / 10,
        "instances/GB": Math.floor(1073741824 / ours.host),
      },
      {
        target: `baseline: ${COUNT} bare containers of the same image`,
        "host MB/instance": mb(baseline.host),
        "container MB": mb(baseline.cgroup),
        "shim MB": mb(baseline.shim),
        "caddy MB/instance": "-",
        "redis KB/instance": "-",
        "instances/GB": Math.floor(1073741824 / baseline.host),
      },
    ];
    report("sizing: memory per idle instance of the sample app", rows, {
      instances: COUNT,
      memoryLimitMb: ours.limitMb,
      ours: rows[0],
      baseline: rows[1],
    });
  } finally {
    await caddy.stop();
    await ctx.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
