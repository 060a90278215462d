/**
 * The demo simulator: generates scenario rooms (core/scenario) with event times on the wall clock and
 * plays them live, handing everything that is due to `submit` in small batches every ~200 ms.
 *
 * Ordering invariant: one batch is in flight at a time, a room's cursor only moves past a batch once
 * `submit` resolved, and a failed batch is retried exactly as it was (same events, same order) before
 * anything newer is sent. So every event is submitted, in each room's order, and never again after a
 * success. (If `submit` fails after the far side stored part of a batch, the retry repeats those events;
 * their ids are the idempotency keys that make ingest drop them.)
 */
import type { CrestEvent } from '../core/events.ts';
import { ROOM_ID_PATTERN } from '../core/events.ts';
import { generateRoom } from '../core/scenario/generate-room.ts';
import type { ScenarioName } from '../core/scenario/generate-room.ts';
import { SCENARIOS } from '../core/scenario/scenarios.ts';

export interface DemoRoom {
  room: string;
  scenario: ScenarioName;
  /** Seed of the first cycle; cycle n uses seed + n - 1. */
  seed: number;
  /** Overrides the simulator's `durationMs` for this room. */
  durationMs?: number;
  baseViewers?: number;
}

/** One cycle of one room, as it starts playing. */
export interface DemoCycle {
  room: string;
  scenario: ScenarioName;
  /** 1-based. */
  cycle: number;
  seed: number;
  startTs: number;
  durationMs: number;
  baseViewers: number | undefined;
  events: number;
  /** Labelled highlight onsets, ms since epoch. */
  highlightOnsets: number[];
}

export interface DemoSimulatorOptions {
  rooms: readonly DemoRoom[];
  /** Hands a batch to ingest; a rejection makes the simulator retry the same batch later. */
  submit: (events: CrestEvent[]) => Promise<void>;
  /** Wall clock, ms since epoch. Default Date.now. */
  now?: () => number;
  /** Playback speed: 1 = real time. Event times advance `speed` ms per wall-clock ms. */
  speed?: number;
  /** Start the next cycle (seed + 1, starting where the last one ended) when a room's script ends. Default true. */
  loop?: boolean;
  /** Length of one cycle in event time. Default 6 minutes. */
  durationMs?: number;
  log?: (msg: string) => void;
  /** Wall-clock ms between batches. Default 200. */
  tickMs?: number;
  /** Most events in one batch (when catching up). Default 2000. */
  maxBatch?: number;
  /** First retry delay after a failed submit, doubled per failure up to 10 s. Default 1000. */
  retryMs?: number;
  /** Called when a room's cycle is generated, before its first event is submitted. */
  onCycle?: (cycle: DemoCycle) => void;
}

export interface DemoSimulator {
  /** Stops the timers; resolves once the batch in flight (if any) has settled. Nothing is submitted after. */
  stop(): Promise<void>;
  /** Resolves when every room has played out (only ever without `loop`) or after stop(). */
  done: Promise<void>;
}

export const DEFAULT_DEMO_DURATION_MS = 6 * 60_000;

/**
 * The rooms `npm start` plays: a highlight that starts building 60–90 s in, a busy room with a
 * highlight, a giveaway spike, a paid burst and platform glitches, and a quiet room where nothing happens.
 */
export const DEMO_ROOMS: readonly DemoRoom[] = Object.freeze([
  { room: 'demo-beauty', scenario: 'highlight', seed: 101 },
  { room: 'demo-snacks', scenario: 'mixed', seed: 202, durationMs: 12 * 60_000 },
  { room: 'demo-quiet', scenario: 'flat', seed: 303, baseViewers: 120 },
]);

/** `count` demo rooms: DEMO_ROOMS first, then `demo-4`, `demo-5`, ... cycling through the scenarios with smaller audiences. */
export function demoRooms(count: number): DemoRoom[] {
  const rooms: DemoRoom[] = DEMO_ROOMS.slice(0, count);
  for (let i = rooms.length; i < count; i++) {
    rooms.push({ room: `demo-${i + 1}`, scenario: SCENARIOS[i % SCENARIOS.length], seed: 1000 + i * 7, baseViewers: 60 + ((i * 37) % 180) });
  }
  return rooms;
}

interface Playing {
  spec: DemoRoom;
  durationMs: number;
  cycle: number;
  /** Start of the next cycle to generate (event time). */
  nextStartTs: number;
  events: CrestEvent[] | null;
  cursor: number;
  finished: boolean;
}

/** Rooms generated per tick at most, so a large demo does not block the event loop at start. */
const GENERATE_PER_TICK = 16;
const MAX_RETRY_MS = 10_000;

/** Starts playing the rooms live; see DemoSimulatorOptions for the knobs. */
export function startDemoSimulator(opts: DemoSimulatorOptions): DemoSimulator {
  const now = opts.now ?? Date.now;
  const speed = opts.speed ?? 1;
  const loop = opts.loop ?? true;
  const tickMs = opts.tickMs ?? 200;
  const maxBatch = opts.maxBatch ?? 2000;
  const retryMs = opts.retryMs ?? 1000;
  const log = opts.log ?? (() => {});
  if (!(speed > 0)) throw new RangeError('speed: must be greater than 0');
  if (!(maxBatch >= 1)) throw new RangeError('maxBatch: must be at least 1');
  const names = new Set<string>();
  for (const r of opts.rooms) {
    if (!ROOM_ID_PATTERN.test(r.room)) throw new RangeError(`rooms: "${r.room}" is not a valid room id (1–64 of A-Z a-z 0-9 _ . -)`);
    if (names.has(r.room)) throw new RangeError(`rooms: "${r.room}" is listed twice`);
    names.add(r.room);
  }

  const origin = Math.floor(now());
  // Event time runs `speed` times faster than the wall clock, from the moment the simulator starts.
  const eventNow = (): number => origin + (now() - origin) * speed;
  const rooms: Playing[] = opts.rooms.map((spec) => ({
    spec,
    durationMs: spec.durationMs ?? opts.durationMs ?? DEFAULT_DEMO_DURATION_MS,
    cycle: 0,
    nextStartTs: origin,
    events: null,
    cursor: 0,
    finished: false,
  }));

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  /** The batch awaiting a successful submit, and how far it moves each room's cursor. */
  let pending: { events: CrestEvent[]; slices: { room: Playing; count: number }[] } | null = null;
  let failures = 0;
  let firstRoom = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  const generateNext = (p: Playing): void => {
    p.cycle += 1;
    const seed = p.spec.seed + p.cycle - 1;
    const g = generateRoom({
      room: p.spec.room,
      scenario: p.spec.scenario,
      seed,
      startTs: p.nextStartTs,
      durationMs: p.durationMs,
      baseViewers: p.spec.baseViewers,
    });
    p.events = g.events;
    p.cursor = 0;
    const cycle: DemoCycle = {
      room: p.spec.room,
      scenario: p.spec.scenario,
      cycle: p.cycle,
      seed,
      startTs: p.nextStartTs,
      durationMs: p.durationMs,
      baseViewers: p.spec.baseViewers,
      events: g.events.length,
      highlightOnsets: g.labels.map((l) => l.onsetTs),
    };
    p.nextStartTs += p.durationMs;
    const onsets = cycle.highlightOnsets.map((t) => `+${Math.round((t - cycle.startTs) / 1000)} s`).join(', ') || 'none';
    log(`demo: ${cycle.room} cycle ${cycle.cycle} (${cycle.scenario}, seed ${seed}): ${cycle.events} events over ${(p.durationMs / 60_000).toFixed(1)} min, highlights at ${onsets}`);
    opts.onCycle?.(cycle);
  };

  /** Everything due, from each room's cursor, rotating which room goes first so a cap never starves one. */
  const collect = (t: number): NonNullable<typeof pending> | null => {
    const events: CrestEvent[] = [];
    const slices: { room: Playing; count: number }[] = [];
    for (let k = 0; k < rooms.length && events.length < maxBatch; k++) {
      const p = rooms[(firstRoom + k) % rooms.length];
      if (!p.events) continue;
      let i = p.cursor;
      // Arrival order: a late event sits where it arrives, behind later-stamped events, so it is due with them.
      while (i < p.events.length && p.events[i].ts <= t && events.length < maxBatch) events.push(p.events[i++]);
      if (i > p.cursor) slices.push({ room: p, count: i - p.cursor });
    }
    firstRoom = rooms.length ? (firstRoom + 1) % rooms.length : 0;
    return events.length ? { events, slices } : null;
  };

  const tick = async (): Promise<void> => {
    timer = null;
    let generated = 0;
    for (const p of rooms) {
      if (generated >= GENERATE_PER_TICK) break;
      if (p.finished || p.events) continue;
      generateNext(p);
      generated++;
    }

    let delay = tickMs;
    pending ??= collect(eventNow());
    if (pending) {
      const batch = pending;
      try {
        await opts.submit(batch.events);
        for (const s of batch.slices) s.room.cursor += s.count;
        pending = null;
        failures = 0;
        // Catching up (a backlog bigger than one batch): go again at once.
        if (batch.events.length >= maxBatch) delay = 0;
      } catch (err) {
        failures += 1;
        delay = Math.min(MAX_RETRY_MS, retryMs * 2 ** (failures - 1));
        const reason = err instanceof Error ? err.message : String(err);
        log(`demo: submit of ${batch.events.length} events failed (attempt ${failures}): ${reason}; retrying the same batch in ${delay} ms`);
      }
    }

    for (const p of rooms) {
      if (!p.events || p.cursor < p.events.length) continue;
      p.events = null;
      if (!loop) p.finished = true;
      else if (generated < GENERATE_PER_TICK) {
        generateNext(p);
        generated++;
      }
    }
    if (!pending && rooms.every((p) => p.finished)) {
      log('demo: every room has played out');
      stopped = true;
      resolveDone();
      return;
    }
    if (!stopped) timer = setTimeout(run, delay);
  };

  const run = (): void => {
    const current = tick().catch((err: unknown) => {
      // tick() handles submit failures itself; anything here is a bug in the scenario code: stop loudly.
      log(`demo: stopped by an unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      stopped = true;
      resolveDone();
    });
    running = current;
    void current.finally(() => {
      if (running === current) running = null;
    });
  };

  timer = setTimeout(run, 0);

  return {
    done,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running;
      resolveDone();
    },
  };
}
