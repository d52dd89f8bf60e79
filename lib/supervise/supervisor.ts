import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log";
import type { RedisKeys } from "../store/keys";
import type { GivenUp } from "../store/messages";
import type { Redis } from "../store/redis";
import { webProcessId } from "../web-process";
import { afterExit, RESTART_POLICY, type RestartPolicy } from "./policy";

export interface ProcessSpec {
  /** `web-1`, `worker-1`: its pid file, its log lines and its entry in /health's give-ups. */
  name: string;
  kind: "web" | "worker";
  command: string;
  args: string[];
  env: Record<string, string>;
  /** File its output is appended to; null: the supervisor's own stdout and stderr. */
  logFile: string | null;
}

interface Running {
  spec: ProcessSpec;
  child: ChildProcess | null;
  startedAtMs: number;
  failedStarts: number;
  timer?: NodeJS.Timeout;
  gaveUp: boolean;
}

/** How long processes get to stop on SIGTERM before they are killed (both stop within 10 s on their own). */
const STOP_DEADLINE_MS = 15_000;

/**
 * Runs web and worker processes and starts again the ones that exit (ARCHITECTURE.md,
 * "Supervision"): with back-off while a process keeps failing at start, and giving up — a log
 * line, an entry /health reports, and `onGiveUp` — after RESTART_POLICY.giveUpAfter failed starts.
 * A web process that died has its liveness lease deleted at once, which frees its status streams'
 * slots (lib/pool/watch.ts). Each child's pid is in `<runDir>/<name>.pid` while it runs.
 */
export class Supervisor {
  private readonly processes: Running[];
  private stopping = false;

  constructor(
    specs: ProcessSpec[],
    private readonly options: {
      log: Logger;
      redis: Redis;
      keys: RedisKeys;
      runDir: string;
      onGiveUp: (name: string) => void;
      policy?: RestartPolicy;
    },
  ) {
    this.processes = specs.map((spec) => ({ spec, child: null, startedAtMs: 0, failedStarts: 0, gaveUp: false }));
    mkdirSync(options.runDir, { recursive: true });
  }

  start(): void {
    // A give-up of an earlier run is not this one's.
    this.options.redis.hdel(this.options.keys.givenUp, ...this.processes.map((entry) => entry.spec.name)).catch(() => undefined);
    for (const entry of this.processes) this.launch(entry);
  }

  private pidFile(name: string): string {
    return join(this.options.runDir, `${name}.pid`);
  }

  private launch(entry: Running): void {
    const { spec } = entry;
    const fd = spec.logFile ? openSync(spec.logFile, "a") : null;
    // Its own process group: a terminal's Ctrl-C reaches the supervisor, which stops the children in order.
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      stdio: fd === null ? "inherit" : ["ignore", fd, fd],
      detached: true,
    });
    if (fd !== null) closeSync(fd);
    entry.child = child;
    entry.startedAtMs = performance.now();
    if (child.pid) writeFileSync(this.pidFile(spec.name), `${child.pid}\n`);
    this.options.log.info({ process: spec.name, pid: child.pid }, `${spec.name} started`);
    child.once("error", (error) =>
      this.options.log.error({ process: spec.name, err: error.message }, `${spec.name} could not be started`),
    );
    child.once("exit", (code, signal) => this.exited(entry, child, code, signal));
  }

  private exited(entry: Running, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const { spec } = entry;
    entry.child = null;
    rmSync(this.pidFile(spec.name), { force: true });
    const ranMs = performance.now() - entry.startedAtMs;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (spec.kind === "web" && child.pid) {
      // Its stream slots are free now, not when their lease lapses; its metrics leave /metrics.
      const id = webProcessId(child.pid);
      this.options.redis.del(this.options.keys.webLease(id)).catch(() => undefined);
      this.options.redis.hdel(this.options.keys.workerMetrics, id).catch(() => undefined);
    }
    if (this.stopping) {
      this.options.log.info({ process: spec.name, exit: how }, `${spec.name} stopped`);
      return;
    }
    const decision = afterExit(ranMs, entry.failedStarts, this.options.policy ?? RESTART_POLICY);
    entry.failedStarts = decision.failedStarts;
    const line = { process: spec.name, exit: how, ranMs, failedStarts: decision.failedStarts, log: spec.logFile };
    if (decision.action === "give-up") {
      entry.gaveUp = true;
      this.options.log.error(
        line,
        `${spec.name} failed ${decision.failedStarts} starts in a row (last: ${how}): given up${spec.logFile ? `; see ${spec.logFile}` : ""}`,
      );
      const record: GivenUp = { at_ms: Date.now(), starts: decision.failedStarts, last_exit: how, log: spec.logFile };
      this.options.redis.hset(this.options.keys.givenUp, spec.name, JSON.stringify(record)).catch(() => undefined);
      this.options.onGiveUp(spec.name);
      return;
    }
    this.options.log.warn(
      { ...line, restartInMs: decision.delayMs },
      `${spec.name} exited (${how}) after ${Math.round(ranMs / 1000)} s: starting it again in ${decision.delayMs / 1000} s`,
    );
    entry.timer = setTimeout(() => {
      if (!this.stopping) this.launch(entry);
    }, decision.delayMs);
  }

  /** Names of the processes given up on. */
  get givenUp(): string[] {
    return this.processes.filter((entry) => entry.gaveUp).map((entry) => entry.spec.name);
  }

  /** SIGTERM to every process, then SIGKILL to any still running past the deadline. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const entry of this.processes) clearTimeout(entry.timer);
    const running = this.processes.filter((entry) => entry.child);
    const exits = running.map((entry) => new Promise<void>((resolve) => entry.child?.once("exit", () => resolve())));
    for (const entry of running) entry.child?.kill("SIGTERM");
    const deadline = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), STOP_DEADLINE_MS).unref());
    if ((await Promise.race([Promise.all(exits), deadline])) === "late") {
      for (const entry of this.processes)
        if (entry.child) {
          this.options.log.error(
            { process: entry.spec.name },
            `${entry.spec.name} did not stop within ${STOP_DEADLINE_MS / 1000} s: killed`,
          );
          entry.child.kill("SIGKILL");
        }
      await Promise.all(exits);
    }
  }
}
