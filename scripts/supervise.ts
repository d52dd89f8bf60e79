/**
 * The supervisor `npm start` and `npm run up` run (ARCHITECTURE.md, "Supervision"): WEB_PROCESSES
 * web processes and WORKER_PROCESSES workers, each started again when it exits.
 *
 *   --logs DIR           each process's output goes to DIR/web.log or DIR/worker.log (default: this terminal)
 *   --exit-on-give-up    stop everything and exit 1 once a process is given up on (npm start)
 *   --worker-command C   run the worker as C (a shell command line), e.g. under a debugger
 *   --run-dir DIR        where the children's pid files go (default .data/run)
 *
 * SIGTERM or SIGINT (and, under `npm start`, SIGHUP: the terminal closed) stop every process (each
 * within 10 s) and then the supervisor: exit 0, or 1 when a process had been given up on. Detached
 * (`npm run up`), SIGHUP is ignored.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../lib/config";
import { createLogger } from "../lib/log";
import { redisKeys } from "../lib/store/keys";
import { createRedis } from "../lib/store/redis";
import { type ProcessSpec, Supervisor } from "../lib/supervise/supervisor";

const { values } = parseArgs({
  options: {
    logs: { type: "string" },
    "exit-on-give-up": { type: "boolean", default: false },
    "worker-command": { type: "string" },
    "run-dir": { type: "string", default: ".data/run" },
  },
});
const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, "supervisor");
const logs = values.logs ? resolve(values.logs) : null;
if (logs) mkdirSync(logs, { recursive: true });
const webs = config.WEB_PROCESSES;

const specs: ProcessSpec[] = [];
for (let index = 1; index <= webs; index += 1) {
  specs.push({
    name: `web-${index}`,
    kind: "web",
    command: process.execPath,
    args: [".next/tin-server.mjs"],
    // One web process listens on HOST:PORT itself, as ever; several get sockets of their own (WEB_INDEX).
    env: { NODE_ENV: "production", WEB_INDEX: webs > 1 ? String(index) : "0" },
    logFile: logs && join(logs, "web.log"),
  });
}
for (let index = 1; index <= config.WORKER_PROCESSES; index += 1) {
  const custom = values["worker-command"];
  specs.push({
    name: `worker-${index}`,
    kind: "worker",
    command: custom ? "/bin/sh" : process.execPath,
    args: custom ? ["-c", custom] : [".next/tin-worker.mjs"],
    env: {},
    logFile: logs && join(logs, "worker.log"),
  });
}

const redis = createRedis(config);
redis.on("error", () => undefined); // the processes report Redis's absence; the supervisor only keeps them running
let exitCode = 0;
let stopping = false;
const stop = (reason: string) => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    log.info({ reason }, "stopping the supervised processes");
    await supervisor.stop();
    if (supervisor.givenUp.length) exitCode = 1;
    log.info({ givenUp: supervisor.givenUp }, "supervisor stopped");
    redis.disconnect();
    log.flush();
    setTimeout(() => process.exit(exitCode), 50);
  })();
};
const supervisor = new Supervisor(specs, {
  log,
  redis,
  keys: redisKeys(config.VALKEY_PREFIX),
  runDir: resolve(values["run-dir"]),
  onGiveUp: (name) => {
    if (values["exit-on-give-up"]) stop(`${name} was given up on`);
  },
});
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => stop(signal));
process.on("SIGHUP", () =>
  values["exit-on-give-up"] ? stop("SIGHUP") : log.info("SIGHUP ignored: the supervisor runs detached"),
);
log.info({ web: webs, workers: config.WORKER_PROCESSES, logs }, "supervising");
supervisor.start();
