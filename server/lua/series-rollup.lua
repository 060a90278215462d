-- Rolls one room's 1 s chart series (written by the detector checkpoint) up into 10 s and 1 min buckets, and
-- optionally answers a read of one of them. Idempotent and safe to run from any number of processes at once:
-- a bucket is appended only when it is complete (a later 1 s point exists) and newer than the list's last one,
-- and complete buckets never change (1 s points are appended in event-time order and never rewritten).
-- KEYS[1]   1 s series list      crest:{sN}:series:<room>        "ts,concurrency,gmv,orders[,...]"
-- KEYS[2]   10 s rollup list     crest:{sN}:series-10s:<room>    "start,Σconcurrency,points,peak,gmv,orders"
-- KEYS[3]   1 min rollup list    crest:{sN}:series-1m:<room>     (same)
-- ARGV[1]   10 s buckets kept, ARGV[2] 1 min buckets kept, ARGV[3] rollup lists' TTL, seconds
-- ARGV[4]   '' (roll only), '10s' or '1m': also answer that resolution
-- ARGV[5]   how many complete buckets to answer (newest)
-- Returns   roll only: buckets appended; with a read: { complete buckets (oldest first), partial bucket or '' }
local n = redis.call('LLEN', KEYS[1])
local sizes = { 10000, 60000 }
local lists = { KEYS[2], KEYS[3] }
local keep = { tonumber(ARGV[1]), tonumber(ARGV[2]) }

local function tsOf(line)
  return tonumber(string.match(line, '^([^,]+)'))
end
local function lastBucket(key)
  local last = redis.call('LINDEX', key, -1)
  if not last then return -1 end
  return tsOf(last)
end
local function fmt(b, agg)
  return string.format('%.0f,%.0f,%.0f,%.0f,%.0f,%.0f', b, agg[1], agg[2], agg[3], agg[4], agg[5])
end
-- Adds one 1 s point to agg = { Σ concurrency, points, peak, gmv and orders of the latest point }.
local function add(agg, line)
  local _, conc, gmv, orders = string.match(line, '^([^,]+),([^,]+),([^,]+),([^,]+)')
  conc = tonumber(conc)
  agg[1] = agg[1] + conc
  agg[2] = agg[2] + 1
  if conc > agg[3] then agg[3] = conc end
  agg[4] = tonumber(gmv)
  agg[5] = tonumber(orders)
end

local after = { lastBucket(KEYS[2]), lastBucket(KEYS[3]) }
local appended = 0
local pts = {}
if n > 0 then
  -- Read back from the tail far enough to hold every point of the oldest bucket not rolled yet.
  local need = math.min(after[1] + sizes[1], after[2] + sizes[2])
  if after[1] < 0 or after[2] < 0 then need = -1 end
  local chunk = 128
  while true do
    if chunk > n then chunk = n end
    pts = redis.call('LRANGE', KEYS[1], -chunk, -1)
    if chunk >= n or tsOf(pts[1]) < need then break end
    chunk = chunk * 2
  end
  local lastTs = tsOf(pts[#pts])
  for r = 1, 2 do
    local size = sizes[r]
    local cur, agg = nil, nil
    local out = {}
    for i = 1, #pts do
      local ts = tsOf(pts[i])
      local b = ts - ts % size
      if b > after[r] and b + size <= lastTs then
        if b ~= cur then
          if cur then out[#out + 1] = fmt(cur, agg) end
          cur = b
          agg = { 0, 0, 0, 0, 0 }
        end
        add(agg, pts[i])
      end
    end
    if cur then out[#out + 1] = fmt(cur, agg) end
    if #out > 0 then
      redis.call('RPUSH', lists[r], unpack(out))
      redis.call('LTRIM', lists[r], -keep[r], -1)
      appended = appended + #out
    end
    if #out > 0 or redis.call('EXISTS', lists[r]) == 1 then
      redis.call('EXPIRE', lists[r], tonumber(ARGV[3]))
    end
  end
end

if ARGV[4] == '' then return appended end
local r = 1
if ARGV[4] == '1m' then r = 2 end
local complete = redis.call('LRANGE', lists[r], -tonumber(ARGV[5]), -1)
-- The newest, still-filling bucket: the 1 s points of the newest point's bucket.
local partial = ''
if #pts > 0 then
  local size = sizes[r]
  local lastTs = tsOf(pts[#pts])
  local b = lastTs - lastTs % size
  local agg = { 0, 0, 0, 0, 0 }
  for i = 1, #pts do
    if tsOf(pts[i]) >= b then add(agg, pts[i]) end
  end
  partial = fmt(b, agg)
end
return { complete, partial }
