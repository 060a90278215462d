/**
 * Big room, the real path: one room ramped to `--sessions` open viewer sessions (default 1,000,000; QUICK
 * 50,000) beside 999 normal rooms, through a private redis-server, ingest.lua (bench/support/big-room-feed.ts)
 * and the detector worker (workers/detector-worker.ts, its sliced checkpoints) alone in its own process
 * (bench/support/detector-child.ts), which is killed with SIGKILL twice: at `--kill-at` of the ramp (0.5;
 * 0 = not) and once the room is full. Reports the big room's checkpoint bytes (JSON, per slice), the
 * detector's longest event-loop stall while it ramps (monitorEventLoopDelay) and its longest slice step
 * (stats.longestSliceMs), event→output-published p99 of the other rooms while it ramps (each gets `--trickle`
 * events/s), RSS added by the big room, restore time after each kill (HSCAN + restoreRoom) and whether every
 * figure is exact afterwards (against bench/support/big-room-sale.ts's reference).
 *   node --import tsx bench/big-room.ts [--quick] [--sessions N] [--rate 10000] [--trickle 2] [--kill-at 0.5] [--lease-ms 5000]
 * Two settings differ from a default deployment, both so that a 1M room can exist at all: the room's state is
 * seeded with a session cap of 2 × N (DEFAULT_LIMITS.maxSessions is 200,000 and no setting raises it) and
 * CREST_VIEWER_IDLE_MS is an hour (a ramp of minutes would otherwise idle its first viewers out).
 */
import { Redis } from 'ioredis';
import { loadConfig } from '../config/config.ts';
import { createRoomState } from '../core/engine.ts';
import { shardOf } from '../core/sharding.ts';
import { IngestService } from '../server/ingest-service.ts';
import { CHECKPOINT_FIELDS, keys } from '../server/redis-keys.ts';
import { compareIds } from '../workers/stream-entry.ts';
import { bigRoomParts, compareTotals, normalRoomMismatches, roomMetricsOf, shardLag, slowScripts } from './support/big-room-checks.ts';
import { BigRoomFeed } from './support/big-room-feed.ts';
import { BigRoomSale } from './support/big-room-sale.ts';
import { argNumber, main, QUICK, sleep, until, type PartResult } from './support/common.ts';
import { roomNames } from './support/events.ts';
import { OutStreamLatency } from './support/out-stream-latency.ts';
import { startBenchRedis } from './support/redis.ts';
import { spawnDetector, type DetectorChild, type DetectorChildStats, type LoopDelay } from './support/spawn-detector.ts';
import { cpuSeconds, CpuMeter } from './support/proc.ts';

const BIG = 'big';
const SHARDS = 8;
const NORMAL_ROOMS = 999;
const NORMAL_VIEWERS = 50;
const mb = (x: number) => Math.round((x / 1e6) * 10) / 10;
const r1 = (x: number) => Math.round(x * 10) / 10;

/** Resolves true once `check` holds, false after `ms` (a bench figure then says so instead of failing). */
async function within(what: string, ms: number, check: () => Promise<boolean>): Promise<boolean> {
  return until(what, ms, check, 100).then(
    () => true,
    () => false,
  );
}

async function runBigRoom(): Promise<PartResult> {
  const target = argNumber('sessions', QUICK ? 50_000 : 1_000_000);
  const rate = argNumber('rate', 10_000);
  const trickle = argNumber('trickle', 2);
  const killAt = argNumber('kill-at', 0.5);
  const leaseMs = argNumber('lease-ms', QUICK ? 2_000 : 5_000);
  const redis = await startBenchRedis();
  const detectors: DetectorChild[] = [];
  let latency: OutStreamLatency | null = null;
  const api = new Redis(redis.url, { maxRetriesPerRequest: null });
  try {
    // Redis's own stalls count too (one thread for every room): scripts over 5 ms are logged.
    await redis.client.config('SET', 'slowlog-log-slower-than', '5000');
    await redis.client.config('SET', 'slowlog-max-len', '100000');
    const env = { REDIS_URL: redis.url, CREST_SHARDS: String(SHARDS), CREST_LEASE_MS: String(leaseMs), CREST_VIEWER_IDLE_MS: '3600000' };
    const config = loadConfig({ ...process.env, ...env });
    const bigShard = shardOf(BIG, SHARDS);
    // The big room's record before its first event: an empty state with a cap above the ramp (see the header).
    const seed = { state: createRoomState(BIG, config.engine, { maxSessions: 2 * target }), anchorTs: 0, anchorArrival: 0, lastSuggestion: null, cursor: '0-0' };
    await redis.client.hset(keys.checkpoint(bigShard), CHECKPOINT_FIELDS.room(BIG), JSON.stringify(seed));
    const startDetector = async () => {
      const d = await spawnDetector(env);
      detectors.push(d);
      return d;
    };
    let det = await startDetector();

    const ingest = new IngestService(api, { shards: SHARDS, dedupeHorizonS: config.dedupeHorizonS, maxLag: config.maxLag });
    const rooms = roomNames(NORMAL_ROOMS, 'n');
    const sale = new BigRoomSale(BIG, target);
    latency = new OutStreamLatency(redis.url, SHARDS, new Set(rooms));
    const feed = new BigRoomFeed(ingest, sale, rooms, { rate, trickle }, latency);
    const caughtUp = async () => (await shardLag(redis.client, SHARDS)).unshown.every((x) => x === 0);
    /** The detector holds the big room's shard and has applied all but about half a second of the load. */
    const keepingUp = async (d: DetectorChild) =>
      (await d.stats()).owned.includes(bigShard) && (await shardLag(redis.client, SHARDS)).unapplied.every((x) => x <= Math.max(2_000, rate / 2));

    // The normal rooms' audience first, so the baseline holds all 999 of them.
    const t = Date.now();
    const warm = rooms.flatMap((room) => Array.from({ length: NORMAL_VIEWERS }, (_, i) => ({ id: `w${i}`, room, ts: t, type: 'viewer.enter', viewer: `v${i}`, source: 'public' })));
    for (let i = 0; i < warm.length; i += 2_000) await feed.send(warm.slice(i, i + 2_000));
    for (const room of rooms) feed.acceptedPerRoom.set(room, NORMAL_VIEWERS);
    await until('the detector caught up with the warm-up', 120_000, caughtUp);
    const base = await det.mem();
    const redisMem0 = Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))![1]);
    await det.stats(true);

    // The ramp, with a kill -9 at killAt of it. Steady windows: the detector up and keeping up.
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.client.info('server'))![1]);
    const meter = new CpuMeter({ redis: redisPid, bench: process.pid });
    const detCpu = { seconds: 0 };
    const rampStart = Date.now();
    const steady: [number, number][] = [];
    const loops: LoopDelay[] = [];
    // The worker's own timings of its synchronous steps, over the detectors of the ramp.
    const steps = { slices: 0, longestSliceMs: 0, longestApplyMs: 0, longestCommitMs: 0 };
    const keepSteps = (s: DetectorChildStats['stats']) => {
      steps.slices += s.slices;
      steps.longestSliceMs = Math.max(steps.longestSliceMs, s.longestSliceMs);
      steps.longestApplyMs = Math.max(steps.longestApplyMs, s.longestApplyMs);
      steps.longestCommitMs = Math.max(steps.longestCommitMs, s.longestCommitMs);
    };
    let steadyFrom = rampStart;
    const detCpuAtStart = cpuSeconds(det.pid);
    let lagMax = { big: 0, others: 0 };
    let mid: { cpuAtStart: number; sessions: number; takeoverMs: number; caughtUp: boolean; scanMs: number; restoreMs: number; restoreStepMs: number; stallMs: number; window: [number, number] } | null = null;
    const trickling = feed.runTrickle();
    let saleDone = false;
    let saleEnd = 0;
    const selling = feed.runSale().finally(() => {
      saleDone = true;
      saleEnd = Date.now();
    });
    while (!saleDone) {
      await sleep(250);
      const lag = await shardLag(redis.client, SHARDS);
      lagMax = { big: Math.max(lagMax.big, lag.unapplied[bigShard]!), others: Math.max(lagMax.others, ...lag.unapplied.filter((_, s) => s !== bigShard)) };
      if (mid || killAt <= 0 || sale.totals().concurrency < killAt * target) continue;
      const before = await det.stats(true);
      loops.push(before.loop);
      keepSteps(before.stats);
      const killedAt = Date.now();
      steady.push([steadyFrom, killedAt]);
      const sessions = sale.totals().concurrency;
      detCpu.seconds += cpuSeconds(det.pid) - detCpuAtStart;
      await det.kill9();
      det = await startDetector();
      const cpuAtStart = cpuSeconds(det.pid);
      const ok = await within('the successor took over and kept up with the ramp', 180_000, () => keepingUp(det));
      const s = await det.stats(true);
      steadyFrom = Date.now();
      mid = { cpuAtStart, sessions, takeoverMs: steadyFrom - killedAt, caughtUp: ok, scanMs: s.stats.longestPartsScanMs, restoreMs: s.stats.longestRestoreMs, restoreStepMs: s.stats.longestRestoreStepMs, stallMs: s.loopSinceStart.maxMs, window: [killedAt, steadyFrom] };
    }
    await selling;
    const rampEnd = Date.now();
    detCpu.seconds += cpuSeconds(det.pid) - (mid ? mid.cpuAtStart : detCpuAtStart);
    const cpu: Record<string, number> = { ...meter.stop(), detector: Math.round((detCpu.seconds / ((rampEnd - rampStart) / 1000)) * 100) / 100 };
    steady.push([steadyFrom, rampEnd]);
    const after = await det.stats(true);
    loops.push(after.loop);
    keepSteps(after.stats);
    feed.stopTrickling();
    await trickling;
    await until('the detector caught up after the ramp', 300_000, caughtUp);

    const want = sale.totals();
    const check1 = compareTotals(await roomMetricsOf(redis.client, SHARDS, BIG), want);
    const normal1 = await normalRoomMismatches(redis.client, SHARDS, feed.acceptedPerRoom);
    const full = await det.mem();
    const redisMem1 = Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))![1]);
    // Let the last changes reach the checkpoint, so the JSON and the hash are the full room's.
    await within('the big room fully checkpointed', 60_000, async () => (await redis.client.hlen(keys.sessions(bigShard, BIG))) === want.concurrency);
    const parts = await bigRoomParts(redis.client, SHARDS, BIG);

    // The full room's restore: kill -9, a successor takes the lease when it expires, reads and restores.
    // Caught up = every shard taken and its replay done: its cursor moved past where the dead worker left it
    // (no events come now; the successor's own clock records move it).
    const cursorsAtKill = await cursors(redis.client);
    const killedAt = Date.now();
    await det.kill9();
    det = await startDetector();
    const restoredOk = await within('the successor restored the full room and replayed every shard', 300_000, async () => {
      const now = await cursors(redis.client);
      return (await det.stats()).owned.length === SHARDS && now.every((c, s) => compareIds(c, cursorsAtKill[s]!) > 0) && (await caughtUp());
    });
    const takeoverFullMs = Date.now() - killedAt;
    // Rooms whose summary shows fewer events than before the kill (a successor once wrote summaries while it
    // replayed, from states behind what was shown, the counters saying "caught up" all along). Counted, then waited out.
    const regressed = await normalRoomMismatches(redis.client, SHARDS, feed.acceptedPerRoom);
    const regressedBig = compareTotals(await roomMetricsOf(redis.client, SHARDS, BIG), sale.totals()).mismatches.length > 0;
    const settleFrom = Date.now();
    await within('every summary shows every event again', 30_000, async () => (await normalRoomMismatches(redis.client, SHARDS, feed.acceptedPerRoom)).length === 0);
    const settleMs = Date.now() - settleFrom;
    const s4 = await det.stats();
    // The mid-ramp successor ran until the last kill (`after` read it at the end of the ramp).
    const successorLeasesLost = (mid ? after.stats.leaseLost : 0) + s4.stats.leaseLost;
    const restored = await det.mem();
    const check2 = compareTotals(await roomMetricsOf(redis.client, SHARDS, BIG), want);
    const normal2 = await normalRoomMismatches(redis.client, SHARDS, feed.acceptedPerRoom);
    const slow = await slowScripts(redis.client);

    const others = latency.within(steady);
    const mates = latency.within(steady, (room) => shardOf(room, SHARDS) === bigShard);
    const takeover = mid ? latency.within([mid.window]) : null;
    const stall = loops.reduce((a, l) => (l.maxMs > a.maxMs ? l : a), loops[0]!);
    const mismatches = [...check1.mismatches.map((m) => `after the ramp: ${m}`), ...normal1.slice(0, 5), ...check2.mismatches.map((m) => `after the last kill: ${m}`), ...normal2.slice(0, 5)];
    const rampS = (saleEnd - rampStart) / 1000;
    const sliceBytes = config.deltaSlice * parts.meanEntryBytes;
    return {
      part: 'big-room',
      seconds: 0,
      figures: [
        { key: 'big_json_bytes', label: `big room's checkpoint JSON at ${want.concurrency.toLocaleString('en')} sessions`, value: parts.jsonBytes, unit: 'B' },
        {
          key: 'big_slice_bytes',
          label: `one slice of its delta (${config.deltaSlice.toLocaleString('en')} sessions)`,
          value: Math.round(sliceBytes),
          unit: 'B',
          note: `${r1(parts.meanEntryBytes)} B per stored session (viewer + "src,enter,seen"); the sessions hash holds ${parts.sessions.toLocaleString('en')} (${mb(parts.redisBytes)} MB in Redis); ${steps.slices.toLocaleString('en')} slices sent during the ramp`,
        },
        {
          key: 'big_stall',
          label: 'longest detector-thread stall while it ramps (event-loop delay)',
          value: stall.maxMs,
          unit: 'ms',
          target: { of: 'value', op: '<=', value: 10 },
          note:
            `loop delay p99 ${stall.p99Ms} ms, p99.9 ${stall.p999Ms} ms (worst window of ${loops.length}; GC pauses included; takeover windows excluded: see restore); ` +
            `the worker's longest steps: a batch's events applied ${r1(steps.longestApplyMs)} ms (≤ 2,000 events), a commit built and sent ${r1(steps.longestCommitMs)} ms, a slice ${r1(steps.longestSliceMs)} ms; ` +
            `CPU (cores) during the ramp: detector ${cpu.detector ?? '?'}, redis ${cpu.redis}, bench (load + reader) ${cpu.bench}`,
        },
        {
          key: 'big_slice_step',
          label: 'longest slice step on that thread (take slice + arguments + send)',
          value: r1(steps.longestSliceMs),
          unit: 'ms',
          target: { of: 'value', op: '<=', value: 10 },
          note: `longest Lua runs (SLOWLOG, ≥ 5 ms): ${Object.entries(slow).map(([n, s]) => `${n} ${s.count}× max ${s.maxMs} ms`).join(', ') || 'none'}`,
        },
        {
          key: 'big_others_p99',
          label: 'event→output-published p99 of the other rooms while it ramps',
          value: others.p99,
          unit: 'ms',
          target: { of: 'value', op: '<=', value: 100 },
          note:
            `p50 ${others.p50}, max ${others.max} ms over ${others.n.toLocaleString('en')} ticks (${others.clockMade} clock-made left out); ` +
            `the ${shardMates(rooms, bigShard)} rooms on the big room's shard: p99 ${mates.p99}, max ${mates.max} ms; ` +
            (takeover ? `during the mid-ramp takeover (${r1(mid!.takeoverMs / 1000)} s): p99 ${takeover.p99}, max ${takeover.max} ms (left out); ` : '') +
            `backlog max ${lagMax.big.toLocaleString('en')} events on the big shard, ${lagMax.others.toLocaleString('en')} on the others`,
        },
        {
          key: 'big_rss_added',
          label: `RSS added by the big room (detector process, after GC)`,
          value: mb(full.rss - base.rss),
          unit: 'MB',
          target: { of: 'value', op: '<=', value: 200 },
          note: `heap added ${mb(full.heapUsed - base.heapUsed)} MB + typed arrays ${mb(full.arrayBuffers - base.arrayBuffers)} MB; after a restore of the full room RSS added ${mb(restored.rss - base.rss)} MB; Redis used_memory added ${mb(redisMem1 - redisMem0)} MB (stream and dedupe included)${base.gc ? '' : ' (no gc: figures include garbage)'}`,
        },
        ...(mid
          ? [
              {
                key: 'big_restore_mid',
                label: `restore after kill -9 mid-ramp (${mid.sessions.toLocaleString('en')} sessions: HSCAN + restoreRoom)`,
                value: Math.round(mid.scanMs + mid.restoreMs),
                unit: 'ms',
                note: `HSCAN ${Math.round(mid.scanMs)} ms (each page added to the restore as it comes), heap ${Math.round(mid.restoreMs)} ms in steps, longest restore step ${r1(mid.restoreStepMs)} ms; successor's longest stall ${mid.stallMs} ms; kill → keeping up again ${r1(mid.takeoverMs / 1000)} s${mid.caughtUp ? '' : ' (did NOT keep up within 180 s)'}, lease ${leaseMs} ms`,
              },
            ]
          : []),
        {
          key: 'big_restore_full',
          label: `restore after kill -9 of the full room (${want.concurrency.toLocaleString('en')} sessions: HSCAN + restoreRoom)`,
          value: Math.round(s4.stats.longestPartsScanMs + s4.stats.longestRestoreMs),
          unit: 'ms',
          note: `HSCAN ${Math.round(s4.stats.longestPartsScanMs)} ms (pages added as they come), heap ${Math.round(s4.stats.longestRestoreMs)} ms in steps, longest restore step ${r1(s4.stats.longestRestoreStepMs)} ms (the thread's longest stall ${s4.loopSinceStart.maxMs} ms); kill → caught up ${r1(takeoverFullMs / 1000)} s${restoredOk ? '' : ' (did NOT catch up within 300 s)'}, lease ${leaseMs} ms`,
        },
        {
          key: 'big_leases_lost',
          label: 'leases the successors lost to themselves after the kills',
          value: successorLeasesLost,
          unit: '',
          target: { of: 'value', op: '<=', value: 0 },
          note:
            `mid-ramp successor ${after.stats.leaseLost}${mid ? '' : ' (no mid-ramp kill)'}, full-room successor ${s4.stats.leaseLost}; lease ${leaseMs} ms, renewed every ${Math.floor(leaseMs / 3)} ms; ` +
            `longest time between two renewals sent / longest renewal round trip: mid-ramp successor ${Math.round(after.stats.longestRenewGapMs)} / ${Math.round(after.stats.longestRenewRttMs)} ms, full-room successor ${Math.round(s4.stats.longestRenewGapMs)} / ${Math.round(s4.stats.longestRenewRttMs)} ms`,
        },
        {
          key: 'big_summaries_back',
          label: 'rooms whose summary went back when the counters said caught up',
          value: regressed.length + (regressedBig ? 1 : 0),
          unit: '',
          target: { of: 'value', op: '<=', value: 0 },
          note: regressed.length || regressedBig
            ? `after the last kill: ${regressed.length} rooms${regressedBig ? ' and the big room' : ''} showed fewer events than before it; exact again ${r1(settleMs / 1000)} s later; ${regressed.slice(0, 3).join('; ')}`
            : 'after the last kill, when the counters first said caught up, every room showed every event it had shown before',
        },
        {
          key: 'big_totals_wrong',
          label: 'figures not exact after the kills (big room + 999 rooms)',
          value: mismatches.length,
          unit: '',
          target: { of: 'value', op: '<=', value: 0 },
          note: mismatches.length
            ? mismatches.slice(0, 6).join('; ')
            : `entries, open sessions, orders, GMV (and by source, unattributed), paying viewers, likes of the big room and every room's event count equal the reference after the ramp and after the last kill; unique viewers (HLL estimate) off by ${check2.uniqueErrorPct.toFixed(3)} %` +
              ` (summaries that went back meanwhile: 'rooms whose summary went back')`,
        },
        {
          key: 'big_load',
          label: 'load achieved while it ramps (big room + trickle)',
          value: Math.round((sale.events + trickle * NORMAL_ROOMS * rampS) / rampS),
          unit: 'ev/s',
          note: `big room ${Math.round(sale.events / rampS).toLocaleString('en')} ev/s of ${rate.toLocaleString('en')} asked (${sale.events.toLocaleString('en')} events in ${r1(rampS)} s), trickle ${trickle} ev/s × ${NORMAL_ROOMS} rooms; ${feed.refusedCalls} calls refused for backlog and resent; ${feed.busySteps} steps behind pace`,
        },
      ],
      details: {
        sessions: target,
        rate,
        trickle,
        killAt,
        leaseMs,
        deltaSlice: config.deltaSlice,
        events: sale.events,
        want,
        got: check2.got,
        loops,
        steps,
        cpu,
        mid,
        full: { takeoverMs: takeoverFullMs, caughtUp: restoredOk, afterCaughtUp: { normalRoomsShowingFewerEvents: regressed.length, bigRoomBehind: regressedBig, settleMs }, stats: s4.stats, loopSinceStart: s4.loopSinceStart, startMs: det.startMs },
        latency: { steady: others, shardMates: mates, takeover, unmatchedTicks: latency.unmatchedTicks },
        mem: { base, full, restored, redisMem0, redisMem1 },
        parts,
        slowlog: slow,
        mismatches,
      },
    };
  } finally {
    for (const d of detectors) await d.kill9();
    await latency?.stop();
    api.disconnect();
    await redis.stop();
  }
}

const cursors = async (redis: Redis): Promise<string[]> =>
  Promise.all(Array.from({ length: SHARDS }, async (_, s) => (await redis.hget(keys.checkpoint(s), CHECKPOINT_FIELDS.cursor)) ?? '0-0'));

const shardMates = (rooms: string[], shard: number) => rooms.filter((r) => shardOf(r, SHARDS) === shard).length;

if (import.meta.url === `file://${process.argv[1]}`) main(runBigRoom);
