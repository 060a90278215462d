-- One slice of a big room's per-viewer delta, written before the checkpoint.lua call that ends the sliced
-- checkpoint with the room's JSON and the stream id it covers (docs/big-rooms.md, "Sliced checkpoints"), so
-- that no single step — on the detector thread or in Redis — handles more than a slice. Fenced by the lease.
-- Until that call, what a restore reads must still be the parts of the LAST checkpoint: the slices reflect a
-- later state (events keep coming between slices), and replaying the stream from the old covered id on top
-- of partly newer entries is not exact (a newer session would be counted twice, a newer `seen` would move
-- its expiry, a newer member would not match the old counts). Hence the undo log: before a slice changes a
-- stored session, its value as the last checkpoint left it ('' = none) is kept (HSETNX: only the first
-- change of an attempt counts); a member the slice adds is remembered. A successor finds `w:<room>` set and
-- undoes the log (checkpoint-undo.lua) before it reads the parts; checkpoint.lua drops the log with the JSON.
-- A pending reset (a stream began, an older checkpoint upgraded) drops every stored part when the JSON is
-- written, so its slices go to fresh keys that replace the stored ones then; until then nothing reads them.
-- KEYS[1]     lease                        crest:{sN}:lease
-- KEYS[2]     checkpoint hash              crest:{sN}:ckpt (field w:<room>)
-- KEYS[3..5]  sessions hash, unique-viewer set, payer set
-- KEYS[6..8]  their undo log: sessions-undo hash, unique-undo set, payers-undo set
-- KEYS[9..11] their fresh keys: sessions-fresh hash, unique-fresh set, payers-fresh set
-- ARGV[1]     worker id (must hold the lease)
-- ARGV[2]     room
-- ARGV[3]     '' on top of the stored parts (with the undo log); 'f' into the fresh keys; 'F' into the fresh
--             keys, emptied first (slices before a second reset are void)
-- ARGV[4..7]  number of closed sessions D, of put items 2U (viewer, session), of new unique members N, of new payers Q
-- ARGV[8..]   the D viewers, 2U put items, N and Q members
-- Returns     1, or the error CREST_LEASE_LOST (nothing written)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('CREST_LEASE_LOST')
end
redis.call('HSET', KEYS[2], 'w:' .. ARGV[2], '1')
local nClosed, nPut, nUniq, nPay = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local p = 8
local mode = ARGV[3]
if mode ~= '' then
  if mode == 'F' then redis.call('UNLINK', KEYS[9], KEYS[10], KEYS[11]) end
  for k = p, p + nClosed - 1 do redis.call('HDEL', KEYS[9], ARGV[k]) end
  p = p + nClosed
  for k = p, p + nPut - 1, 2 do redis.call('HSET', KEYS[9], ARGV[k], ARGV[k + 1]) end
  p = p + nPut
  for k = p, p + nUniq - 1 do redis.call('SADD', KEYS[10], ARGV[k]) end
  p = p + nUniq
  for k = p, p + nPay - 1 do redis.call('SADD', KEYS[11], ARGV[k]) end
  return 1
end
local sess, undo = KEYS[3], KEYS[6]
for k = p, p + nClosed - 1 do
  local v = ARGV[k]
  local old = redis.call('HGET', sess, v)
  if old then
    redis.call('HSETNX', undo, v, old)
    redis.call('HDEL', sess, v)
  end
end
p = p + nClosed
for k = p, p + nPut - 1, 2 do
  local v = ARGV[k]
  redis.call('HSETNX', undo, v, redis.call('HGET', sess, v) or '')
  redis.call('HSET', sess, v, ARGV[k + 1])
end
p = p + nPut
for k = p, p + nUniq - 1 do
  if redis.call('SADD', KEYS[4], ARGV[k]) == 1 then redis.call('SADD', KEYS[7], ARGV[k]) end
end
p = p + nUniq
for k = p, p + nPay - 1 do
  if redis.call('SADD', KEYS[5], ARGV[k]) == 1 then redis.call('SADD', KEYS[8], ARGV[k]) end
end
return 1
