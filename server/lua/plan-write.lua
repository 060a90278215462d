-- Creates, edits or deletes one planned moment, with an optimistic version check, and in the same step
-- tells every view (out stream) and the detector (a `cancel` plan record in the input stream, so a moment
-- already in its build-up stops being watched). Keys share the room's shard tag: one Cluster slot.
-- KEYS[1]   plans hash of the room         crest:{sN}:plans:<room>
-- KEYS[2]   shard's rooms-with-plans set   crest:{sN}:plan-rooms
-- KEYS[3]   out stream                     crest:{sN}:out
-- KEYS[4]   event (input) stream           crest:{sN}:ev
-- ARGV[1]   plan id
-- ARGV[2]   version the caller read (0 = the plan must not exist yet)
-- ARGV[3]   new plan JSON ('' = delete)
-- ARGV[4]   room
-- ARGV[5]   out-stream update JSON
-- ARGV[6]   cancel record JSON for the input stream ('' = none)
-- ARGV[7]   out stream approximate max length
-- ARGV[8]   max plans per room
-- Returns   {1, previous JSON or ''} | {0, 'conflict', current version} | {0, 'too-many'}
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local curVersion = 0
if cur then
  curVersion = tonumber(cjson.decode(cur).version)
end
if curVersion ~= tonumber(ARGV[2]) then
  return {0, 'conflict', curVersion}
end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  if redis.call('HLEN', KEYS[1]) == 0 then
    redis.call('SREM', KEYS[2], ARGV[4])
  end
else
  if not cur and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[8]) then
    return {0, 'too-many'}
  end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[4])
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'r', ARGV[4], 'u', ARGV[5])
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[4], '*', 'p', ARGV[6])
end
return {1, cur or ''}
