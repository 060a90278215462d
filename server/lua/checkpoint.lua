-- Commits one processed batch of a shard atomically, fenced by the lease: the output mark (cursor) with
-- every output of the entries up to it (out stream, summaries, suggestion logs, chart series), and the room
-- states that are due, each carrying its own cursor (see the invariant in workers/detector-worker.ts).
-- Either all of it lands or none, so a worker that dies anywhere before this call loses nothing and its
-- successor, replaying from the oldest room state, reproduces the same outputs and commits them once.
-- KEYS[1]   lease                           crest:{sN}:lease
-- KEYS[2]   checkpoint hash                 crest:{sN}:ckpt
-- KEYS[3]   out stream                      crest:{sN}:out
-- KEYS[4]   room summaries hash             crest:{sN}:view
-- KEYS[5]   event stream (trimmed)          crest:{sN}:ev
-- KEYS[6..] per room in ARGV order: suggestions list, series list, sessions hash, unique-viewer set, payer set
-- then, per room with the flag 'w' in ARGV order, the six keys of its sliced checkpoint: sessions-undo,
--           unique-undo, payers-undo, sessions-fresh, unique-fresh, payers-fresh (checkpoint-slice.lua)
-- ARGV[1]   worker id (must hold the lease)
-- ARGV[2]   cursor: every output of the stream entries up to this id is in this commit or an earlier one
-- ARGV[3]   events that move to @processed: their effect shows in the views with this commit (the lag counter)
-- ARGV[4]   out stream approximate max length
-- ARGV[5]   event-stream MINID to trim to; never later than the oldest room-state cursor
-- ARGV[6]   active rooms, JSON array ('' = unchanged)
-- ARGV[7]   suggestions kept per room, ARGV[8] series points kept per room
-- ARGV[9]   number of rooms R, ARGV[10] number of outputs O
-- ARGV[11]  change of @owed: events applied whose room summaries are deferred (in @owed until a later commit
--           writes the summary and moves them to @processed), so "caught up" always means the views show every event
-- then 10 per room: room, record JSON ('' = unchanged), summary JSON ('' = unchanged),
--           number of new suggestions S, number of new series points P, then the per-viewer delta written with
--           the record (core/room-parts.ts): flags ('r' reset: drop all three first, 'u' / 'p' drop the unique /
--           payer set, 'w' this ends a sliced checkpoint: its undo log goes, 'f' with 'r': its fresh keys replace
--           the dropped parts), number of closed sessions D, of put items 2U (viewer, session), of new unique
--           members N, of new payers Q
-- then, room by room, its S suggestion JSONs, P series points, D viewers, 2U put items, N and Q members
-- then O pairs: room, out-stream update JSON
-- Returns   the shard's backlog afterwards: events added but not applied (@added - @processed - @owed), or
--           the error CREST_LEASE_LOST (nothing written)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('CREST_LEASE_LOST')
end
local counts = redis.call('HMGET', KEYS[2], '@added', '@processed', '@owed')
local backlog = tonumber(counts[1] or '0') - tonumber(counts[2] or '0') - tonumber(counts[3] or '0') - tonumber(ARGV[3]) - tonumber(ARGV[11])
redis.call('HSET', KEYS[2], '@cursor', ARGV[2])
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[2], '@active', ARGV[6])
end
if tonumber(ARGV[3]) ~= 0 then
  redis.call('HINCRBY', KEYS[2], '@processed', ARGV[3])
end
if tonumber(ARGV[11]) ~= 0 then
  redis.call('HINCRBY', KEYS[2], '@owed', ARGV[11])
end
local keepSug = tonumber(ARGV[7])
local keepSeries = tonumber(ARGV[8])
local rooms = tonumber(ARGV[9])
local outputs = tonumber(ARGV[10])
-- unpack() is bounded by Lua's C stack (~8,000 values): big deltas go in chunks.
local CHUNK = 4000
local function bulk(cmd, key, from, n)
  local k = from
  local last = from + n - 1
  while k <= last do
    local e = math.min(k + CHUNK - 1, last)
    redis.call(cmd, key, unpack(ARGV, k, e))
    k = e + 1
  end
end
local p = 12 + rooms * 10
local sliced = 6 + rooms * 5
for i = 0, rooms - 1 do
  local a = 12 + i * 10
  local room = ARGV[a]
  if ARGV[a + 1] ~= '' then
    redis.call('HSET', KEYS[2], 'r:' .. room, ARGV[a + 1])
  end
  if ARGV[a + 2] ~= '' then
    redis.call('HSET', KEYS[4], room, ARGV[a + 2])
  end
  local nSug = tonumber(ARGV[a + 3])
  local nPts = tonumber(ARGV[a + 4])
  if nSug > 0 then
    local sugKey = KEYS[6 + i * 5]
    for k = p, p + nSug - 1 do redis.call('LPUSH', sugKey, ARGV[k]) end
    redis.call('LTRIM', sugKey, 0, keepSug - 1)
    p = p + nSug
  end
  if nPts > 0 then
    local seriesKey = KEYS[7 + i * 5]
    bulk('RPUSH', seriesKey, p, nPts)
    redis.call('LTRIM', seriesKey, -keepSeries, -1)
    p = p + nPts
  end
  local flags = ARGV[a + 5]
  local sessKey, uniqKey, payKey = KEYS[8 + i * 5], KEYS[9 + i * 5], KEYS[10 + i * 5]
  -- UNLINK: a big room's parts are freed off Redis's main thread.
  local reset = string.find(flags, 'r', 1, true)
  if reset then redis.call('UNLINK', sessKey, uniqKey, payKey) end
  if string.find(flags, 'w', 1, true) then
    -- The slices were written on top of the parts (their undo log is void now) or, with a reset, to the fresh keys.
    if reset and string.find(flags, 'f', 1, true) then
      local mains = { sessKey, uniqKey, payKey }
      for k = 0, 2 do
        local fresh = KEYS[sliced + 3 + k]
        if redis.call('EXISTS', fresh) == 1 then redis.call('RENAME', fresh, mains[k + 1]) end
      end
    end
    redis.call('UNLINK', KEYS[sliced], KEYS[sliced + 1], KEYS[sliced + 2], KEYS[sliced + 3], KEYS[sliced + 4], KEYS[sliced + 5])
    redis.call('HDEL', KEYS[2], 'w:' .. room)
    sliced = sliced + 6
  end
  if string.find(flags, 'u', 1, true) then redis.call('UNLINK', uniqKey) end
  if string.find(flags, 'p', 1, true) then redis.call('UNLINK', payKey) end
  local nClosed, nPut, nUniq, nPay = tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8]), tonumber(ARGV[a + 9])
  if nClosed > 0 then bulk('HDEL', sessKey, p, nClosed) end
  p = p + nClosed
  if nPut > 0 then bulk('HSET', sessKey, p, nPut) end
  p = p + nPut
  if nUniq > 0 then bulk('SADD', uniqKey, p, nUniq) end
  p = p + nUniq
  if nPay > 0 then bulk('SADD', payKey, p, nPay) end
  p = p + nPay
end
for k = 0, outputs - 1 do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'r', ARGV[p + k * 2], 'u', ARGV[p + k * 2 + 1])
end
local minId = ARGV[5]
-- The archiver (workers/archiver.ts) keeps '@archived' = "<cursor> <hold-until ms>": while the hold lasts,
-- nothing it has not read yet is trimmed (an archiver down for longer than the hold no longer holds retention).
local archived = redis.call('HGET', KEYS[2], '@archived')
if minId ~= '' and archived then
  local aid, holdUntil = string.match(archived, '^(%d+%-%d+) (%d+)$')
  local now = redis.call('TIME')
  if aid and tonumber(holdUntil) > tonumber(now[1]) * 1000 then
    local am, as = string.match(aid, '^(%d+)-(%d+)$')
    local mm, ms = string.match(minId, '^(%d+)-(%d+)$')
    if mm and (tonumber(am) < tonumber(mm) or (tonumber(am) == tonumber(mm) and tonumber(as) < tonumber(ms))) then
      minId = aid
    end
  end
end
if minId ~= '' then
  redis.call('XTRIM', KEYS[5], 'MINID', '~', minId)
end
return backlog
