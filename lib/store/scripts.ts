/**
 * The Lua scripts of the pool (ARCHITECTURE.md, "Redis"). Each is one round trip and atomic; all
 * keys of a call share the app's hash tag. Instance hashes are addressed as `instPrefix .. id`
 * inside a script because the id is only known there (same slot, so Cluster-safe). Times are epoch
 * milliseconds. Each script names its keys and arguments and decodes its reply into a union.
 */
import { cfgLua } from "./hashes";
import { defineScript, reply } from "./script";

export type InstanceState = "warming" | "ready" | "assigned";
const STATES: readonly string[] = ["warming", "ready", "assigned"];

/**
 * Adds a warming record only below target and max, and only while the app exists (a drain deletes
 * cfg). The only path that creates instances.
 */
export const reserveScript = defineScript({
  name: "reserve",
  keys: ["ready", "warming", "expiry", "inst", "cfg"],
  args: ["target", "max", "nowMs", "workerId", "id"],
  lua: `
if redis.call('EXISTS', cfg) == 0 then return 'no_app' end
local readyCount = redis.call('LLEN', ready)
local warmingCount = redis.call('SCARD', warming)
local assignedCount = redis.call('ZCARD', expiry)
if readyCount + warmingCount >= tonumber(target) then return 'at_target' end
if readyCount + warmingCount + assignedCount >= tonumber(max) then return 'at_max' end
if redis.call('EXISTS', inst) == 1 then return 'exists' end
redis.call('SADD', warming, id)
redis.call('HSET', inst, 'state', 'warming', 'created_at', nowMs, 'worker', workerId)
return 'reserved'
`,
  decode: (value, fail) => {
    switch (value) {
      case "reserved":
        return { status: "reserved" } as const;
      case "no_app":
      case "at_target":
      case "at_max":
      case "exists":
        return { status: "refused", reason: value } as const;
      default:
        return fail("unknown outcome");
    }
  },
});

/**
 * Records the published port of a warming instance's container, and its visitor's sign-in (user,
 * password, login path: acquire hands them out in its one round trip); false when the record went
 * away meanwhile.
 */
export const attachScript = defineScript({
  name: "attach",
  keys: ["inst"],
  args: ["hostPort", "credUser", "credPass", "credPath"],
  lua: `
if redis.call('HGET', inst, 'state') ~= 'warming' then return 0 end
redis.call('HSET', inst, 'host_port', hostPort)
if credUser ~= '' then redis.call('HSET', inst, 'cred_user', credUser, 'cred_pass', credPass, 'cred_path', credPath) end
return 1
`,
  decode: (value) => value === 1,
});

/** warming → ready, pushed on the ready list; false when the record went away meanwhile. */
export const readyScript = defineScript({
  name: "ready",
  keys: ["warming", "ready", "inst"],
  args: ["id", "nowMs"],
  lua: `
if redis.call('HGET', inst, 'state') ~= 'warming' then return 0 end
if redis.call('SREM', warming, id) == 0 then return 0 end
redis.call('HSET', inst, 'state', 'ready', 'ready_at', nowMs)
redis.call('RPUSH', ready, id)
return 1
`,
  decode: (value) => value === 1,
});

/** A client's use of one quota window after an acquire attempt (limit 0: unlimited). */
export interface Quota {
  limit: number;
  used: number;
}

export type AcquireReply =
  | { status: "NO_APP" }
  | { status: "PAUSED" }
  | { status: "NOT_PUBLIC" }
  | { status: "BLOCKED" }
  | { status: "CHALLENGE_REQUIRED" }
  | { status: "CHALLENGE_FAILED" }
  | { status: "RATE_LIMITED"; window: "hourly" | "daily"; hourly: Quota; daily: Quota }
  | { status: "CAPPED"; retryMs: number; by: "app" | "key" }
  | { status: "EMPTY"; hourly: Quota; daily: Quota }
  | {
      status: "OK";
      id: string;
      hourly: Quota;
      daily: Quota;
      createdAtMs: number;
      expiresAtMs: number;
      ttlMs: number;
      adminPath: string;
      /** The latest this instance may live, whatever the extensions. */
      maxExpiresAtMs: number;
      extendMs: number;
      maxExtensions: number;
      ctaLabel: string;
      ctaUrl: string;
      signIn: SignIn | null;
    };

/** A visitor's sign-in to their instance, as the instance record holds it. */
export interface SignIn {
  username: string;
  password: string;
  path: string;
}

/** The record's `cred_*` fields → a sign-in; null for an app without one. */
export function signInOf(user: unknown, password: unknown, path: unknown): SignIn | null {
  if (typeof user !== "string" || !user) return null;
  return { username: user, password: typeof password === "string" ? password : "", path: typeof path === "string" ? path : "/" };
}

/**
 * The acquire, in one round trip (ARCHITECTURE.md, "Drain protection"), checking in this order:
 * the app exists (and, for the launch page, has its page on) and is not paused; the client's
 * address is not on the app's block list (`blocks`: every prefix that covers it is in
 * `blockCandidates`, comma-separated); the proof-of-work gate (`caller` against the app's
 * `bot_gate`; `answer` is '' when none came, `bad` when the web process refused it, else its
 * challenge's expiry: refused if `spent` already holds it); the drain caps
 * (`acquire_rate` a minute over all clients, and the publishable key's own `keyRate`: token
 * buckets holding at most one minute's worth); the client's hourly and daily limits. Then it pops
 * the oldest ready id, assigns it, and counts the client, the buckets and the spent answer. A
 * refusal consumes nothing. The app's limits (`-1`: the environment's) and TTL come from its
 * settings mirror `cfg`.
 */
export const acquireScript = defineScript({
  name: "acquire",
  keys: ["ready", "expiry", "cfg", "hourCounter", "dayCounter", "bucket", "keyBucket", "spent", "blocks"],
  args: [
    "nowMs",
    "clientIp",
    "defaultHourly",
    "defaultDaily",
    "hourResetMs",
    "dayResetMs",
    "instPrefix",
    "launchOnly",
    "defaultLifetimeMs",
    "defaultMaxExtensions",
    "caller",
    "answer",
    "keyRate",
    "blockCandidates",
  ],
  lua: `
${cfgLua("cfg", "settings", [
  "default_ttl_ms",
  "rl_hourly",
  "rl_daily",
  "admin_path",
  "paused",
  "launch_page",
  "max_lifetime_ms",
  "extend_ms",
  "max_extensions",
  "cta_label",
  "cta_url",
  "acquire_rate",
  "bot_gate",
])}
if not settings.default_ttl_ms then return {'NO_APP'} end
if launchOnly == '1' and settings.launch_page ~= '1' then return {'NOT_PUBLIC'} end
if settings.paused == '1' then return {'PAUSED'} end
local now = tonumber(nowMs)
if blockCandidates ~= '' and redis.call('EXISTS', blocks) == 1 then
  local candidates = {}
  for candidate in string.gmatch(blockCandidates, '[^,]+') do candidates[#candidates + 1] = candidate end
  for _, expires in ipairs(redis.call('HMGET', blocks, unpack(candidates))) do
    if expires and tonumber(expires) > now then return {'BLOCKED'} end
  end
end
local gate = settings.bot_gate
if gate ~= 'auto' and gate ~= 'pow' and gate ~= 'none' then gate = 'auto' end
local challenged = caller ~= 'server' and (gate == 'pow' or (gate == 'auto' and caller == 'visitor'))
if challenged then
  if answer == '' then return {'CHALLENGE_REQUIRED'} end
  if answer == 'bad' or redis.call('EXISTS', spent) == 1 then return {'CHALLENGE_FAILED'} end
end
local function take(key, rate)
  if rate <= 0 then return 0, nil end
  local held = redis.call('HMGET', key, 'tokens', 'at')
  local at = tonumber(held[2]) or now
  local tokens = math.min(rate, (tonumber(held[1]) or rate) + math.max(0, now - at) * rate / 60000)
  if tokens < 1 then return tokens, tostring(math.ceil((1 - tokens) * 60000 / rate)) end
  return tokens, nil
end
local rate = tonumber(settings.acquire_rate) or 0
local tokens, wait = take(bucket, rate)
if wait then return {'CAPPED', wait, 'app'} end
local ownRate = tonumber(keyRate) or 0
local ownTokens, ownWait = take(keyBucket, ownRate)
if ownWait then return {'CAPPED', ownWait, 'key'} end
local hourly = tonumber(settings.rl_hourly) or -1
if hourly < 0 then hourly = tonumber(defaultHourly) end
local daily = tonumber(settings.rl_daily) or -1
if daily < 0 then daily = tonumber(defaultDaily) end
local usedHour = tonumber(redis.call('GET', hourCounter) or '0')
local usedDay = tonumber(redis.call('GET', dayCounter) or '0')
if hourly > 0 and usedHour >= hourly then
  return {'RATE_LIMITED', 'hourly', hourly, usedHour, daily, usedDay}
end
if daily > 0 and usedDay >= daily then
  return {'RATE_LIMITED', 'daily', hourly, usedHour, daily, usedDay}
end
local id = redis.call('LPOP', ready)
if not id then return {'EMPTY', '', hourly, usedHour, daily, usedDay} end
if rate > 0 then
  redis.call('HSET', bucket, 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', bucket, 120000)
end
if ownRate > 0 then
  redis.call('HSET', keyBucket, 'tokens', tostring(ownTokens - 1), 'at', now)
  redis.call('PEXPIRE', keyBucket, 120000)
end
if challenged then
  redis.call('SET', spent, id, 'PXAT', math.max(now + 1000, tonumber(answer)))
end
local inst = instPrefix .. id
local ttl = tonumber(settings.default_ttl_ms)
local maxExpires = now + (tonumber(settings.max_lifetime_ms) or tonumber(defaultLifetimeMs))
local expires = math.min(now + ttl, maxExpires)
redis.call('HSET', inst, 'state', 'assigned', 'assigned_at', now, 'expires_at', expires, 'client_ip', clientIp,
  'max_expires_at', maxExpires, 'extensions', 0)
redis.call('ZADD', expiry, expires, id)
redis.call('INCR', hourCounter)
redis.call('PEXPIRE', hourCounter, tonumber(hourResetMs) + 1000)
redis.call('INCR', dayCounter)
redis.call('PEXPIRE', dayCounter, tonumber(dayResetMs) + 1000)
local held = redis.call('HMGET', inst, 'created_at', 'cred_user', 'cred_pass', 'cred_path')
local created = held[1] or now
return {'OK', id, hourly, usedHour + 1, daily, usedDay + 1, tostring(created), tostring(expires), tostring(ttl), settings.admin_path,
  tostring(maxExpires), settings.extend_ms, settings.max_extensions or defaultMaxExtensions, settings.cta_label, settings.cta_url,
  held[2] or '', held[3] or '', held[4] or ''}
`,
  decode: (value, fail): AcquireReply => {
    const parts = reply.list(value, fail, "reply");
    const status = parts[0];
    if (
      status === "NO_APP" ||
      status === "PAUSED" ||
      status === "NOT_PUBLIC" ||
      status === "BLOCKED" ||
      status === "CHALLENGE_REQUIRED" ||
      status === "CHALLENGE_FAILED"
    )
      return { status };
    if (status === "CAPPED")
      return { status, retryMs: reply.number(parts[1], fail, "retry"), by: parts[2] === "key" ? "key" : "app" };
    if (status !== "RATE_LIMITED" && status !== "EMPTY" && status !== "OK") return fail("unknown status");
    const hourly = { limit: reply.number(parts[2], fail, "hourly limit"), used: reply.number(parts[3], fail, "hourly use") };
    const daily = { limit: reply.number(parts[4], fail, "daily limit"), used: reply.number(parts[5], fail, "daily use") };
    if (status === "RATE_LIMITED") {
      const window = parts[1] === "daily" ? "daily" : parts[1] === "hourly" ? "hourly" : fail("unknown window");
      return { status, window, hourly, daily };
    }
    if (status === "EMPTY") return { status, hourly, daily };
    return {
      status,
      id: reply.string(parts[1], fail, "id"),
      hourly,
      daily,
      createdAtMs: reply.number(parts[6], fail, "created_at"),
      expiresAtMs: reply.number(parts[7], fail, "expires_at"),
      ttlMs: reply.number(parts[8], fail, "ttl"),
      adminPath: reply.string(parts[9], fail, "admin_path"),
      maxExpiresAtMs: reply.number(parts[10], fail, "max_expires_at"),
      extendMs: reply.number(parts[11], fail, "extend_ms"),
      maxExtensions: reply.number(parts[12], fail, "max_extensions"),
      ctaLabel: reply.string(parts[13], fail, "cta_label"),
      ctaUrl: reply.string(parts[14], fail, "cta_url"),
      signIn: signInOf(parts[15], parts[16], parts[17]),
    };
  },
});

/** Which limit an extension ran into. */
export type ExtendLimit = "max_ttl" | "max_lifetime" | "max_extensions";

export type ExtendReply =
  | { status: "OK"; expiresAtMs: number; extensions: number }
  | { status: "NOT_FOUND" }
  | { status: "NOT_VISITED" }
  | {
      status: "LIMIT";
      limit: ExtendLimit;
      maxTtlMs: number;
      expiresAtMs: number;
      extensions: number;
      maxExtensions: number;
      maxExpiresAtMs: number;
    };

/**
 * Adds time to an assigned instance (`addMs`, or the app's extend step when 0). Three limits: the
 * new remaining time may not exceed the app's max TTL, the instance may not outlive its
 * `max_expires_at` (assignment + max lifetime), and it may not be extended more than the app's
 * `max_extensions` times. With `visitOnly` (a caller without a secret key) and the app's
 * `extend_requires_visit` on, an instance nobody has opened yet (no `visited` mark from the visits
 * reader) is not extended at all.
 */
export const extendScript = defineScript({
  name: "extend",
  keys: ["inst", "expiry", "cfg"],
  args: ["id", "nowMs", "addMs", "defaultMaxTtlMs", "defaultMaxExtensions", "channel", "visitOnly"],
  lua: `
local st = redis.call('HMGET', inst, 'state', 'expires_at', 'extensions', 'max_expires_at', 'visited')
local now = tonumber(nowMs)
if st[1] ~= 'assigned' or tonumber(st[2]) <= now then return {'NOT_FOUND'} end
${cfgLua("cfg", "settings", ["max_ttl_ms", "extend_ms", "max_extensions", "extend_visit"])}
if visitOnly == '1' and settings.extend_visit ~= '0' and st[5] ~= '1' then return {'NOT_VISITED'} end
local maxTtl = tonumber(settings.max_ttl_ms or defaultMaxTtlMs)
local step = tonumber(addMs)
if step <= 0 then step = tonumber(settings.extend_ms) end
local maxExt = tonumber(settings.max_extensions or defaultMaxExtensions)
local used = tonumber(st[3] or '0')
local maxExpires = tonumber(st[4] or '0')
local expires = tonumber(st[2]) + step
local limit = nil
if used >= maxExt then limit = 'max_extensions'
elseif expires - now > maxTtl then limit = 'max_ttl'
elseif maxExpires > 0 and expires > maxExpires then limit = 'max_lifetime' end
if limit then
  return {'LIMIT', limit, tostring(maxTtl), st[2], tostring(used), tostring(maxExt), tostring(maxExpires)}
end
redis.call('HSET', inst, 'expires_at', expires)
local extensions = redis.call('HINCRBY', inst, 'extensions', 1)
redis.call('ZADD', expiry, 'XX', expires, id)
redis.call('PUBLISH', channel, cjson.encode({type = 'extended', id = id, expires_at = expires}))
return {'OK', tostring(expires), tostring(extensions)}
`,
  decode: (value, fail): ExtendReply => {
    const parts = reply.list(value, fail, "reply");
    if (parts[0] === "NOT_FOUND" || parts[0] === "NOT_VISITED") return { status: parts[0] };
    if (parts[0] === "OK") {
      return {
        status: "OK",
        expiresAtMs: reply.number(parts[1], fail, "expires_at"),
        extensions: reply.number(parts[2], fail, "extensions"),
      };
    }
    if (parts[0] === "LIMIT") {
      const limit = parts[1];
      if (limit !== "max_ttl" && limit !== "max_lifetime" && limit !== "max_extensions") return fail("unknown limit");
      return {
        status: "LIMIT",
        limit,
        maxTtlMs: reply.number(parts[2], fail, "max ttl"),
        expiresAtMs: reply.number(parts[3], fail, "expires_at"),
        extensions: reply.number(parts[4], fail, "extensions"),
        maxExtensions: reply.number(parts[5], fail, "max extensions"),
        maxExpiresAtMs: reply.number(parts[6], fail, "max expires_at"),
      };
    }
    return fail("unknown status");
  },
});

/**
 * Lua shared by the scripts that end assigned instances: the abuse trail's entry (who held it, from
 * when to when) is queued on the app's `trail` list before the record goes; a worker moves it to
 * MariaDB (`lib/abuse/trail.ts`). Capped, so a worker outage cannot grow it without bound.
 */
const TRAIL_LUA = `
local function queueTrail(instKey, id, endedMs)
  local held = redis.call('HMGET', instKey, 'state', 'client_ip', 'assigned_at')
  if held[1] == 'assigned' and held[2] then
    redis.call('RPUSH', trail, cjson.encode({id = id, ip = held[2], assigned_at = tonumber(held[3]), ended_at = endedMs}))
    redis.call('LTRIM', trail, -100000, -1)
  end
end
local clock = redis.call('TIME')
local endedNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * Takes an instance out of every list at once and deletes its record. `expectedState` ('' = any)
 * restricts what may be removed; `nowMs` (0 = ignore) refuses an assigned instance already expired
 * (the reaper owns it). Returns the state it had, or null when nothing was removed.
 */
export const removeScript = defineScript({
  name: "remove",
  keys: ["ready", "warming", "expiry", "inst", "trail"],
  args: ["id", "expectedState", "nowMs", "channel", "eventType"],
  lua: `${TRAIL_LUA}
local st = redis.call('HMGET', inst, 'state', 'expires_at')
local state = st[1]
if not state then return false end
if expectedState ~= '' and state ~= expectedState then return false end
local now = tonumber(nowMs)
if now > 0 and state == 'assigned' and tonumber(st[2]) <= now then return false end
redis.call('LREM', ready, 0, id)
redis.call('SREM', warming, id)
redis.call('ZREM', expiry, id)
queueTrail(inst, id, endedNow)
redis.call('DEL', inst)
if state == 'assigned' then
  redis.call('PUBLISH', channel, cjson.encode({type = eventType, id = id}))
end
return state
`,
  decode: (value, fail): InstanceState | null => {
    if (value === null) return null;
    return typeof value === "string" && STATES.includes(value) ? (value as InstanceState) : fail("unknown state");
  },
});

/** Expires assigned instances whose time has passed; each id is returned to one caller only. */
export const expireScript = defineScript({
  name: "expire",
  keys: ["expiry", "trail"],
  args: ["nowMs", "batch", "instPrefix", "channel"],
  lua: `${TRAIL_LUA}
local ids = redis.call('ZRANGEBYSCORE', expiry, '-inf', nowMs, 'LIMIT', 0, tonumber(batch))
for _, id in ipairs(ids) do
  redis.call('ZREM', expiry, id)
  queueTrail(instPrefix .. id, id, endedNow)
  redis.call('DEL', instPrefix .. id)
  redis.call('PUBLISH', channel, cjson.encode({type = 'expired', id = id}))
end
return ids
`,
  decode: (value, fail) => reply.strings(value, fail, "ids"),
});

/** Removes every instance record of a deleted app and its settings mirror; returns their ids. */
export const drainScript = defineScript({
  name: "drain",
  keys: ["ready", "warming", "expiry", "cfg", "trail"],
  args: ["instPrefix", "channel"],
  lua: `${TRAIL_LUA}
local ids = {}
for _, id in ipairs(redis.call('LRANGE', ready, 0, -1)) do table.insert(ids, id) end
for _, id in ipairs(redis.call('SMEMBERS', warming)) do table.insert(ids, id) end
for _, id in ipairs(redis.call('ZRANGE', expiry, 0, -1)) do
  table.insert(ids, id)
  redis.call('PUBLISH', channel, cjson.encode({type = 'expired', id = id}))
end
for _, id in ipairs(ids) do
  queueTrail(instPrefix .. id, id, endedNow)
  redis.call('DEL', instPrefix .. id)
end
redis.call('DEL', ready, warming, expiry, cfg)
return ids
`,
  decode: (value, fail) => reply.strings(value, fail, "ids"),
});

/**
 * Admits one more status stream of a client (ARCHITECTURE.md, "HTTP API"): its open streams are
 * counted per web process in one hash (`process` → count), refused at `max` over all processes.
 * The hash lives `ttlMs` past the latest admit (SSE_MAX_DURATION and a minute: no stream it counts
 * is open longer), so nothing renews it while streams are open; a process that died leaves its
 * count, which the next refused claim removes (`lib/pool/watch.ts`).
 */
export const streamAdmitScript = defineScript({
  name: "streamAdmit",
  keys: ["streams"],
  args: ["process", "max", "ttlMs"],
  lua: `
local total = 0
for _, count in ipairs(redis.call('HVALS', streams)) do total = total + tonumber(count) end
if total >= tonumber(max) then return 0 end
redis.call('HINCRBY', streams, process, 1)
redis.call('PEXPIRE', streams, ttlMs)
return 1
`,
  decode: (value) => value === 1,
});

/** Gives `count` streams' counts back: the process's field goes at zero, the hash with its last field. */
export const streamReleaseScript = defineScript({
  name: "streamRelease",
  keys: ["streams"],
  args: ["process", "count"],
  lua: `
if redis.call('HINCRBY', streams, process, -tonumber(count)) <= 0 then redis.call('HDEL', streams, process) end
return redis.call('HLEN', streams)
`,
  decode: (value) => Number(value),
});

export type SigninReply = { status: "OK" } | { status: "LIMITED"; retryAfterMs: number };

/**
 * Counts one sign-in attempt against the (email, client) pair and the client, unless one of them is
 * already at its limit: then it refuses with the time until that window ends. Counting before the
 * password is checked means concurrent guesses cannot slip past the limit; a success gives its
 * count back (see `lib/admin/sign-in.ts`).
 */
export const signinAttemptScript = defineScript({
  name: "signinAttempt",
  keys: ["pair", "client"],
  args: ["pairMax", "clientMax", "pairWindowMs", "clientWindowMs"],
  lua: `
local pairCount = tonumber(redis.call('GET', pair) or '0')
if pairCount >= tonumber(pairMax) then return {'LIMITED', redis.call('PTTL', pair)} end
local clientCount = tonumber(redis.call('GET', client) or '0')
if clientCount >= tonumber(clientMax) then return {'LIMITED', redis.call('PTTL', client)} end
if redis.call('INCR', pair) == 1 then redis.call('PEXPIRE', pair, pairWindowMs) end
if redis.call('INCR', client) == 1 then redis.call('PEXPIRE', client, clientWindowMs) end
return {'OK'}
`,
  decode: (value, fail): SigninReply => {
    const parts = reply.list(value, fail, "reply");
    if (parts[0] === "OK") return { status: "OK" };
    if (parts[0] === "LIMITED") return { status: "LIMITED", retryAfterMs: Math.max(0, reply.number(parts[1], fail, "pttl")) };
    return fail("unknown status");
  },
});

/** Takes a lease for `owner`, or renews it when `owner` already holds it; true while held. */
/** Gives a lease back, only if `owner` still holds it. */
export const releaseLeaseScript = defineScript({
  name: "release_lease",
  keys: ["lease"],
  args: ["owner"],
  lua: `
if redis.call('GET', lease) == owner then return redis.call('DEL', lease) end
return 0
`,
  decode: (value) => value === 1,
});

export const leaseScript = defineScript({
  name: "lease",
  keys: ["lease"],
  args: ["owner", "ttlMs"],
  lua: `
local holder = redis.call('GET', lease)
if holder and holder ~= owner then return 0 end
redis.call('SET', lease, owner, 'PX', ttlMs)
return 1
`,
  decode: (value) => value === 1,
});

/** Counts one hit in a fixed window (the key expires with it); returns the count so far. */
export const windowCountScript = defineScript({
  name: "windowCount",
  keys: ["counter"],
  args: ["windowMs"],
  lua: `
local n = redis.call('INCR', counter)
if n == 1 then redis.call('PEXPIRE', counter, windowMs) end
return n
`,
  decode: (value, fail) => reply.number(value, fail, "count"),
});

export type ChallengeReply =
  | { status: "NO_APP" }
  | { status: "NOT_PUBLIC" }
  | { status: "RATE_LIMITED" }
  | { status: "OK"; gate: string; difficulty: number };

/**
 * The challenge endpoint's one round trip: the app's gate and difficulty from its mirror, and the
 * client's count of challenges this minute (at most `limit`; a refusal counts too, so a flood
 * gains nothing by retrying).
 */
export const challengeScript = defineScript({
  name: "challenge",
  keys: ["cfg", "counter"],
  args: ["launchOnly", "limit"],
  lua: `
${cfgLua("cfg", "settings", ["default_ttl_ms", "launch_page", "bot_gate", "gate_difficulty"])}
if not settings.default_ttl_ms then return {'NO_APP'} end
if launchOnly == '1' and settings.launch_page ~= '1' then return {'NOT_PUBLIC'} end
local used = redis.call('INCR', counter)
if used == 1 then redis.call('PEXPIRE', counter, 61000) end
if used > tonumber(limit) then return {'RATE_LIMITED'} end
return {'OK', settings.bot_gate, settings.gate_difficulty}
`,
  decode: (value, fail): ChallengeReply => {
    const parts = reply.list(value, fail, "reply");
    const status = parts[0];
    if (status === "NO_APP" || status === "NOT_PUBLIC" || status === "RATE_LIMITED") return { status };
    if (status !== "OK") return fail("unknown status");
    return { status, gate: reply.string(parts[1], fail, "gate"), difficulty: reply.number(parts[2], fail, "difficulty") };
  },
});

/** The visits reader's mark on an instance someone opened (`extend_requires_visit`); never recreates a removed record. */
export const markVisitedScript = defineScript({
  name: "markVisited",
  keys: ["inst"],
  args: [],
  lua: `
if redis.call('EXISTS', inst) == 0 then return 0 end
redis.call('HSET', inst, 'visited', '1')
return 1
`,
  decode: (value) => value === 1,
});
