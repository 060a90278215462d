-- Records one suggestion's delivery decision under the alert rules (server/webhook-rules.ts), once.
-- KEYS[1] the room's quiet state, KEYS[2] the room's decisions hash
-- ARGV[1] state JSON the decision was computed from ('' for none), ARGV[2] new state JSON,
-- ARGV[3] suggestion id, ARGV[4] decision JSON, ARGV[5] TTL (s)
-- Returns the decision that stands: an earlier one for this suggestion, else ARGV[4] once written; false when
-- the state moved meanwhile (the caller recomputes).
local prior = redis.call('HGET', KEYS[2], ARGV[3])
if prior then return prior end
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[5])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return ARGV[4]
