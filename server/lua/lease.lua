-- Takes, renews or gives up a shard lease, so that one detector worker at a time processes a shard.
-- KEYS[1]   lease key                       crest:{sN}:lease
-- ARGV[1]   worker id
-- ARGV[2]   lease length, ms
-- ARGV[3]   'acquire' | 'renew' | 'release'
-- Returns   1 when the caller holds the lease afterwards (acquire/renew) or released it, else 0
local owner = redis.call('GET', KEYS[1])
if ARGV[3] == 'release' then
  if owner == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
  return 0
end
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if ARGV[3] == 'acquire' and not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
