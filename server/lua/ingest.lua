-- Accepts a batch of validated events for ONE shard, all or nothing: drops ids already seen within the
-- dedupe horizon, appends the rest to the shard's event stream, and counts them so ingest can refuse
-- work (429) when the detector falls too far behind instead of growing without bound.
-- KEYS[1]   shard event stream              crest:{sN}:ev
-- KEYS[2]   shard checkpoint hash           crest:{sN}:ckpt   (@added, @processed)
-- KEYS[3..] one dedupe key per event        crest:{sN}:dd:<room>:<id>
-- ARGV[1]   dedupe horizon, seconds
-- ARGV[2]   max lag (events added but not yet processed)
-- ARGV[3..] one event (JSON) per dedupe key, same order
-- Returns   array with 1 (accepted) or 0 (duplicate) per event, or the error "CREST_LAG <lag>"
local added = tonumber(redis.call('HGET', KEYS[2], '@added') or '0')
local processed = tonumber(redis.call('HGET', KEYS[2], '@processed') or '0')
local lag = added - processed
if lag > tonumber(ARGV[2]) then
  return redis.error_reply('CREST_LAG ' .. lag)
end
local out = {}
local n = 0
for i = 3, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
    n = n + 1
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if n > 0 then
  redis.call('HINCRBY', KEYS[2], '@added', n)
end
return out
