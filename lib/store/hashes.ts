/**
 * The fields of the two Redis hashes every verb and script shares, each declared once with how it
 * is written and read (ARCHITECTURE.md, "Redis"):
 *
 * - `cfg` (`tin:{app}:cfg`), the app's settings mirror: derived from the app field table, one
 *   field per entry marked `mirror` in lib/app-spec.ts. `encodeCfg` writes it; `decodeCfg` reads
 *   fields in TypeScript; `cfgLua` reads them in a script by name, with the same fallbacks.
 * - the instance record (`tin:{app}:inst:<id>`): `INSTANCE_FIELDS`; `decodeInstance` reads it.
 *
 * A unit test (hashes.test.ts) checks that every field a script writes or reads is declared here.
 */
import { type AppSpec, type CfgFieldName, type CfgKindOf, type MirrorKind, mirroredFields } from "../app-spec";

type KindValue<K extends MirrorKind> = K extends "int" ? number : K extends "flag" ? boolean : string;
export type CfgValues<N extends CfgFieldName> = { [F in N]: KindValue<CfgKindOf<F>> };

interface CfgField {
  spec: keyof AppSpec;
  kind: MirrorKind;
  encode?: (value: never) => number | string | boolean;
  fallback?: number | string;
}

/** `cfg`'s fields by their name in the hash. */
export const CFG_FIELDS: ReadonlyMap<CfgFieldName, CfgField> = new Map(
  mirroredFields().map(({ name, mirror }) => [
    mirror.field as CfgFieldName,
    { spec: name, kind: mirror.kind, encode: mirror.encode, fallback: mirror.fallback },
  ]),
);

function stored(value: number | string | boolean): string {
  return typeof value === "boolean" ? (value ? "1" : "0") : String(value);
}

/** The whole settings hash of an app, as the mirror writes it. */
export function encodeCfg(spec: AppSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, entry] of CFG_FIELDS) {
    const value = spec[entry.spec] as never;
    out[field] = stored(entry.encode ? entry.encode(value) : (value as number | string | boolean));
  }
  return out;
}

function decodeOne(entry: CfgField, raw: string | null | undefined): number | string | boolean | null {
  if (raw === null || raw === undefined) {
    if (entry.fallback === undefined) return entry.kind === "flag" ? false : null;
    return entry.fallback;
  }
  if (entry.kind === "flag") return raw === "1";
  if (entry.kind === "int") return Number(raw);
  return raw;
}

/**
 * Fields of `cfg` as `HMGET key ...names` answered them. A field with no fallback that is absent
 * is null (a mirror that is gone: the app was deleted).
 */
export function decodeCfg<const N extends CfgFieldName>(
  names: readonly N[],
  raw: readonly (string | null)[],
): { [F in N]: KindValue<CfgKindOf<F>> | null } {
  const out: Record<string, unknown> = {};
  names.forEach((name, index) => {
    out[name] = decodeOne(CFG_FIELDS.get(name)!, raw[index]);
  });
  return out as { [F in N]: KindValue<CfgKindOf<F>> | null };
}

/**
 * Lua that reads `names` of the hash in `key` into the table `into` (`into.extend_ms`): one HMGET,
 * an absent field given its fallback as a string, as the TypeScript decoder would; a field with no
 * fallback is `false` when absent.
 */
export function cfgLua(key: string, into: string, names: readonly CfgFieldName[]): string {
  const reads = names.map((name, index) => {
    const fallback = CFG_FIELDS.get(name)!.fallback;
    return `${into}.${name} = raw[${index + 1}]${fallback === undefined ? "" : ` or '${String(fallback)}'`}`;
  });
  const list = names.map((name) => `'${name}'`).join(", ");
  return `local ${into} = {}\ndo\n  local raw = redis.call('HMGET', ${key}, ${list})\n  ${reads.join("\n  ")}\nend`;
}

type Codec = "int" | "text" | "flag";

/**
 * The instance record's fields and their kinds. Written by the scripts (reserve, attach, ready,
 * acquire, extend, visit), read by the scripts and by `decodeInstance`.
 */
export const INSTANCE_FIELDS = {
  /** warming | ready | assigned */
  state: "text",
  created_at: "int",
  /** The worker that reserved it (its lease says whether it still provisions). */
  worker: "text",
  host_port: "int",
  ready_at: "int",
  assigned_at: "int",
  expires_at: "int",
  /** The latest an extension may take it to: assigned_at + the app's max lifetime. */
  max_expires_at: "int",
  extensions: "int",
  client_ip: "text",
  /** "1" once the visits reader saw a request to it. */
  visited: "flag",
  /** The visitor's sign-in (attach writes them; acquire and the token's own GET hand them out). */
  cred_user: "text",
  cred_pass: "text",
  cred_path: "text",
} as const satisfies Record<string, Codec>;

export type InstanceField = keyof typeof INSTANCE_FIELDS;
type InstanceValue<F extends InstanceField> = (typeof INSTANCE_FIELDS)[F] extends "int"
  ? number
  : (typeof INSTANCE_FIELDS)[F] extends "flag"
    ? boolean
    : string;

/** Fields of an instance record as `HMGET key ...names` answered them; an absent field is null. */
export function decodeInstance<const N extends InstanceField>(
  names: readonly N[],
  raw: readonly (string | null)[],
): { [F in N]: InstanceValue<F> | null } {
  const out: Record<string, unknown> = {};
  names.forEach((name, index) => {
    const value = raw[index];
    const kind = INSTANCE_FIELDS[name];
    out[name] =
      value === null || value === undefined ? null : kind === "int" ? Number(value) : kind === "flag" ? value === "1" : value;
  });
  return out as { [F in N]: InstanceValue<F> | null };
}
