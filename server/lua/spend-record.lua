-- Adds one ad-spend point when a room's cumulative spend rose since the last tick seen (server/webhook-spend.ts).
-- KEYS[1] the room's spend list, KEYS[2] last-seen hash
-- ARGV[1] room, ARGV[2] tick ts, ARGV[3] cumulative ad spend, ARGV[4] points kept, ARGV[5] TTL (s)
-- Returns 1 when a point was added. A lower cumulative is a new stream: its whole cumulative is the rise.
local ts = tonumber(ARGV[2])
local cum = tonumber(ARGV[3])
local last = redis.call('HGET', KEYS[2], ARGV[1])
local added = 0
if last then
  local sep = string.find(last, ',', 1, true)
  local lts = tonumber(string.sub(last, 1, sep - 1))
  local lcum = tonumber(string.sub(last, sep + 1))
  if ts <= lts then return 0 end
  -- A lower cumulative means a new stream (totals restart at stream.start): all of it is new spend.
  local rise = cum - lcum
  if cum < lcum then rise = cum end
  if rise > 0 then
    redis.call('RPUSH', KEYS[1], ARGV[2] .. ',' .. string.format('%.0f', rise))
    redis.call('LTRIM', KEYS[1], -tonumber(ARGV[4]), -1)
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    added = 1
  end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ',' .. ARGV[3])
return added
