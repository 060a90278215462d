-- Records the first acknowledgement of a suggestion and announces it on the shard's out stream, in one
-- step, so every gateway node tells its sockets exactly once.
-- KEYS[1]   acks hash of the room           crest:{sN}:ack:<room>
-- KEYS[2]   out stream                      crest:{sN}:out
-- ARGV[1]   suggestion id
-- ARGV[2]   ack JSON
-- ARGV[3]   room
-- ARGV[4]   out-stream update JSON ({type:'ack', ...}) to write when this is the first ack
-- ARGV[5]   out stream approximate max length
-- Returns   {1 if first, stored ack JSON}
local first = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if first == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'r', ARGV[3], 'u', ARGV[4])
end
return {first, redis.call('HGET', KEYS[1], ARGV[1])}
