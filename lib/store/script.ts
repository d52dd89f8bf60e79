import { createHash } from "node:crypto";
import type { ChainableCommander, Redis } from "ioredis";

/** A script's reply did not have the shape its decoder expects: a bug, never a visitor's doing. */
export class ScriptReplyError extends Error {
  constructor(script: string, problem: string, reply: unknown) {
    super(`script ${script}: ${problem} (reply ${JSON.stringify(reply)?.slice(0, 200)})`);
    this.name = "ScriptReplyError";
  }
}

const LUA_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LUA_RESERVED = new Set(
  "and break do else elseif end false for function goto if in local nil not or repeat return then true until while redis cjson KEYS ARGV".split(
    " ",
  ),
);

export interface ScriptDef<K extends string, A extends string, R> {
  name: string;
  /** KEYS, in order; the body sees each as a local of this name. */
  keys: readonly K[];
  /** ARGV, in order; the body sees each as a local of this name (a string: `tonumber` it where needed). */
  args: readonly A[];
  lua: string;
  /** Turns the raw reply into the script's typed result; throws ScriptReplyError on anything else. */
  decode: (reply: unknown, fail: (problem: string) => never) => R;
}

/**
 * One Lua script with named keys and arguments in and a decoded reply out: one round trip
 * (EVALSHA; the source is sent only when the server does not know it, after a restart).
 */
export class LuaScript<K extends string, A extends string, R> {
  readonly name: string;
  readonly source: string;
  readonly sha: string;

  constructor(private readonly def: ScriptDef<K, A, R>) {
    const names = [...def.keys, ...def.args];
    for (const name of names) {
      if (!LUA_NAME.test(name) || LUA_RESERVED.has(name)) throw new Error(`script ${def.name}: "${name}" cannot be a Lua local`);
    }
    if (new Set(names).size !== names.length) throw new Error(`script ${def.name}: key and argument names must differ`);
    const prelude = [
      ...def.keys.map((name, index) => `local ${name} = KEYS[${index + 1}]`),
      ...def.args.map((name, index) => `local ${name} = ARGV[${index + 1}]`),
    ].join("\n");
    this.name = def.name;
    this.source = `${prelude}\n${def.lua.trim()}\n`;
    this.sha = createHash("sha1").update(this.source).digest("hex");
  }

  private argv(keys: Record<K, string>, args: Record<A, string | number>): (string | number)[] {
    const argv: (string | number)[] = [];
    for (const name of this.def.keys) argv.push(keys[name]);
    for (const name of this.def.args) argv.push(args[name]);
    return argv;
  }

  decode(reply: unknown): R {
    return this.def.decode(reply, (problem) => {
      throw new ScriptReplyError(this.name, problem, reply);
    });
  }

  async run(redis: Redis, keys: Record<K, string>, args: Record<A, string | number>): Promise<R> {
    const argv = this.argv(keys, args);
    let reply: unknown;
    try {
      reply = await redis.evalsha(this.sha, this.def.keys.length, ...argv);
    } catch (error) {
      if (!(error as Error).message?.startsWith("NOSCRIPT")) throw error;
      reply = await redis.eval(this.source, this.def.keys.length, ...argv);
    }
    return this.decode(reply);
  }

  /** Makes sure the server knows the script, so `queue` can use it in a pipeline. */
  async load(redis: Redis): Promise<void> {
    await redis.script("LOAD", this.source);
  }

  /** Adds a call to a pipeline (after `load`); decode its reply with `decode`. */
  queue(pipeline: ChainableCommander, keys: Record<K, string>, args: Record<A, string | number>): ChainableCommander {
    return pipeline.evalsha(this.sha, this.def.keys.length, ...this.argv(keys, args));
  }
}

export function defineScript<const K extends string, const A extends string, R>(def: ScriptDef<K, A, R>): LuaScript<K, A, R> {
  return new LuaScript(def);
}

/** Reply readers for decoders. */
export const reply = {
  string(value: unknown, fail: (problem: string) => never, what: string): string {
    if (typeof value === "string") return value;
    if (typeof value === "number") return String(value);
    return fail(`${what} is not a string`);
  },
  number(value: unknown, fail: (problem: string) => never, what: string): number {
    const number = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
    return Number.isFinite(number) ? number : fail(`${what} is not a number`);
  },
  strings(value: unknown, fail: (problem: string) => never, what: string): string[] {
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string"))
      return fail(`${what} is not a list of strings`);
    return value as string[];
  },
  list(value: unknown, fail: (problem: string) => never, what: string): unknown[] {
    return Array.isArray(value) ? value : fail(`${what} is not a list`);
  },
};
