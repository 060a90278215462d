-- Fires one scheduled plan cue: appends its plan record to the room's shard input stream, once. The
-- detector applies it through the pure core (same checkpointed path as events), so this script is the
-- scheduler's whole side effect. Dedupe key: the cue id (KEYS[2]), set here with the XADD, so a job that
-- runs again (a crash before BullMQ marked it done, a re-added job after a restart) writes nothing.
-- A plan deleted or edited since the job was scheduled (version differs) fires nothing.
-- KEYS[1]   plans hash of the room         crest:{sN}:plans:<room>
-- KEYS[2]   fire-once key of the cue        crest:{sN}:pf:<cue id>
-- KEYS[3]   event (input) stream           crest:{sN}:ev
-- ARGV[1]   plan id
-- ARGV[2]   plan version the job is for
-- ARGV[3]   plan record JSON
-- ARGV[4]   fire-once horizon, seconds
-- Returns   1 fired, 0 already fired, -1 plan gone or edited since
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or tonumber(cjson.decode(cur).version) ~= tonumber(ARGV[2]) then
  return -1
end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then
  return 0
end
redis.call('XADD', KEYS[3], '*', 'p', ARGV[3])
return 1
