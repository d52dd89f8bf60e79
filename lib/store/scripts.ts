/**
 * The Lua scripts of the pool (DESIGN §4). Each is one round trip and atomic; all keys of a call
 * share the app's hash tag. Instance hashes are addressed as `instPrefix .. id` inside a script
 * because the id is only known there (same slot, so Cluster-safe). Times are epoch milliseconds.
 */

/**
 * KEYS: ready, warming, expiry, inst, cfg. ARGV: target, max, nowMs, workerId, id.
 * Adds a warming record only below target and max, and only while the app exists (a drain deletes cfg).
 */
export const RESERVE = `
if redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
local ready = redis.call('LLEN', KEYS[1])
local warming = redis.call('SCARD', KEYS[2])
local assigned = redis.call('ZCARD', KEYS[3])
if ready + warming >= tonumber(ARGV[1]) then return 0 end
if ready + warming + assigned >= tonumber(ARGV[2]) then return 0 end
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
redis.call('SADD', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[4], 'state', 'warming', 'created_at', ARGV[3], 'worker', ARGV[4])
return 1
`;

/** KEYS: inst. ARGV: containerId, hostPort. Records the container of a warming instance. */
export const ATTACH = `
if redis.call('HGET', KEYS[1], 'state') ~= 'warming' then return 0 end
redis.call('HSET', KEYS[1], 'container_id', ARGV[1], 'host_port', ARGV[2])
return 1
`;

/** KEYS: warming, ready, inst. ARGV: id, nowMs. warming → ready; 0 when the record went away meanwhile. */
export const READY = `
if redis.call('HGET', KEYS[3], 'state') ~= 'warming' then return 0 end
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], 'state', 'ready', 'ready_at', ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS: ready, expiry, cfg, hourCounter, dayCounter.
 * ARGV: nowMs, clientIp, defaultHourly, defaultDaily, hourResetMs, dayResetMs, instPrefix.
 * Checks the per-IP limits, pops the oldest ready id, assigns it and counts the IP.
 * An empty pool consumes no quota. Returns {status, ...}.
 */
export const ACQUIRE = `
local cfg = redis.call('HMGET', KEYS[3], 'default_ttl_ms', 'rl_hourly', 'rl_daily', 'admin_path')
if not cfg[1] then return {'NO_APP'} end
local now = tonumber(ARGV[1])
local hourly = tonumber(cfg[2]) or -1
if hourly < 0 then hourly = tonumber(ARGV[3]) end
local daily = tonumber(cfg[3]) or -1
if daily < 0 then daily = tonumber(ARGV[4]) end
local usedHour = tonumber(redis.call('GET', KEYS[4]) or '0')
local usedDay = tonumber(redis.call('GET', KEYS[5]) or '0')
local limits = {hourly, usedHour, tonumber(ARGV[5]), daily, usedDay, tonumber(ARGV[6])}
if hourly > 0 and usedHour >= hourly then
  return {'RATE_LIMITED', 'hourly', unpack(limits)}
end
if daily > 0 and usedDay >= daily then
  return {'RATE_LIMITED', 'daily', unpack(limits)}
end
local id = redis.call('LPOP', KEYS[1])
if not id then return {'EMPTY', '', unpack(limits)} end
local inst = ARGV[7] .. id
local ttl = tonumber(cfg[1])
local expires = now + ttl
redis.call('HSET', inst, 'state', 'assigned', 'assigned_at', now, 'expires_at', expires, 'client_ip', ARGV[2])
redis.call('ZADD', KEYS[2], expires, id)
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[5]) + 1000)
redis.call('INCR', KEYS[5])
redis.call('PEXPIRE', KEYS[5], tonumber(ARGV[6]) + 1000)
limits[2] = usedHour + 1
limits[5] = usedDay + 1
local created = redis.call('HGET', inst, 'created_at') or now
-- (unpack expands only in the last position of a table constructor, so the limits are spelled out)
return {'OK', id, limits[1], limits[2], limits[3], limits[4], limits[5], limits[6],
  tostring(created), tostring(expires), tostring(ttl), cfg[4] or '/'}
`;

/**
 * KEYS: inst, expiry, cfg. ARGV: id, nowMs, addMs, defaultMaxTtlMs, channel.
 * The new remaining time may not exceed the app's max TTL.
 */
export const EXTEND = `
local st = redis.call('HMGET', KEYS[1], 'state', 'expires_at')
local now = tonumber(ARGV[2])
if st[1] ~= 'assigned' or tonumber(st[2]) <= now then return {'NOT_FOUND'} end
local maxTtl = tonumber(redis.call('HGET', KEYS[3], 'max_ttl_ms') or ARGV[4])
local expires = tonumber(st[2]) + tonumber(ARGV[3])
if expires - now > maxTtl then return {'MAX_TTL_EXCEEDED', tostring(maxTtl), st[2]} end
redis.call('HSET', KEYS[1], 'expires_at', expires)
redis.call('ZADD', KEYS[2], 'XX', expires, ARGV[1])
redis.call('PUBLISH', ARGV[5], cjson.encode({type = 'extended', id = ARGV[1], expires_at = expires}))
return {'OK', tostring(expires)}
`;

/**
 * KEYS: ready, warming, expiry, inst. ARGV: id, expectedState ('' = any), nowMs (0 = ignore expiry),
 * channel, eventType. Takes an instance out of every list at once and deletes its record.
 * Returns the state it had, or false when it was absent, in another state, or already expired.
 */
export const REMOVE = `
local st = redis.call('HMGET', KEYS[4], 'state', 'expires_at')
local state = st[1]
if not state then return false end
if ARGV[2] ~= '' and state ~= ARGV[2] then return false end
local now = tonumber(ARGV[3])
if now > 0 and state == 'assigned' and tonumber(st[2]) <= now then return false end
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4])
if state == 'assigned' then
  redis.call('PUBLISH', ARGV[4], cjson.encode({type = ARGV[5], id = ARGV[1]}))
end
return state
`;

/** KEYS: expiry. ARGV: nowMs, batch, instPrefix, channel. Expires assigned instances whose time has passed. */
export const EXPIRE = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', ARGV[3] .. id)
  redis.call('PUBLISH', ARGV[4], cjson.encode({type = 'expired', id = id}))
end
return ids
`;

/** KEYS: ready, warming, expiry, cfg. ARGV: instPrefix, channel. Removes every instance of a deleted app. */
export const DRAIN = `
local ids = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do table.insert(ids, id) end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do table.insert(ids, id) end
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  table.insert(ids, id)
  redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'expired', id = id}))
end
for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return ids
`;

/**
 * KEYS: streams (a sorted set per client address: member → lease deadline). ARGV: nowMs, member,
 * leaseMs, max. Admits a status stream while the client holds fewer than max live ones across every
 * web process; leases of a process that died lapse on their own.
 */
export const STREAM_ADMIT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

export const SCRIPTS = {
  tinReserve: { lua: RESERVE, keys: 5 },
  tinAttach: { lua: ATTACH, keys: 1 },
  tinReady: { lua: READY, keys: 3 },
  tinAcquire: { lua: ACQUIRE, keys: 5 },
  tinExtend: { lua: EXTEND, keys: 3 },
  tinRemove: { lua: REMOVE, keys: 4 },
  tinExpire: { lua: EXPIRE, keys: 1 },
  tinDrain: { lua: DRAIN, keys: 4 },
  tinStreamAdmit: { lua: STREAM_ADMIT, keys: 1 },
} as const;
export type ScriptName = keyof typeof SCRIPTS;
