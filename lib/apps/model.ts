import { z } from "zod";
import type { Config } from "../config";
import type { AppRow } from "../db/schema";

export const Slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/, "slug: lowercase letters, digits and dashes, 1-32 characters");

/** Capabilities an app may add back after CapDrop ALL: Docker's default set, nothing beyond it. */
const CAPABILITIES = [
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "NET_RAW",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
] as const;

const EnvMap = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "env names: letters, digits, underscore"), z.string().max(4096))
  .refine((env) => Object.keys(env).length <= 100, "at most 100 env variables")
  .refine((env) => !Object.keys(env).some((k) => k.startsWith("TRYIT_")), "TRYIT_* variables are set by the pool");

const Path = z.string().max(500).regex(/^\/[^\s]*$/, "a path starting with /");

/** The API's view of an app's settings (snake_case JSON). */
const AppFields = z.object({
  name: z.string().min(1).max(200),
  image: z.string().min(1).max(500).regex(/^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/, "a Docker image reference"),
  container_port: z.number().int().min(1).max(65535),
  health_path: Path,
  env: EnvMap,
  pool_target: z.number().int().min(0).max(1000),
  pool_min: z.number().int().min(0).max(1000),
  pool_max: z.number().int().min(0).max(10000),
  default_ttl_seconds: z.number().int().min(5).max(7 * 86400),
  max_ttl_seconds: z.number().int().min(5).max(7 * 86400),
  admin_path: Path,
  memory_mb: z.number().int().min(16).max(65536),
  cpus: z.number().min(0.01).max(64),
  pids_limit: z.number().int().min(16).max(65536),
  read_only_root: z.boolean(),
  cap_add: z.array(z.enum(CAPABILITIES)).max(CAPABILITIES.length),
  rate_limit_hourly: z.number().int().min(0).nullable(),
  rate_limit_daily: z.number().int().min(0).nullable(),
});

export const AppCreateInput = AppFields.partial().extend({ slug: Slug, image: AppFields.shape.image }).strict();
export type AppCreateInput = z.infer<typeof AppCreateInput>;

export const AppPatchInput = AppFields.partial().strict();
export type AppPatchInput = z.infer<typeof AppPatchInput>;

/** An app as the pool uses it. */
export interface AppSpec {
  slug: string;
  name: string;
  image: string;
  containerPort: number;
  healthPath: string;
  env: Record<string, string>;
  poolTarget: number;
  poolMin: number;
  poolMax: number;
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  adminPath: string;
  memoryMb: number;
  cpuMillis: number;
  pidsLimit: number;
  readOnlyRoot: boolean;
  capAdd: string[];
  rateLimitHourly: number | null;
  rateLimitDaily: number | null;
}

export type AppFieldsInput = z.infer<typeof AppPatchInput>;

/** Settings of an app created without them: the environment's (DESIGN §11). */
export function appDefaults(config: Config): Omit<AppSpec, "slug" | "name" | "image"> {
  return {
    containerPort: config.CONTAINER_PORT,
    healthPath: config.HEALTH_PATH,
    env: {},
    poolTarget: config.POOL_TARGET_SIZE,
    poolMin: config.POOL_MIN_SIZE,
    poolMax: config.POOL_MAX_SIZE,
    defaultTtlSeconds: Math.round(config.POOL_DEFAULT_TTL / 1000),
    maxTtlSeconds: Math.round(config.POOL_MAX_TTL / 1000),
    adminPath: "/",
    memoryMb: config.CONTAINER_MEMORY_MB,
    cpuMillis: Math.round(config.CONTAINER_CPUS * 1000),
    pidsLimit: config.CONTAINER_PIDS_LIMIT,
    readOnlyRoot: true,
    capAdd: [],
    rateLimitHourly: null,
    rateLimitDaily: null,
  };
}

/** Applies API fields onto a spec. */
export function applyFields(spec: AppSpec, input: AppFieldsInput): AppSpec {
  const next: AppSpec = { ...spec };
  if (input.name !== undefined) next.name = input.name;
  if (input.image !== undefined) next.image = input.image;
  if (input.container_port !== undefined) next.containerPort = input.container_port;
  if (input.health_path !== undefined) next.healthPath = input.health_path;
  if (input.env !== undefined) next.env = input.env;
  if (input.pool_target !== undefined) next.poolTarget = input.pool_target;
  if (input.pool_min !== undefined) next.poolMin = input.pool_min;
  if (input.pool_max !== undefined) next.poolMax = input.pool_max;
  if (input.default_ttl_seconds !== undefined) next.defaultTtlSeconds = input.default_ttl_seconds;
  if (input.max_ttl_seconds !== undefined) next.maxTtlSeconds = input.max_ttl_seconds;
  if (input.admin_path !== undefined) next.adminPath = input.admin_path;
  if (input.memory_mb !== undefined) next.memoryMb = input.memory_mb;
  if (input.cpus !== undefined) next.cpuMillis = Math.round(input.cpus * 1000);
  if (input.pids_limit !== undefined) next.pidsLimit = input.pids_limit;
  if (input.read_only_root !== undefined) next.readOnlyRoot = input.read_only_root;
  if (input.cap_add !== undefined) next.capAdd = input.cap_add;
  if (input.rate_limit_hourly !== undefined) next.rateLimitHourly = input.rate_limit_hourly;
  if (input.rate_limit_daily !== undefined) next.rateLimitDaily = input.rate_limit_daily;
  return next;
}

/** Rules across fields; returns the problems (empty when the spec holds together). */
export function specProblems(spec: AppSpec): string[] {
  const problems: string[] = [];
  if (spec.poolMin > spec.poolTarget) problems.push("pool_min may not exceed pool_target");
  if (spec.poolTarget > spec.poolMax) problems.push("pool_target may not exceed pool_max");
  if (spec.defaultTtlSeconds > spec.maxTtlSeconds) problems.push("default_ttl_seconds may not exceed max_ttl_seconds");
  return problems;
}

export function specFromRow(row: AppRow): AppSpec {
  return {
    slug: row.slug,
    name: row.name,
    image: row.image,
    containerPort: row.containerPort,
    healthPath: row.healthPath,
    env: row.env,
    poolTarget: row.poolTarget,
    poolMin: row.poolMin,
    poolMax: row.poolMax,
    defaultTtlSeconds: row.defaultTtlSeconds,
    maxTtlSeconds: row.maxTtlSeconds,
    adminPath: row.adminPath,
    memoryMb: row.memoryMb,
    cpuMillis: row.cpuMillis,
    pidsLimit: row.pidsLimit,
    readOnlyRoot: row.readOnlyRoot,
    capAdd: row.capAdd,
    rateLimitHourly: row.rateLimitHourly,
    rateLimitDaily: row.rateLimitDaily,
  };
}

export function appView(spec: AppSpec, row?: Pick<AppRow, "createdAt" | "updatedAt">) {
  return {
    slug: spec.slug,
    name: spec.name,
    image: spec.image,
    container_port: spec.containerPort,
    health_path: spec.healthPath,
    env: spec.env,
    pool_target: spec.poolTarget,
    pool_min: spec.poolMin,
    pool_max: spec.poolMax,
    default_ttl_seconds: spec.defaultTtlSeconds,
    max_ttl_seconds: spec.maxTtlSeconds,
    admin_path: spec.adminPath,
    memory_mb: spec.memoryMb,
    cpus: spec.cpuMillis / 1000,
    pids_limit: spec.pidsLimit,
    read_only_root: spec.readOnlyRoot,
    cap_add: spec.capAdd,
    rate_limit_hourly: spec.rateLimitHourly,
    rate_limit_daily: spec.rateLimitDaily,
    created_at: row?.createdAt.toISOString(),
    updated_at: row?.updatedAt.toISOString(),
  };
}
export type AppView = ReturnType<typeof appView>;
