-- Commits one processed batch of a shard atomically, fenced by the lease: the rooms' new states, the
-- stream id they cover, their outputs (out stream), summaries, suggestion logs and chart series.
-- Either all of it lands or none, so a worker that dies anywhere before this call loses nothing and
-- its successor, resuming from the old cursor, reproduces the same outputs exactly once.
-- KEYS[1]   lease                           crest:{sN}:lease
-- KEYS[2]   checkpoint hash                 crest:{sN}:ckpt
-- KEYS[3]   out stream                      crest:{sN}:out
-- KEYS[4]   room summaries hash             crest:{sN}:view
-- KEYS[5]   event stream (trimmed)          crest:{sN}:ev
-- KEYS[6..] per room in ARGV order: suggestions list, series list
-- ARGV[1]   worker id (must hold the lease)
-- ARGV[2]   cursor: last event-stream id this batch covers
-- ARGV[3]   number of events processed in the batch (for the lag counter)
-- ARGV[4]   out stream approximate max length
-- ARGV[5]   event-stream MINID to trim to ('' = no trim); never later than the cursor
-- ARGV[6]   active rooms, JSON array
-- ARGV[7]   outputs, JSON array of [room, update JSON]
-- ARGV[8]   suggestions kept per room, ARGV[9] series points kept per room
-- ARGV[10]  number of rooms R, then 5 per room: room, record JSON, summary JSON ('' = unchanged),
--           new suggestions (JSON array of JSON strings), new series points (JSON array of strings)
-- Returns   1, or the error CREST_LEASE_LOST (nothing written)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('CREST_LEASE_LOST')
end
redis.call('HSET', KEYS[2], '@cursor', ARGV[2], '@active', ARGV[6])
if tonumber(ARGV[3]) > 0 then
  redis.call('HINCRBY', KEYS[2], '@processed', ARGV[3])
end
for _, o in ipairs(cjson.decode(ARGV[7])) do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'r', o[1], 'u', o[2])
end
local keepSug = tonumber(ARGV[8])
local keepSeries = tonumber(ARGV[9])
local rooms = tonumber(ARGV[10])
for i = 0, rooms - 1 do
  local a = 11 + i * 5
  local room = ARGV[a]
  redis.call('HSET', KEYS[2], 'r:' .. room, ARGV[a + 1])
  if ARGV[a + 2] ~= '' then
    redis.call('HSET', KEYS[4], room, ARGV[a + 2])
  end
  local sugKey = KEYS[6 + i * 2]
  local seriesKey = KEYS[7 + i * 2]
  local sugs = cjson.decode(ARGV[a + 3])
  if #sugs > 0 then
    for _, s in ipairs(sugs) do redis.call('LPUSH', sugKey, s) end
    redis.call('LTRIM', sugKey, 0, keepSug - 1)
  end
  local pts = cjson.decode(ARGV[a + 4])
  if #pts > 0 then
    for _, p in ipairs(pts) do redis.call('RPUSH', seriesKey, p) end
    redis.call('LTRIM', seriesKey, -keepSeries, -1)
  end
end
if ARGV[5] ~= '' then
  redis.call('XTRIM', KEYS[5], 'MINID', '~', ARGV[5])
end
return 1
