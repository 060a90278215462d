-- Detector worker presence, so workers can split shards fairly: each live worker beats every lease/3, an
-- entry older than the window is a gone worker. Scores come from the Redis clock (TIME), so workers on
-- machines with skewed clocks still agree on who is live.
-- KEYS[1]   presence sorted set             crest:detectors   (member = worker id, score = last beat, ms)
-- ARGV[1]   worker id
-- ARGV[2]   window, ms (a worker silent this long is not counted)
-- ARGV[3]   'beat' | 'leave'
-- Returns   the number of live workers (the caller included) after a beat; 0 after a leave
if ARGV[3] == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('PEXPIRE', KEYS[1], window * 4)
return redis.call('ZCARD', KEYS[1])
