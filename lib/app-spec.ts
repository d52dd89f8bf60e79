/**
 * The app's settings, each declared once: its API name and zod type, its MariaDB column, its value
 * for a new app (from the environment where a variable exists) and, where the two differ, how the
 * API's value maps onto the stored one. The drizzle table, the API's schemas and views, and the
 * seeding of the app `default` are all derived from this table (ARCHITECTURE.md, "App settings").
 * Adding a field is one entry here plus a generated migration.
 *
 * A leaf module: it imports nothing of lib/ but the config type and the egress vocabulary, so the database schema, the
 * container runtime and the API model can all depend on it.
 */
import { boolean, int, json, varchar } from "drizzle-orm/mysql-core";
import { z } from "zod";
import type { Config } from "./config";
import { EGRESS_MODES, type EgressMode, parseAllowEntry } from "./egress/policy";
import { BOT_GATES, type BotGate } from "./gate/policy";

/**
 * Capabilities an app may add back after CapDrop ALL: Docker's default set, less NET_RAW (raw
 * sockets forge packets, the egress policy's business) and MKNOD (device nodes).
 */
export const CAPABILITIES = [
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
] as const;

/** The app an acquire without `app` starts; seeded from the environment (CONTAINER_IMAGE and friends). */
export const DEFAULT_APP = "default";

export const Slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/, "slug: lowercase letters, digits and dashes, 1-32 characters");

/** How a name of an app's env must look (shared with the PATCH schema of lib/apps/model.ts). */
export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "env names: letters, digits, underscore");

const EnvMap = z
  .record(EnvName, z.string().max(4096))
  .refine((env) => Object.keys(env).length <= 100, "at most 100 env variables")
  .refine((env) => !Object.keys(env).some((k) => k.startsWith("TRYIT_")), "TRYIT_* variables are set by the pool");

const Path = z
  .string()
  .max(500)
  .regex(/^\/[^\s]*$/, "a path starting with /");

export const DATABASE_KINDS = ["none", "mariadb"] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** A seed file's name in SEEDS_DIR: a bare name, so no other path of the host can be named. */
export const SeedName = z.union([
  z.literal(""),
  z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.sql$/, "a file name in the seeds folder ending in .sql, e.g. wordpress.sql"),
]);

/** What of an instance's database a `database_env` entry hands over. */
export const DB_PARTS = ["host", "port", "host_port", "name", "user", "password"] as const;
export type DbPart = (typeof DB_PARTS)[number];

/** `WORDPRESS_DB_HOST=host_port` → the variable and the part; null when malformed. */
export function parseDatabaseEnv(entry: string): { name: string; part: DbPart } | null {
  const match = /^([A-Za-z_][A-Za-z0-9_]{0,127})=([a-z_]+)$/.exec(entry.trim());
  if (!match || match[1].startsWith("TRYIT_") || !(DB_PARTS as readonly string[]).includes(match[2])) return null;
  return { name: match[1], part: match[2] as DbPart };
}

/** `/var/www/html/wp-content:64` → the path and its size in MB; null when malformed. */
export function parseWritablePath(entry: string): { path: string; sizeMb: number } | null {
  const match = /^(\/[A-Za-z0-9._\-/]{0,300}):(\d{1,4})$/.exec(entry.trim());
  if (!match || match[1].split("/").includes("..") || match[1] === "/") return null;
  const sizeMb = Number(match[2]);
  return sizeMb >= 1 && sizeMb <= 4096 ? { path: match[1], sizeMb } : null;
}

/** How the dashboard's form edits a field. */
export type FieldInput = "text" | "number" | "decimal" | "checkbox" | "env" | "capabilities" | "limit" | "select" | "lines";

/** How a mirrored field is stored in the app's Redis settings hash (`cfg`, lib/store/hashes.ts). */
export type MirrorKind = "int" | "flag" | "text";

export interface Mirror<Value, Name extends string = string, Kind extends MirrorKind = MirrorKind> {
  /** Its name in the hash, which the Lua scripts read. */
  field: Name;
  kind: Kind;
  /** Spec value → stored value; the value itself when absent. */
  encode?: (value: Value) => number | string | boolean;
  /** What a reader takes when the field is absent (a mirror written by an older version). */
  fallback?: number | string;
}

interface FieldDef<
  Api extends string,
  Schema extends z.ZodType,
  Value,
  Column,
  MirrorName extends string = never,
  Kind extends MirrorKind = MirrorKind,
> {
  /** The name in the API's JSON (snake_case). */
  api: Api;
  /** The dashboard form's label, help line and control. */
  label: string;
  help?: string;
  input: FieldInput;
  /** Shown under "Advanced" in the form. */
  advanced?: boolean;
  /** Shown in the form, never changed there (its one allowed value is the API's too). */
  fixed?: boolean;
  /** The choices of a "select", with the words the form shows for each. */
  options?: readonly { value: string; label: string }[];
  /** What the API accepts for it. */
  schema: Schema;
  /** Its MariaDB column (drizzle); the stored value is the spec's value. */
  column: Column;
  /** The variable that seeds it for new apps and for the app `default`, where there is one. */
  env?: keyof Config;
  /** Its value in an app that does not set it. */
  initial: (config: Config, slug: string) => Value;
  /** API value → spec value; identity when absent. */
  fromApi?: (value: z.output<Schema>) => Value;
  /** Spec value → API value; identity when absent. */
  toApi?: (value: Value) => z.output<Schema>;
  /** Mirrored into Redis for the scripts (ARCHITECTURE.md, "App settings"): the acquire path reads no MariaDB. */
  mirror?: Mirror<Value, MirrorName, Kind>;
}

function field<
  const Api extends string,
  Schema extends z.ZodType,
  Column,
  Value = z.output<Schema>,
  const MirrorName extends string = never,
  const Kind extends MirrorKind = MirrorKind,
>(def: FieldDef<Api, Schema, Value, Column, MirrorName, Kind>) {
  return def;
}

/** The extension step of an app that sets none, and of a mirror without one. */
export const DEFAULT_EXTEND_MINUTES = 10;

const int32 = (min: number, max: number) => z.number().int().min(min).max(max);

/** Every setting of an app except its slug. Keys are the spec's (camelCase) names. */
export const APP_FIELDS = {
  name: field({
    api: "name",
    label: "Name",
    help: "Shown to visitors on the launch page.",
    input: "text",
    schema: z.string().min(1).max(200),
    column: varchar("name", { length: 200 }).notNull(),
    initial: (_config, slug) => slug,
  }),
  description: field({
    api: "description",
    label: "Description",
    help: "One or two sentences for the launch page.",
    input: "text",
    schema: z.string().max(1000),
    column: varchar("description", { length: 1000 }).notNull().default(""),
    initial: () => "",
  }),
  image: field({
    api: "image",
    label: "Image",
    help: "A Docker image on this host (nothing is pulled), e.g. tryitnow/hello:latest.",
    input: "text",
    schema: z
      .string()
      .min(1)
      .max(500)
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/, "a Docker image reference"),
    column: varchar("image", { length: 500 }).notNull(),
    env: "CONTAINER_IMAGE",
    initial: (config) => config.CONTAINER_IMAGE,
  }),
  containerPort: field({
    api: "container_port",
    label: "Container port",
    help: "The port the app listens on inside its container.",
    input: "number",
    schema: int32(1, 65535),
    column: int("container_port").notNull(),
    env: "CONTAINER_PORT",
    initial: (config) => config.CONTAINER_PORT,
  }),
  healthPath: field({
    api: "health_path",
    label: "Health path",
    help: "An instance is ready once a GET here answers 2xx or 3xx.",
    input: "text",
    schema: Path,
    column: varchar("health_path", { length: 500 }).notNull(),
    env: "HEALTH_PATH",
    initial: (config) => config.HEALTH_PATH,
  }),
  env: field({
    api: "env",
    label: "Environment",
    help: "One NAME=value per line, given to every instance (TRYIT_* are set by the pool). Values are never shown again: ******** keeps a value, a new value replaces it, a removed line deletes it.",
    input: "env",
    advanced: true,
    schema: EnvMap,
    column: json("env").$type<Record<string, string>>().notNull(),
    initial: (): Record<string, string> => ({}),
  }),
  poolTarget: field({
    api: "pool_target",
    label: "Pool target",
    help: "Ready + warming instances kept for visitors.",
    input: "number",
    schema: int32(0, 1000),
    column: int("pool_target").notNull(),
    env: "POOL_TARGET_SIZE",
    initial: (config) => config.POOL_TARGET_SIZE,
    mirror: { field: "pool_target", kind: "int", fallback: 0 },
  }),
  poolMin: field({
    api: "pool_min",
    label: "Pool minimum",
    help: "The target never goes below this.",
    input: "number",
    schema: int32(0, 1000),
    column: int("pool_min").notNull(),
    env: "POOL_MIN_SIZE",
    initial: (config) => config.POOL_MIN_SIZE,
  }),
  poolMax: field({
    api: "pool_max",
    label: "Pool maximum",
    help: "Most instances at once: ready + warming + assigned.",
    input: "number",
    schema: int32(0, 10000),
    column: int("pool_max").notNull(),
    env: "POOL_MAX_SIZE",
    initial: (config) => config.POOL_MAX_SIZE,
    mirror: { field: "pool_max", kind: "int", fallback: 0 },
  }),
  defaultTtlSeconds: field({
    api: "default_ttl_seconds",
    label: "Demo length (seconds)",
    help: "How long a visitor's copy lives before extensions.",
    input: "number",
    schema: int32(5, 7 * 86400),
    column: int("default_ttl_seconds").notNull(),
    env: "POOL_DEFAULT_TTL",
    initial: (config) => Math.round(config.POOL_DEFAULT_TTL / 1000),
    mirror: { field: "default_ttl_ms", kind: "int", encode: (seconds) => seconds * 1000 },
  }),
  maxTtlSeconds: field({
    api: "max_ttl_seconds",
    label: "Longest remaining time (seconds)",
    help: "An extension may not take the time left beyond this.",
    input: "number",
    schema: int32(5, 7 * 86400),
    column: int("max_ttl_seconds").notNull(),
    env: "POOL_MAX_TTL",
    initial: (config) => Math.round(config.POOL_MAX_TTL / 1000),
    mirror: { field: "max_ttl_ms", kind: "int", encode: (seconds) => seconds * 1000 },
  }),
  extendMinutes: field({
    api: "extend_minutes",
    label: "Extend step (minutes)",
    help: "What one Extend adds.",
    input: "number",
    schema: int32(1, 60),
    column: int("extend_minutes").notNull().default(DEFAULT_EXTEND_MINUTES),
    initial: () => DEFAULT_EXTEND_MINUTES,
    mirror: { field: "extend_ms", kind: "int", encode: (minutes) => minutes * 60_000, fallback: DEFAULT_EXTEND_MINUTES * 60_000 },
  }),
  maxLifetimeSeconds: field({
    api: "max_lifetime_seconds",
    label: "Longest life (seconds)",
    help: "Most time from assignment to the end, extensions included.",
    input: "number",
    schema: int32(60, 7 * 86400),
    column: int("max_lifetime_seconds").notNull().default(14_400),
    env: "POOL_MAX_LIFETIME",
    initial: (config) => Math.round(config.POOL_MAX_LIFETIME / 1000),
    mirror: { field: "max_lifetime_ms", kind: "int", encode: (seconds) => seconds * 1000 },
  }),
  maxExtensions: field({
    api: "max_extensions",
    label: "Most extensions",
    help: "How many times a visitor may extend (0: never).",
    input: "number",
    schema: int32(0, 100),
    column: int("max_extensions").notNull().default(6),
    env: "POOL_MAX_EXTENSIONS",
    initial: (config) => config.POOL_MAX_EXTENSIONS,
    mirror: { field: "max_extensions", kind: "int" },
  }),
  ctaLabel: field({
    api: "cta_label",
    label: "Call to action",
    help: "Shown when a demo ends, e.g. “Start your free trial”.",
    input: "text",
    schema: z.string().max(80),
    column: varchar("cta_label", { length: 80 }).notNull().default(""),
    initial: () => "",
    mirror: { field: "cta_label", kind: "text", fallback: "" },
  }),
  ctaUrl: field({
    api: "cta_url",
    label: "Call to action link",
    help: "Where the call to action leads (https://…).",
    input: "text",
    schema: z.union([
      z.literal(""),
      z
        .string()
        .max(500)
        .regex(/^https?:\/\/[^\s"<>]+$/, "an http(s) URL"),
    ]),
    column: varchar("cta_url", { length: 500 }).notNull().default(""),
    initial: () => "",
    mirror: { field: "cta_url", kind: "text", fallback: "" },
  }),
  launchPage: field({
    api: "launch_page",
    label: "Public launch page",
    help: "Anyone may start this demo from its page on this site, without a key.",
    input: "checkbox",
    schema: z.boolean(),
    column: boolean("launch_page").notNull().default(false),
    initial: (_config, slug) => slug === DEFAULT_APP,
    mirror: { field: "launch_page", kind: "flag" },
  }),
  adminPath: field({
    api: "admin_path",
    label: "Admin path",
    help: "Where the app's own admin lives; the API answers admin_url with it.",
    input: "text",
    advanced: true,
    schema: Path,
    column: varchar("admin_path", { length: 500 }).notNull(),
    initial: () => "/",
    mirror: { field: "admin_path", kind: "text", fallback: "/" },
  }),
  memoryMb: field({
    api: "memory_mb",
    label: "Memory (MB)",
    help: "Memory limit per instance.",
    input: "number",
    advanced: true,
    schema: int32(16, 65536),
    column: int("memory_mb").notNull(),
    env: "CONTAINER_MEMORY_MB",
    initial: (config) => config.CONTAINER_MEMORY_MB,
  }),
  cpuMillis: field({
    api: "cpus",
    label: "CPUs",
    help: "CPU limit per instance, e.g. 0.5.",
    input: "decimal",
    advanced: true,
    schema: z.number().min(0.01).max(64),
    column: int("cpu_millis").notNull(),
    env: "CONTAINER_CPUS",
    initial: (config) => Math.round(config.CONTAINER_CPUS * 1000),
    fromApi: (cpus) => Math.round(cpus * 1000),
    toApi: (millis) => millis / 1000,
  }),
  pidsLimit: field({
    api: "pids_limit",
    label: "Process limit",
    help: "Most processes per instance.",
    input: "number",
    advanced: true,
    schema: int32(16, 65536),
    column: int("pids_limit").notNull(),
    env: "CONTAINER_PIDS_LIMIT",
    initial: (config) => config.CONTAINER_PIDS_LIMIT,
  }),
  readOnlyRoot: field({
    api: "read_only_root",
    label: "Read-only root file system",
    help: "Always on: an instance writes only to its writable paths, so it cannot fill the host's disk.",
    input: "checkbox",
    advanced: true,
    fixed: true,
    schema: z.literal(true, { error: "the root file system is always read-only; declare writable_paths instead" }),
    column: boolean("read_only_root").$type<true>().notNull(),
    initial: (): true => true,
  }),
  writablePaths: field({
    api: "writable_paths",
    label: "Writable paths",
    help: "One path:size-in-MB per line, e.g. /var/www/html/wp-content:64. Each is a memory file system of that size (it counts against the memory limit); nothing else is writable.",
    input: "lines",
    advanced: true,
    schema: z
      .array(
        z.string().refine((entry) => parseWritablePath(entry) !== null, "write /path:size-in-MB, e.g. /tmp:16 (1 to 4096 MB)"),
      )
      .max(20)
      .refine(
        (entries) => new Set(entries.map((entry) => parseWritablePath(entry)?.path)).size === entries.length,
        "each path once",
      ),
    column: json("writable_paths").$type<string[]>().notNull().default(["/tmp:16"]),
    initial: (): string[] => ["/tmp:16"],
  }),
  capAdd: field({
    api: "cap_add",
    label: "Added capabilities",
    help: "Linux capabilities given back after dropping all (Docker's default set at most). NET_RAW and MKNOD are never granted: raw sockets could forge traffic past the outbound rules, and device nodes reach the host's devices.",
    input: "capabilities",
    advanced: true,
    schema: z.array(z.enum(CAPABILITIES)).max(CAPABILITIES.length),
    column: json("cap_add").$type<string[]>().notNull(),
    initial: (): string[] => [],
  }),
  database: field({
    api: "database",
    label: "Database",
    help: "MariaDB: every instance gets a database of its own, cloned from the seed when it is made, with a user and password of its own (ARCHITECTURE.md, \u201cDemo databases\u201d).",
    input: "select",
    options: [
      { value: "none", label: "None" },
      { value: "mariadb", label: "MariaDB, one per instance" },
    ],
    advanced: true,
    schema: z.enum(DATABASE_KINDS),
    column: varchar("database_kind", { length: 10 }).$type<DatabaseKind>().notNull().default("none"),
    initial: (): DatabaseKind => "none",
  }),
  databaseSeed: field({
    api: "database_seed",
    label: "Database seed",
    help: "A SQL dump in the deployment's seeds folder (SEEDS_DIR), e.g. wordpress.sql; empty: an empty database. Loaded once into a template per seed version.",
    input: "text",
    advanced: true,
    schema: SeedName,
    column: varchar("database_seed", { length: 200 }).notNull().default(""),
    initial: () => "",
  }),
  databaseEnv: field({
    api: "database_env",
    label: "Database variables",
    help: "One NAME=part per line, part being host, port, host_port, name, user or password, e.g. WORDPRESS_DB_HOST=host_port. TRYIT_DB_HOST, TRYIT_DB_PORT, TRYIT_DB_NAME, TRYIT_DB_USER and TRYIT_DB_PASSWORD are always set.",
    input: "lines",
    advanced: true,
    schema: z
      .array(
        z.string().refine((entry) => parseDatabaseEnv(entry) !== null, `write NAME=part, part one of ${DB_PARTS.join(", ")}`),
      )
      .max(20),
    column: json("database_env").$type<string[]>().notNull().default([]),
    initial: (): string[] => [],
  }),
  databaseSetup: field({
    api: "database_setup",
    label: "Database setup",
    help: "SQL run in each new instance's database after the clone, one statement per line, as the instance's own user. Placeholders (quoted for you): {{url}}, {{host}}, {{database}}, {{username}}, {{password}}, {{password_md5}}, {{password_sha256}}.",
    input: "lines",
    advanced: true,
    schema: z.array(z.string().min(1).max(4000)).max(20),
    column: json("database_setup").$type<string[]>().notNull().default([]),
    initial: (): string[] => [],
  }),
  signInUser: field({
    api: "sign_in_user",
    label: "Sign-in user",
    help: "The user a visitor signs in as; each instance gets a password of its own, shown to its visitor. Empty: no sign-in.",
    input: "text",
    advanced: true,
    schema: z
      .string()
      .max(100)
      .regex(/^[^\s]*$/, "no spaces"),
    column: varchar("sign_in_user", { length: 100 }).notNull().default(""),
    initial: () => "",
  }),
  signInPath: field({
    api: "sign_in_path",
    label: "Sign-in path",
    help: "Where the app's sign-in page is, e.g. /wp-login.php.",
    input: "text",
    advanced: true,
    schema: Path,
    column: varchar("sign_in_path", { length: 500 }).notNull().default("/"),
    initial: () => "/",
  }),
  signInPasswordEnv: field({
    api: "sign_in_password_env",
    label: "Password variable",
    help: "The env variable the instance's sign-in password is given in (empty: only through the database setup's placeholders).",
    input: "text",
    advanced: true,
    schema: z.union([z.literal(""), EnvName]),
    column: varchar("sign_in_password_env", { length: 128 }).notNull().default(""),
    initial: () => "",
  }),
  egress: field({
    api: "egress",
    label: "Outbound network",
    help: "What an instance may reach. Public: the internet, never private networks, the host, mail or mining-pool ports. None: nothing. Allow list: only the entries below.",
    input: "select",
    options: [
      { value: "public", label: "Public internet only" },
      { value: "none", label: "None" },
      { value: "allow", label: "Allow list only" },
    ],
    advanced: true,
    schema: z.enum(EGRESS_MODES),
    column: varchar("egress", { length: 10 }).$type<EgressMode>().notNull().default("public"),
    initial: (): EgressMode => "public",
  }),
  egressAllow: field({
    api: "egress_allow",
    label: "Allow list",
    help: "With “Allow list only”: one CIDR:port per line, e.g. 203.0.113.0/24:443. Private, host and mail addresses stay refused.",
    input: "lines",
    advanced: true,
    schema: z
      .array(z.string().refine((entry) => parseAllowEntry(entry) !== null, "write CIDR:port, e.g. 203.0.113.0/24:443"))
      .max(50),
    column: json("egress_allow").$type<string[]>().notNull().default([]),
    initial: (): string[] => [],
  }),
  apiAccess: field({
    api: "api_access",
    label: "Report conversions from the demo",
    help: "Instances may call the conversion API through the proxy on the host (TRYIT_API_URL and TRYIT_CONVERT_TOKEN in their environment).",
    input: "checkbox",
    advanced: true,
    schema: z.boolean(),
    column: boolean("api_access").notNull().default(true),
    initial: () => true,
  }),
  acquireRate: field({
    api: "acquire_rate",
    label: "Demos per minute, all visitors",
    help: "A drain cap: at most this many demos a minute over every visitor together (bursts up to one minute's worth); past it visitors are told to retry shortly. Empty: no cap.",
    input: "limit",
    advanced: true,
    schema: z.number().int().min(1).max(100_000).nullable(),
    column: int("acquire_rate"),
    initial: (): number | null => null,
    mirror: { field: "acquire_rate", kind: "int", encode: (rate) => rate ?? 0, fallback: 0 },
  }),
  botGate: field({
    api: "bot_gate",
    label: "Proof of work",
    help: "A small computation the visitor's browser does while the page is read, before a demo starts: it makes draining the pool with scripts costly. Automatic: launch-page and site-button visitors. Always: every caller without a secret key. Off: nobody. Secret keys are never asked.",
    input: "select",
    options: [
      { value: "auto", label: "Automatic (launch page and site buttons)" },
      { value: "pow", label: "Always (every caller without a secret key)" },
      { value: "none", label: "Off" },
    ],
    advanced: true,
    schema: z.enum(BOT_GATES),
    column: varchar("bot_gate", { length: 5 }).$type<BotGate>().notNull().default("auto"),
    initial: (): BotGate => "auto",
    mirror: { field: "bot_gate", kind: "text", fallback: "auto" },
  }),
  gateDifficulty: field({
    api: "gate_difficulty",
    label: "Proof-of-work difficulty",
    help: "The most hashes a browser computes (three quarters of it on average). At 100000 the check was done about a second after the page started loading on a 2-core test machine; it runs while the page is read.",
    input: "number",
    advanced: true,
    schema: int32(1000, 10_000_000),
    column: int("gate_difficulty").notNull().default(100_000),
    initial: () => 100_000,
    mirror: { field: "gate_difficulty", kind: "int", fallback: 100_000 },
  }),
  extendRequiresVisit: field({
    api: "extend_requires_visit",
    label: "Extend only after a visit",
    help: "Visitors may extend a demo only once it was opened; a demo held without ever being used cannot be kept alive. Secret keys are exempt.",
    input: "checkbox",
    advanced: true,
    schema: z.boolean(),
    column: boolean("extend_requires_visit").notNull().default(true),
    initial: () => true,
    mirror: { field: "extend_visit", kind: "flag" },
  }),
  rateLimitHourly: field({
    api: "rate_limit_hourly",
    label: "Demos per visitor per hour",
    help: "Empty: the server's default; 0: unlimited.",
    input: "limit",
    advanced: true,
    schema: z.number().int().min(0).nullable(),
    column: int("rate_limit_hourly"),
    initial: (): number | null => null,
    mirror: { field: "rl_hourly", kind: "int", encode: (limit) => limit ?? -1, fallback: -1 },
  }),
  rateLimitDaily: field({
    api: "rate_limit_daily",
    label: "Demos per visitor per day",
    help: "Empty: the server's default; 0: unlimited.",
    input: "limit",
    advanced: true,
    schema: z.number().int().min(0).nullable(),
    column: int("rate_limit_daily"),
    initial: (): number | null => null,
    mirror: { field: "rl_daily", kind: "int", encode: (limit) => limit ?? -1, fallback: -1 },
  }),
  paused: field({
    api: "paused",
    label: "Paused",
    help: "While paused, visitors are told the demo is paused; the pool stays warm.",
    input: "checkbox",
    schema: z.boolean(),
    column: boolean("paused").notNull().default(false),
    initial: () => false,
    mirror: { field: "paused", kind: "flag" },
  }),
};

type Fields = typeof APP_FIELDS;
export type AppFieldName = keyof Fields;
type ValueOf<F> = F extends FieldDef<string, z.ZodType, infer V, unknown, string> ? V : never;

/** An app as the pool uses it. */
export type AppSpec = { slug: string } & { [K in AppFieldName]: ValueOf<Fields[K]> };

/** The API's JSON names of the fields, with their zod types. */
export type AppApiShape = { [K in AppFieldName as Fields[K]["api"]]: Fields[K]["schema"] };

/** The drizzle columns of the fields, under the spec's names. */
export type AppColumns = { [K in AppFieldName]: Fields[K]["column"] };

export const FIELD_NAMES = Object.keys(APP_FIELDS) as AppFieldName[];

/** A loosely typed view of one entry, for the generic mappings below. */
function def(name: AppFieldName): FieldDef<string, z.ZodType, unknown, unknown, string> {
  return APP_FIELDS[name] as unknown as FieldDef<string, z.ZodType, unknown, unknown, string>;
}

/** The names of the settings hash's fields (`cfg`), each the `mirror` of one app field. */
export type CfgFieldName = {
  [K in AppFieldName]: Fields[K] extends { mirror?: Mirror<never, infer Name> } ? Name : never;
}[AppFieldName];

/** The stored kind of each `cfg` field. */
export type CfgKindOf<N extends CfgFieldName> = {
  [K in AppFieldName]: Fields[K] extends { mirror?: Mirror<never, infer Name, infer Kind> }
    ? [Name] extends [never]
      ? never
      : Name extends N
        ? Kind
        : never
    : never;
}[AppFieldName];

/** The mirrored fields: the spec's name, and how it is stored. */
export function mirroredFields(): { name: AppFieldName; mirror: Mirror<unknown> }[] {
  return FIELD_NAMES.flatMap((name) => {
    const mirror = def(name).mirror;
    return mirror ? [{ name, mirror: mirror as Mirror<unknown> }] : [];
  });
}

export function appColumns(): AppColumns {
  return Object.fromEntries(FIELD_NAMES.map((name) => [name, def(name).column])) as AppColumns;
}

/** What the dashboard's form needs of each field, in table order (plain data, safe to send to a browser). */
export function formFields(): FormField[] {
  return FIELD_NAMES.map((name) => {
    const entry = def(name);
    return {
      name,
      api: entry.api,
      label: entry.label,
      help: entry.help,
      input: entry.input,
      advanced: entry.advanced ?? false,
      fixed: entry.fixed ?? false,
      options: entry.options ? [...entry.options] : undefined,
    };
  });
}
export interface FormField {
  name: AppFieldName;
  api: string;
  label: string;
  help?: string;
  input: FieldInput;
  advanced: boolean;
  fixed: boolean;
  options?: { value: string; label: string }[];
}

export function apiShape(): AppApiShape {
  return Object.fromEntries(FIELD_NAMES.map((name) => [def(name).api, def(name).schema])) as AppApiShape;
}

/** The settings of an app that sets nothing: the environment's where a variable exists. */
export function initialSpec(config: Config, slug: string): AppSpec {
  const spec: Record<string, unknown> = { slug };
  for (const name of FIELD_NAMES) spec[name] = def(name).initial(config, slug);
  return spec as AppSpec;
}

/** The fields the environment seeds, with the values the given configuration gives them. */
export function envSeeded(config: Config): Partial<Record<AppFieldName, { variable: string; value: unknown }>> {
  const seeded: Partial<Record<AppFieldName, { variable: string; value: unknown }>> = {};
  for (const name of FIELD_NAMES) {
    const entry = def(name);
    if (entry.env) seeded[name] = { variable: entry.env, value: entry.initial(config, "") };
  }
  return seeded;
}

/** Applies API fields (snake_case JSON) onto a spec; absent fields keep their value. */
export function applyApiFields(spec: AppSpec, input: Record<string, unknown>): AppSpec {
  const next: Record<string, unknown> = { ...spec };
  for (const name of FIELD_NAMES) {
    const entry = def(name);
    const value = input[entry.api];
    if (value === undefined) continue;
    next[name] = entry.fromApi ? entry.fromApi(value) : value;
  }
  return next as AppSpec;
}

/** A spec as the API shows it (snake_case JSON), slug first. */
export function apiFields(spec: AppSpec): { slug: string } & { [K in keyof AppApiShape]: z.output<AppApiShape[K]> } {
  const view: Record<string, unknown> = { slug: spec.slug };
  for (const name of FIELD_NAMES) {
    const entry = def(name);
    view[entry.api] = entry.toApi ? entry.toApi(spec[name]) : spec[name];
  }
  return view as { slug: string } & { [K in keyof AppApiShape]: z.output<AppApiShape[K]> };
}

/** The spec's fields out of anything that has them (a database row, a wider object). */
export function pickSpec(source: AppSpec): AppSpec {
  const spec: Record<string, unknown> = { slug: source.slug };
  for (const name of FIELD_NAMES) spec[name] = source[name];
  return spec as AppSpec;
}
