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
-- ARGV[8]     a JSON array: the D viewers, 2U put items, N and Q members (one argument, not thousands: the
--             client encodes each argument apart, ~3 ms of the detector thread for a 2,000-session slice)
-- Returns     1, or the error CREST_LEASE_LOST (nothing written)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('CREST_LEASE_LOST')
end
redis.call('HSET', KEYS[2], 'w:' .. ARGV[2], '1')
local nClosed, nPut, nUniq, nPay = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local L = cjson.decode(ARGV[8])
-- A slice is a few thousand entries: one call per command and chunk, not one per entry (per-entry calls made a
-- 2,000-session slice a 20-35 ms script, and Redis runs nothing else meanwhile). unpack() is bounded by Lua's C
-- stack (~8,000 values), hence the chunks.
local CHUNK = 4000
-- list[from..last] in chunks (pairs stay whole: CHUNK is even).
local function bulk(cmd, key, list, from, last)
  local k = from
  while k <= last do
    local e = math.min(k + CHUNK - 1, last)
    redis.call(cmd, key, unpack(list, k, e))
    k = e + 1
  end
end
-- The values in hash `key` of the n fields at L[from], L[from + step], ..., in that order (nil: none).
local function hmget(key, from, n, step)
  local out = {}
  local i = 0
  while i < n do
    local e = math.min(i + CHUNK, n)
    local names = {}
    for j = i, e - 1 do names[#names + 1] = L[from + j * step] end
    local vals = redis.call('HMGET', key, unpack(names))
    for j = 1, #names do out[i + j] = vals[j] end
    i = e
  end
  return out
end
local function smismember(key, from, n)
  local out = {}
  local i = 0
  while i < n do
    local e = math.min(i + CHUNK, n)
    local vals = redis.call('SMISMEMBER', key, unpack(L, from + i, from + e - 1))
    for j = 1, #vals do out[i + j] = vals[j] end
    i = e
  end
  return out
end
local p = 1
local mode = ARGV[3]
local putFrom = p + nClosed
local uniqFrom = putFrom + nPut
local payFrom = uniqFrom + nUniq
if mode ~= '' then
  if mode == 'F' then redis.call('UNLINK', KEYS[9], KEYS[10], KEYS[11]) end
  bulk('HDEL', KEYS[9], L, p, putFrom - 1)
  bulk('HSET', KEYS[9], L, putFrom, uniqFrom - 1)
  bulk('SADD', KEYS[10], L, uniqFrom, payFrom - 1)
  bulk('SADD', KEYS[11], L, payFrom, payFrom + nPay - 1)
  return 1
end
local sess, undo = KEYS[3], KEYS[6]
-- The undo log keeps each stored session's value as the last checkpoint left it ('' = none), once per
-- attempt: read before this slice changes anything, written only where the log has no entry yet (as HSETNX
-- per entry did). A viewer listed twice (closed and put) is logged twice with the same value: HSET keeps one.
local nPutV = nPut / 2
local oldClosed = hmget(sess, p, nClosed, 1)
local oldPut = hmget(sess, putFrom, nPutV, 2)
local logClosed = hmget(undo, p, nClosed, 1)
local logPut = hmget(undo, putFrom, nPutV, 2)
local add = {}
for j = 1, nClosed do
  local v = L[p + j - 1]
  if oldClosed[j] and not logClosed[j] then
    add[#add + 1] = v
    add[#add + 1] = oldClosed[j]
  end
end
for j = 1, nPutV do
  local v = L[putFrom + (j - 1) * 2]
  if not logPut[j] then
    add[#add + 1] = v
    add[#add + 1] = oldPut[j] or ''
  end
end
bulk('HSET', undo, add, 1, #add)
bulk('HDEL', sess, L, p, putFrom - 1)
bulk('HSET', sess, L, putFrom, uniqFrom - 1)
-- A member is remembered in the undo set only if this slice added it to the stored set.
for _, set in ipairs({ { KEYS[4], KEYS[7], uniqFrom, nUniq }, { KEYS[5], KEYS[8], payFrom, nPay } }) do
  local key, log, from, n = set[1], set[2], set[3], set[4]
  if n > 0 then
    local member = smismember(key, from, n)
    local fresh = {}
    for j = 1, n do
      if member[j] == 0 then fresh[#fresh + 1] = L[from + j - 1] end
    end
    bulk('SADD', key, fresh, 1, #fresh)
    bulk('SADD', log, fresh, 1, #fresh)
  end
end
return 1
