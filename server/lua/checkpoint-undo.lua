-- Undoes a sliced checkpoint that never ended (its worker died or lost the lease between slices:
-- checkpoint-slice.lua), one SCAN page per call, so the stored parts are again exactly those of the room's
-- last checkpoint, which its JSON and covered stream id describe. Run by the lease holder before it reads the
-- parts. Idempotent: the log holds committed values, so a page applied twice (a successor that died while
-- undoing) changes nothing more. Fenced by the lease.
-- KEYS[1..11] as checkpoint-slice.lua: lease, checkpoint hash, sessions, unique, payers, their undo log, their fresh keys
-- ARGV[1]     worker id (must hold the lease)
-- ARGV[2]     room
-- ARGV[3]     which log: 's' sessions, 'u' unique, 'p' payers; 'end' drops the log and the fresh keys and the w:<room> mark
-- ARGV[4]     SCAN cursor, ARGV[5] SCAN COUNT
-- Returns     the next SCAN cursor ('0': that log is done; 'end': '0'), or the error CREST_LEASE_LOST
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('CREST_LEASE_LOST')
end
local which = ARGV[3]
if which == 'end' then
  redis.call('UNLINK', KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11])
  redis.call('HDEL', KEYS[2], 'w:' .. ARGV[2])
  return '0'
end
if which == 's' then
  local page = redis.call('HSCAN', KEYS[6], ARGV[4], 'COUNT', ARGV[5])
  local items = page[2]
  for k = 1, #items, 2 do
    if items[k + 1] == '' then redis.call('HDEL', KEYS[3], items[k])
    else redis.call('HSET', KEYS[3], items[k], items[k + 1]) end
  end
  return page[1]
end
local set = which == 'u' and KEYS[4] or KEYS[5]
local log = which == 'u' and KEYS[7] or KEYS[8]
local page = redis.call('SSCAN', log, ARGV[4], 'COUNT', ARGV[5])
for _, m in ipairs(page[2]) do redis.call('SREM', set, m) end
return page[1]
