/**
 * Provisioning benchmarks with real containers of the sample app:
 * - cold start: one instance create → healthy → routed (the provision verb), p50/p95 over 20,
 *   with the egress rules in place and without them (EGRESS_RULES=off), interleaved, against a
 *   baseline in the same run: a bare dockerode create + start + first healthy GET.
 * - refill: a pool of 20 from empty to full by a real worker process, instances per second, with
 *   the rules and without, against a baseline: 20 bare create + start + healthy at the same
 *   concurrency. The rules may cost at most 10 % (ARCHITECTURE.md, "Egress").
 */
import Docker from "dockerode";
import { type AppSpec, initialSpec } from "../lib/app-spec";
import { createApp } from "../lib/apps/create";
import { mirrorApp } from "../lib/apps/mirror";
import { removeApp } from "../lib/apps/remove";
import { cliCaller } from "../lib/audit/model";
import { createContext } from "../lib/context";
import { removeRecord } from "../lib/pool/remove";
import { cleanupInstance } from "../lib/upkeep/cleanup";
import { provision } from "../lib/upkeep/provision";
import { waitHealthy } from "../lib/upkeep/wait-healthy";
import { benchConfig, percentile, report, startBenchProxy, startBenchWorker, waitDrained, waitFor } from "./common";

const IMAGE = "tryitnow/hello:latest";
const config = benchConfig();
const ctx = createContext(config, "bench");
const unconfined = createContext({ ...config, EGRESS_RULES: "off", CONTAINER_NETWORK: "tin-bench-open-net" }, "bench-no-rules");
const docker = new Docker({ socketPath: config.DOCKER_SOCKET });
const round = (ms: number) => Math.round(ms);
const BENCH = cliCaller("npm run bench");

async function bareColdStart(spec: AppSpec, name: string): Promise<number> {
  const started = performance.now();
  const container = await docker.createContainer({
    name,
    Image: IMAGE,
    ExposedPorts: { "8080/tcp": {} },
    HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
  });
  await container.start();
  const info = await container.inspect();
  const port = Number(info.NetworkSettings.Ports["8080/tcp"][0].HostPort);
  await waitHealthy(port, spec.healthPath, 30_000);
  const elapsed = performance.now() - started;
  await container.remove({ force: true });
  return elapsed;
}

async function provisionOnce(context: typeof ctx, spec: AppSpec): Promise<number> {
  const started = performance.now();
  const result = await provision(context, spec, { workerId: "bench", target: 1 });
  const elapsed = performance.now() - started;
  if (result.status !== "ready") throw new Error(`provision answered ${result.status}`);
  await removeRecord(context, context.keys.app(spec.slug), result.id, { event: "expired" });
  await cleanupInstance(context, result.id);
  return elapsed;
}

async function coldStart(spec: AppSpec) {
  const ours: number[] = [];
  const withoutRules: number[] = [];
  const bare: number[] = [];
  // Interleaved one by one, so the host's drift hits the three alike. "Without" runs on networks of
  // its own base name, which the table does not cover: no rule in the kernel sees its packets.
  for (let i = 0; i < 20; i += 1) {
    ours.push(await provisionOnce(ctx, spec));
    withoutRules.push(await provisionOnce(unconfined, spec));
    bare.push(await bareColdStart(spec, `tin-bench-bare-${i}`));
  }
  for (const values of [ours, withoutRules, bare]) values.sort((a, b) => a - b);
  const row = (target: string, values: number[]) => ({
    target,
    n: values.length,
    "p50 ms": round(percentile(values, 50)),
    "p95 ms": round(percentile(values, 95)),
    "max ms": round(values[values.length - 1]),
  });
  const rows = [
    row("provision verb, egress rules in place: create → healthy → routed → ready", ours),
    row("provision verb without the rules (EGRESS_RULES=off, a network no rule covers)", withoutRules),
    row("baseline: bare create + start + healthy", bare),
  ];
  const cost = Math.round((percentile(ours, 50) / percentile(withoutRules, 50) - 1) * 1000) / 10;
  report("cold start of the sample app", rows, {
    ours: rows[0],
    withoutRules: rows[1],
    baseline: rows[2],
    rulesCostPercentP50: cost,
  });
}

/** A real worker fills a pool of 20 from empty; the wall time and first reserve → last ready. */
async function workerRefill(env: Record<string, string>): Promise<{ wallMs: number; spanMs: number }> {
  const worker = await startBenchWorker(ctx.redis, config.VALKEY_PREFIX, env);
  const slug = `refill-${Date.now().toString(36)}`;
  const started = performance.now();
  await createApp(ctx, { slug, image: IMAGE, pool_target: 20, pool_min: 0, pool_max: 40 }, BENCH);
  const keys = ctx.keys.app(slug);
  await waitFor("20 ready", async () => (await ctx.redis.llen(keys.ready)) >= 20, 120_000);
  const wallMs = performance.now() - started;
  const ids = await ctx.redis.lrange(keys.ready, 0, -1);
  const times = await Promise.all(ids.map((id) => ctx.redis.hmget(keys.inst(id), "created_at", "ready_at")));
  const first = Math.min(...times.map((t) => Number(t[0])));
  const last = Math.max(...times.map((t) => Number(t[1])));
  await removeApp(ctx, slug, BENCH);
  await waitDrained(docker, slug, 60_000);
  await worker.stop();
  return { wallMs, spanMs: last - first };
}

async function refill() {
  const ruled = await workerRefill({ EGRESS_RULES: "on" });
  await ctx.egress.remove();
  const open = await workerRefill({ EGRESS_RULES: "off" });

  // Baseline: the same 20 containers, bare, at the worker's concurrency.
  const spec = { ...initialSpec(config, "bare"), image: IMAGE };
  const bareStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: config.PROVISION_CONCURRENCY }, async () => {
      while (next < 20) {
        const index = next++;
        const name = `tin-bench-refill-${index}`;
        const container = await docker.createContainer({
          name,
          Image: IMAGE,
          ExposedPorts: { "8080/tcp": {} },
          HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
        });
        await container.start();
        const info = await container.inspect();
        await waitHealthy(Number(info.NetworkSettings.Ports["8080/tcp"][0].HostPort), spec.healthPath, 30_000);
      }
    }),
  );
  const bareMs = performance.now() - bareStarted;
  const bare = await docker.listContainers({ all: true, filters: { name: ["tin-bench-refill-"] } });
  await Promise.all(bare.map((c) => docker.getContainer(c.Id).remove({ force: true })));

  const perSecond = (ms: number) => Math.round((20 / (ms / 1000)) * 10) / 10;
  const rows = [
    {
      target: "worker, egress rules in place: app created → 20 ready (wall)",
      ms: round(ruled.wallMs),
      "instances/s": perSecond(ruled.wallMs),
    },
    {
      target: "worker, egress rules in place: first reserve → last ready",
      ms: ruled.spanMs,
      "instances/s": perSecond(ruled.spanMs),
    },
    {
      target: "worker without the rules: app created → 20 ready (wall)",
      ms: round(open.wallMs),
      "instances/s": perSecond(open.wallMs),
    },
    { target: "worker without the rules: first reserve → last ready", ms: open.spanMs, "instances/s": perSecond(open.spanMs) },
    {
      target: `baseline: 20 bare create + start + healthy, ${config.PROVISION_CONCURRENCY} at a time`,
      ms: round(bareMs),
      "instances/s": perSecond(bareMs),
    },
  ];
  const cost = Math.round((ruled.spanMs / open.spanMs - 1) * 1000) / 10;
  report("refill: a pool of 20 from empty to full", rows, {
    concurrency: config.PROVISION_CONCURRENCY,
    rows,
    rulesCostPercentSpan: cost,
  });
}

async function main() {
  const caddy = await startBenchProxy(ctx);
  try {
    const spec: AppSpec = { ...initialSpec(config, "coldstart"), name: "cold start", image: IMAGE, poolTarget: 1, poolMax: 5 };
    await mirrorApp(ctx, spec);
    await coldStart(spec);
    await refill();
  } finally {
    // The baseline's network is the bench's own: it leaves no bridge behind.
    await docker
      .getNetwork("tin-bench-open-net")
      .remove()
      .catch(() => undefined);
    await caddy.stop();
    await ctx.close();
    await unconfined.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
