-- Appends one delivery to its subscription's lane unless it was pushed before (server/webhook-lanes.ts).
-- KEYS[1] dedupe key of the item, KEYS[2] lane list, KEYS[3] lane index set (one hash tag: one slot)
-- ARGV[1] item JSON, ARGV[2] dedupe TTL (s), ARGV[3] subscription id
-- Returns the lane length after the push (1: the item is the head and needs its job); 0 for a repeat.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
local n = redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[3])
return n
