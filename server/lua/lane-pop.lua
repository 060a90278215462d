-- Removes a finished delivery from its lane if it is the head (a second pop of the same item removes nothing).
-- KEYS[1] lane list, KEYS[2] lane index set
-- ARGV[1] the item JSON that is done, ARGV[2] subscription id
-- Returns the new head, or false when the lane is empty.
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
local nxt = redis.call('LINDEX', KEYS[1], 0)
if not nxt then redis.call('SREM', KEYS[2], ARGV[2]) end
return nxt
