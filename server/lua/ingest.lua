-- Accepts validated events for one or more shards (one group per shard), each group all or nothing: drops
-- ids already seen within the dedupe horizon, appends the rest to the shard's event stream, and counts them
-- so ingest can refuse work when the detector falls too far behind instead of growing without bound.
-- On a standalone Redis one call carries every shard of a request (one script run, one round trip, instead
-- of one per shard); on Redis Cluster a call carries one shard, so all its keys are in that shard's slot.
-- Dedupe memory is one set per shard and time bucket of W = horizon seconds (Redis time), member
-- "<room>:<id>" (a room has no ':'). An id is looked up in the current and the previous bucket, so it is
-- remembered for at least the horizon and less than twice it. One set per bucket instead of one key with
-- a TTL per event: a set lookup per event and one SADD per batch, in place of a key and an expire entry per
-- event (less Redis CPU and memory per event).
-- KEYS, 5 per group g:
--   KEYS[5g-4]  shard event stream                    crest:{sN}:ev
--   KEYS[5g-3]  shard checkpoint hash                 crest:{sN}:ckpt   (@added, @processed, @owed)
--   KEYS[5g-2]  dedupe set of bucket b (current)      crest:{sN}:dd:<b>
--   KEYS[5g-1]  dedupe set of bucket b-1              crest:{sN}:dd:<b-1>
--   KEYS[5g]    dedupe set of bucket b-2 (done with)  crest:{sN}:dd:<b-2>
-- ARGV[1]   bucket width W, seconds (the dedupe horizon)
-- ARGV[2]   b = floor(now / W) as the caller's clock sees it; Redis time decides (see CREST_BUCKET)
-- ARGV[3]   max lag (events added but not yet applied by the detector)
-- ARGV[4]   request id of the ingest call ('' = none): the group's first entry carries it as field `q`, with
--           `qn`, the number of entries the group appended; the detector gives it to those qn entries (they
--           follow one another: this script runs alone), so its outputs, and the webhook deliveries they cause,
--           can name the request (docs/observability.md). Once per group, not per event: an id costs per request.
-- ARGV[4+g] n_g, the number of events of group g (G groups: g = 1..G)
-- ARGV[5+G] a JSON array of every group's n_g dedupe members "<room>:<id>", group after group
-- ARGV[6+G] every group's n_g events (canonical JSON), group after group, joined by "\n" (JSON text never
--           holds a raw newline). Two arguments, not two per event: the client encodes each argument apart,
--           the largest part of the API thread's cost of a call (server/lua/json-argument.ts); the events are
--           split here rather than decoded from JSON, which would escape and unescape every quote in them.
-- Returns   per group: an array with 1 (accepted) or 0 (duplicate) per event, or the string
--           "CREST_LAG <lag>" when that shard's backlog is over the limit (nothing of the group written).
--           Or the error "CREST_BUCKET <b>" (nothing written at all) when Redis time is in another bucket
--           than the caller's: the caller resends with that b. The bucket comes from Redis, never from
--           the caller's clock, so API processes with skewed clocks still share one current/previous pair.
local width = tonumber(ARGV[1])
local now = redis.call('TIME')
local bucket = math.floor(tonumber(now[1]) / width)
if bucket ~= tonumber(ARGV[2]) then
  return redis.error_reply('CREST_BUCKET ' .. bucket)
end
local maxLag = tonumber(ARGV[3])
local rid = ARGV[4]
local groups = #KEYS / 5
local members = cjson.decode(ARGV[5 + groups])
local total = #members
-- The events in order: total - 1 newlines exactly, or the call is malformed (an event with a raw newline).
local E, text, pos, find, sub = {}, ARGV[6 + groups], 1, string.find, string.sub
for i = 1, total - 1 do
  local nl = find(text, '\n', pos, true)
  if not nl then return redis.error_reply('CREST_ARGS events') end
  E[i] = sub(text, pos, nl - 1)
  pos = nl + 1
end
E[total] = sub(text, pos)
if find(E[total], '\n', 1, true) then return redis.error_reply('CREST_ARGS events') end

-- unpack() is bounded by Lua's C stack (~8000 values): large groups are looked up in slices.
local SLICE = 1000
local function lookup(key, from, n)
  if n <= SLICE then return redis.call('SMISMEMBER', key, unpack(members, from, from + n - 1)) end
  local all = {}
  for s = from, from + n - 1, SLICE do
    local r = redis.call('SMISMEMBER', key, unpack(members, s, math.min(s + SLICE - 1, from + n - 1)))
    for j = 1, #r do all[#all + 1] = r[j] end
  end
  return all
end

local results = {}
local at = 1 -- first member and event of the current group, in members and E
for g = 1, groups do
  local k = (g - 1) * 5
  local stream, ckpt, cur = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  local n = tonumber(ARGV[4 + g])
  -- @owed: applied by the detector, waiting only for a deferred room summary (workers/detector-worker.ts)
  local ck = redis.call('HMGET', ckpt, '@added', '@processed', '@owed')
  local lag = (tonumber(ck[1]) or 0) - (tonumber(ck[2]) or 0) - (tonumber(ck[3]) or 0)
  if lag > maxLag then
    results[g] = 'CREST_LAG ' .. lag
  else
    local inCur, inPrev = lookup(cur, at, n), lookup(KEYS[k + 4], at, n)
    local out, fresh, inBatch, events = {}, {}, {}, {}
    for i = 1, n do
      local member = members[at + i - 1]
      if inCur[i] == 1 or inPrev[i] == 1 or inBatch[member] then
        out[i] = 0
      else
        inBatch[member] = true
        fresh[#fresh + 1] = member
        events[#events + 1] = E[at + i - 1]
        out[i] = 1
      end
    end
    for j = 1, #events do
      if j == 1 and rid ~= '' then
        redis.call('XADD', stream, '*', 'e', events[1], 'q', rid, 'qn', #events)
      else
        redis.call('XADD', stream, '*', 'e', events[j])
      end
    end
    if #fresh > 0 then
      for s = 1, #fresh, SLICE do
        redis.call('SADD', cur, unpack(fresh, s, math.min(s + SLICE - 1, #fresh)))
      end
      -- Bucket b is looked up until the end of bucket b+1. Writes in bucket b UNLINK bucket b-2 (a big set
      -- is freed off the main thread, where an expiry would free it synchronously and stall Redis; a no-op
      -- lookup once it is gone); the expiry, one bucket later still, only reclaims the sets of a shard that
      -- went quiet. NX: the expiry is set (and written to the AOF) once per bucket, not once per batch.
      redis.call('EXPIREAT', cur, (bucket + 3) * width, 'NX')
      redis.call('UNLINK', KEYS[k + 5])
      redis.call('HINCRBY', ckpt, '@added', #fresh)
    end
    results[g] = out
  end
  at = at + n
end
return results
