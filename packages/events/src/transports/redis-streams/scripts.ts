/**
 * Lua scripts of the `redis-streams` transport. Each one changes several keys of one event atomically,
 * so a crash never leaves an event acked without its retry or dead letter. Times come from the Redis
 * server's clock (`TIME`), so replicas with skewed clocks agree on due times. They run with core's
 * `LuaScript` (EVALSHA, falling back to EVAL once).
 */
import { LuaScript } from '@blueprint/core/redis';

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const IDS = `
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local function after(id)
  local ms, seq = parse(id)
  return string.format('%d-%d', ms, seq + 1)
end
local function field(list, name)
  for i = 1, #list, 2 do
    if list[i] == name then return list[i + 1] end
  end
  return nil
end
`;

/** Most entries the trim script walks in one run (beyond, it estimates the cut from the ids' times). */
export const TRIM_SCAN = 100;

/**
 * Appends a batch of encoded envelopes to a stream in one call (one command instead of one per event,
 * and atomic). KEYS: stream. ARGV: the encoded envelopes. Returns how many were added.
 */
export const PUBLISH_BATCH_LUA = `
for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'e', ARGV[i]) end
return #ARGV`;

/**
 * Schedules a retry and acks the failed delivery.
 * KEYS: entry stream, delayed set. ARGV: group, entry id, delay ms, member (`<attempts>\n<envelope>`).
 */
export const retryScript = new LuaScript(`${NOW}
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[4])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1`);

/**
 * Moves due retries to the group's retry stream. KEYS: delayed set, retry stream. ARGV: limit.
 * Returns `{ moved, msUntilNextDue or -1 }`.
 */
export const moveDueScript = new LuaScript(`${NOW}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local sep = string.find(member, '\\n', 1, true)
  redis.call('XADD', KEYS[2], '*', 'a', string.sub(member, 1, sep - 1), 'e', string.sub(member, sep + 1))
  redis.call('ZREM', KEYS[1], member)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = -1
if nxt[2] then wait = math.max(0, tonumber(nxt[2]) - now) end
return { #due, wait }`);

/**
 * Stores a dead letter and acks the delivery. KEYS: entry stream, dead-letter hash.
 * ARGV: group, entry id, dead-letter id, record.
 */
export const deadLetterScript = new LuaScript(`
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1`);

/**
 * Moves a dead letter to its group's retry stream (attempts start over). KEYS: dead-letter hash, retry
 * stream. ARGV: dead-letter id. Returns 0 when there is no such dead letter.
 */
export const replayScript = new LuaScript(`
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return 0 end
local decoded = cjson.decode(record)
redis.call('XADD', KEYS[2], '*', 'a', '0', 'e', decoded.e)
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`);

/**
 * Records completed ids in the inbox, then acks them. KEYS: entry stream, inbox set.
 * ARGV: group, count n, n entry ids, n event ids.
 */
export const ackWithInboxScript = new LuaScript(`${NOW}
local n = tonumber(ARGV[2])
for i = 1, n do redis.call('ZADD', KEYS[2], now, ARGV[2 + n + i]) end
return redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3, 2 + n))`);

/**
 * Trims a stream to about `maxLen` entries without removing any entry that a group has not been given
 * yet or has not acked: the cut is the lowest of the length cut, each group's oldest pending id and the
 * id after each group's last-delivered id. The length cut is exact when at most `scan` entries are in
 * excess, else estimated from the ids' times (entries are spread evenly between the first and the last),
 * so a run never walks more than `scan` entries while Redis waits. In capped mode the length cut wins
 * and the entries removed at or after the safe cut (pending or not delivered to some group, or acked
 * above an older pending entry) are counted in the `dropped` counter.
 * KEYS: stream, counters hash. ARGV: maxLen, capped (1/0), scan. Returns `{ removed, dropped }`.
 */
export const trimScript = new LuaScript(`${IDS}
local maxLen = tonumber(ARGV[1])
local len = redis.call('XLEN', KEYS[1])
if len <= maxLen then return { 0, 0 } end
local excess = len - maxLen
local lengthCut
if excess <= tonumber(ARGV[3]) then
  local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  lengthCut = after(head[#head][1])
else
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  local firstMs = parse(field(info, 'first-entry')[1])
  local lastId = field(info, 'last-entry')[1]
  local lastMs = parse(lastId)
  if maxLen == 0 then lengthCut = after(lastId)
  else lengthCut = string.format('%d-0', firstMs + math.floor((lastMs - firstMs) * excess / len)) end
end
local safe = lengthCut
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local cut = after(field(g, 'last-delivered-id'))
  if tonumber(field(g, 'pending')) > 0 then
    local oldest = redis.call('XPENDING', KEYS[1], field(g, 'name'))[2]
    if oldest and less(oldest, cut) then cut = oldest end
  end
  if less(cut, safe) then safe = cut end
end
if ARGV[2] == '1' and less(safe, lengthCut) then
  local removed = redis.call('XTRIM', KEYS[1], 'MINID', safe)
  local dropped = redis.call('XTRIM', KEYS[1], 'MINID', lengthCut)
  if dropped > 0 then redis.call('HINCRBY', KEYS[2], 'dropped', dropped) end
  return { removed + dropped, dropped }
end
return { redis.call('XTRIM', KEYS[1], 'MINID', '~', safe, 'LIMIT', 0), 0 }`);

/**
 * Forgets inbox ids older than both the retention and the oldest entry the streams still hold.
 * KEYS: stream, retry stream, inbox set. ARGV: retention ms, clock margin ms. Returns ids removed.
 */
export const trimInboxScript = new LuaScript(`${NOW}
local cut = now - tonumber(ARGV[1])
for i = 1, 2 do
  local first = redis.call('XRANGE', KEYS[i], '-', '+', 'COUNT', 1)
  if first[1] then
    local ms = tonumber(string.match(first[1][1], '^(%d+)')) - tonumber(ARGV[2])
    if ms < cut then cut = ms end
  end
end
return redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. cut)`);

/**
 * Deletes consumers of a group that have nothing pending and have not read for a long time (replicas
 * that went away). KEYS: stream. ARGV: group, idle ms, this consumer's name. Returns consumers removed.
 */
export const removeStaleConsumersScript = new LuaScript(`${IDS}
local removed = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name = field(c, 'name')
  if name ~= ARGV[3] and tonumber(field(c, 'pending')) == 0 and tonumber(field(c, 'idle')) > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed = removed + 1
  end
end
return removed`);
