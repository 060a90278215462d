/**
 * Deterministic livestream-room generator: a scenario and a seed in, contract-v1 events plus the
 * ground truth (true concurrency per second, labelled highlights) out. Pure: no clock, no I/O, no
 * Math.random; the same options always give the same room.
 *
 * Viewers are modelled one by one. Each has an id and a traffic source, enters, stays a log-normal
 * (heavy-tailed) watch time and leaves; about 10 % leave silently (no `viewer.leave`), as real clients
 * do when a phone sleeps. Arrivals per source follow a baseline rate with minute-level noise and a slow
 * daily drift; scenario episodes (scenarios.ts) add build-ups, giveaway crowds, paid bursts and platform
 * glitches on top. The simulation steps one second at a time: per second, first the departures due,
 * then interactions by the viewers present, then the new arrivals, so an event never names a viewer
 * who is not in the room.
 */
import type { CrestEvent, TrafficSource } from '../events.ts';
import { ROOM_ID_PATTERN } from '../events.ts';
import { createRng } from './prng.ts';
import type { Rng } from './prng.ts';
import { planScenario } from './scenarios.ts';
import type { Episode, HighlightEpisode, Product, ScenarioName } from './scenarios.ts';

export { SCENARIOS } from './scenarios.ts';
export type { ScenarioName, Episode } from './scenarios.ts';

/** A true rise that matters (what a detector should call), in event time (ms since epoch). */
export interface ScenarioLabel {
  /** Where the sustained rise of concurrency starts: the extra arrivals of the build-up begin here. */
  onsetTs: number;
  /** Highest true concurrency of the window (15 s centred mean). */
  peakTs: number;
  /** First time after the peak that true concurrency is back within 20 % of the lift above baseline (or the next episode / stream end). */
  endTs: number;
  kind: 'highlight';
}

export interface GeneratedRoom {
  room: string;
  scenario: ScenarioName;
  seed: number;
  /** In arrival order: sorted by ts, except the few in `lateIds`, which arrive 40–120 s after their ts. */
  events: CrestEvent[];
  labels: ScenarioLabel[];
  /** Concurrency truth per second, for evaluation. */
  truth: { ts: number; concurrency: number }[];
  /** Ids of the deliberately late events. */
  lateIds: string[];
  /** What the scenario put where (seconds since stream start), for evaluation reports. */
  episodes: Episode[];
}

export interface GenerateRoomOptions {
  room: string;
  scenario: ScenarioName;
  seed: number;
  /** Stream start, ms since epoch; `stream.start` carries it and `stream.end` is at startTs + durationMs. */
  startTs: number;
  durationMs: number;
  /** Baseline true concurrency at the start of the stream. Default 300. */
  baseViewers?: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Draft = DistributiveOmit<CrestEvent, 'id' | 'room'>;

const SOURCES: readonly TrafficSource[] = ['follow', 'public', 'paid', 'other'];
const FOLLOW = 0;
const PUBLIC = 1;
const PAID = 2;
/** Share of baseline arrivals per source (follow, public, paid, other). */
const BASE_MIX = [0.25, 0.55, 0.1, 0.1];
/** Mean watch time per source, seconds: fans stay, bought traffic bounces. */
const WATCH_MEAN_S = [180, 90, 45, 120];
/** Log-space sigma of watch times: median ≈ 0.6 × mean, a long right tail. */
const WATCH_SIGMA = 1.0;
const MAX_WATCH_S = 4 * 3600;
/** Click-in rate (entries ÷ exposure) per source. */
const CTR = [0.2, 0.04, 0.025, 0.1];
/** Organic extra arrivals of a highlight, by source: the platform recommends a hot room, fans share (paid is bought apart). */
const HIGHLIGHT_MIX = [0.2, 0.6, 0, 0.2];
const GIVEAWAY_MIX = [0.1, 0.7, 0, 0.2];
/** Per viewer per second. */
const LIKE_RATE = 0.008;
const COMMENT_RATE = 0.0025;
const SHARE_RATE = 0.0004;
const FOLLOW_RATE = 0.0003;
const GIFT_RATE = 0.00015;
const BASE_CLICK_RATE = 0.0003;
/** Cost per paid entry, fen. */
const COST_PER_ENTRY = 130;
const SILENT_LEAVE = 0.1;
/** Log-space sd of the minute-level arrival noise. */
const NOISE_SD = 0.08;
/** Most who come for a hot item grab it (or see it sold out) and leave within about a minute. */
const HOT_GRAB_AND_GO_MS = 40_000;
const ONLINE_EVERY_S = 5;
const ONLINE_MISSING = 0.03;
const EXPOSURE_EVERY_S = 10;
/** Late events: delivered this long after their event time (beyond the default 30 s allowed lateness). */
const LATE_MIN_MS = 40_000;
const LATE_MAX_MS = 120_000;

interface Viewer {
  id: string;
  source: number;
  /** Index in the present list, or -1 once gone. */
  at: number;
  leaveTs: number;
  silent: boolean;
  followed: boolean;
}

interface Launch {
  s: number;
  product: Product;
  hot: boolean;
}

/** Generates one room of a scenario: events (contract v1), labelled highlights and per-second true concurrency. */
export function generateRoom(opts: GenerateRoomOptions): GeneratedRoom {
  const { room, scenario, seed, startTs, durationMs } = opts;
  const baseViewers = opts.baseViewers ?? 300;
  if (!ROOM_ID_PATTERN.test(room)) throw new RangeError(`room: "${room}" must be 1–64 characters of A-Z a-z 0-9 _ . -`);
  if (!Number.isInteger(startTs) || startTs < 0) throw new RangeError('startTs: must be a non-negative integer (ms since epoch)');
  if (!Number.isInteger(durationMs) || durationMs < 60_000) throw new RangeError('durationMs: must be an integer of at least 60000');
  if (!(baseViewers >= 1)) throw new RangeError('baseViewers: must be at least 1');
  if (!Number.isFinite(seed)) throw new RangeError('seed: must be a finite number');

  const S = Math.floor(durationMs / 1000);
  const endTs = startTs + durationMs;
  const episodes = planScenario(scenario, S, createRng(seed, 'plan'));
  const rates = buildRates(episodes, S, startTs, baseViewers, createRng(seed, 'noise'));

  const rng = createRng(seed, 'traffic');
  const tag = (seed >>> 0).toString(36);
  const drafts: { d: Draft; arrival: number; ord: number }[] = [];
  const emit = (d: Draft): void => {
    if (d.ts < endTs) drafts.push({ d, arrival: d.ts, ord: drafts.length });
  };

  const present: Viewer[] = [];
  const leaving: (Viewer[] | undefined)[] = new Array(S + 1);
  const truth: { ts: number; concurrency: number }[] = [];
  let viewerSeq = 0;
  let orderSeq = 0;

  const remove = (v: Viewer): void => {
    const last = present.pop()!;
    if (last !== v) {
      present[v.at] = last;
      last.at = v.at;
    }
    v.at = -1;
  };
  const enter = (source: number, ts: number, watchMs: number): void => {
    const v: Viewer = {
      id: `v${tag}-${(viewerSeq++).toString(36)}`,
      source,
      at: present.length,
      leaveTs: ts + Math.max(3000, Math.round(watchMs)),
      silent: rng.chance(SILENT_LEAVE),
      followed: source === FOLLOW,
    };
    present.push(v);
    emit({ ts, type: 'viewer.enter', viewer: v.id, source: SOURCES[source] });
    const bucket = Math.floor((v.leaveTs - startTs) / 1000);
    // Viewers still watching at the end leave with the stream: `stream.end` says so, no leave event each.
    if (bucket < S) (leaving[bucket] ??= []).push(v);
  };
  const watchMs = (source: number, mul: number): number =>
    1000 * Math.min(MAX_WATCH_S, rng.lognormal(WATCH_MEAN_S[source] * mul, WATCH_SIGMA));
  const anyone = (): Viewer | undefined => (present.length ? present[rng.int(0, present.length - 1)] : undefined);
  const pickSource = (mix: readonly number[]): number => {
    let u = rng.next();
    for (let i = 0; i < mix.length; i++) {
      u -= mix[i];
      if (u < 0) return i;
    }
    return PUBLIC;
  };

  // The opening cohort: fans and feed viewers pour in during the first half minute. Their watch times
  // are drawn from the equilibrium (residual-life) distribution, U × length-biased log-normal, so the
  // room settles straight at its baseline instead of dipping as the first wave leaves.
  const popMix = BASE_MIX.map((m, i) => m * WATCH_MEAN_S[i]);
  const popTotal = popMix.reduce((a, b) => a + b, 0);
  const cohortMix = popMix.map((m) => m / popTotal);

  const onlinePhase = rng.int(0, ONLINE_EVERY_S - 1);
  let frozenCount: number | null = null;
  let lastOnline = 0;
  const expAcc = [0, 0, 0, 0];
  let paidAcc = 0;

  emit({ ts: startTs, type: 'stream.start' });
  for (let s = 0; s < S; s++) {
    const sTs = startTs + s * 1000;
    truth.push({ ts: sTs, concurrency: present.length });

    for (const v of leaving[s] ?? []) {
      remove(v);
      if (!v.silent) emit({ ts: v.leaveTs, type: 'viewer.leave', viewer: v.id });
    }
    leaving[s] = undefined;
    const P = present.length;

    // The platform's count: close to the truth, every ~5 s, sometimes missing, sometimes wrong.
    if (s % ONLINE_EVERY_S === onlinePhase) {
      const noisy = Math.max(0, Math.round(P * (1 + 0.015 * rng.normal())));
      if (rates.onlineFreeze[s]) frozenCount ??= lastOnline || noisy;
      else frozenCount = null;
      const count = frozenCount ?? Math.round(noisy * rates.onlineFactor[s]);
      const missing = rng.chance(ONLINE_MISSING);
      if (!rates.onlineGap[s] && !missing) {
        emit({ ts: sTs + rng.int(0, 999), type: 'room.online', count });
        lastOnline = count;
      }
    }

    // Interactions of the viewers present.
    const eng = rates.engage[s];
    if (P > 0) {
      for (let n = rng.poisson(P * LIKE_RATE * eng * rates.likeMul[s]); n > 0; n--) {
        const v = anyone()!;
        emit({ ts: sTs + rng.int(0, 999), type: 'engage.like', viewer: v.id, count: 1 + Math.min(49, Math.floor(rng.exponential(4))) });
      }
      for (let n = rng.poisson(P * COMMENT_RATE * eng * rates.commentMul[s]); n > 0; n--) {
        emit({ ts: sTs + rng.int(0, 999), type: 'engage.comment', viewer: anyone()!.id });
      }
      for (let n = rng.poisson(P * SHARE_RATE * eng); n > 0; n--) {
        emit({ ts: sTs + rng.int(0, 999), type: 'engage.share', viewer: anyone()!.id });
      }
      for (let n = rng.poisson(P * FOLLOW_RATE * eng * rates.followMul[s]); n > 0; n--) {
        const v = anyone()!;
        if (v.followed) continue;
        v.followed = true;
        emit({ ts: sTs + rng.int(0, 999), type: 'engage.follow', viewer: v.id });
      }
      for (let n = rng.poisson(P * GIFT_RATE * eng); n > 0; n--) {
        emit({ ts: sTs + rng.int(0, 999), type: 'engage.gift', viewer: anyone()!.id, count: 1 + Math.floor(rng.exponential(2)) });
      }

      // Shopping: clicks on the product on the shelf, some become orders, most orders get paid.
      const shelf = rates.shelf[s];
      if (shelf) {
        for (let n = rng.poisson(P * rates.click[s]); n > 0; n--) {
          const v = anyone()!;
          const clickTs = sTs + rng.int(0, 999);
          const sku = shelf.product.sku;
          emit({ ts: clickTs, type: 'product.click', viewer: v.id, sku });
          if (!rng.chance(shelf.hot ? 0.22 : 0.08)) continue;
          const order = `o${tag}-${(orderSeq++).toString(36)}`;
          const qty = rng.chance(0.8) ? 1 : rng.chance(0.75) ? 2 : 3;
          const amount = shelf.product.price * qty;
          const createdTs = clickTs + rng.int(5_000, 45_000);
          emit({ ts: createdTs, type: 'order.created', order, viewer: v.id, sku, amount, qty });
          if (!rng.chance(0.85)) continue;
          const paidTs = createdTs + rng.int(3_000, 40_000);
          emit({ ts: paidTs, type: 'order.paid', order, viewer: v.id, sku, amount, qty });
          if (rng.chance(0.02)) emit({ ts: paidTs + rng.int(60_000, 300_000), type: 'order.refunded', order, viewer: v.id, sku, amount, qty });
        }
      }
    }
    for (const launch of rates.launches) {
      if (launch.s === s) {
        const { sku, name, price } = launch.product;
        emit({ ts: sTs + rng.int(0, 999), type: 'product.launch', sku, name, price });
      }
    }

    // Arrivals.
    for (let src = 0; src < 4; src++) {
      const mean = rates.arrivals[src][s];
      expAcc[src] += mean;
      if (src === PAID) paidAcc += mean;
      for (let n = rng.poisson(mean); n > 0; n--) {
        const ts = sTs + rng.int(0, 999);
        enter(src, ts, watchMs(src, rates.watchMul[src][s]));
      }
    }
    if (s < 40) {
      const expected = baseViewers * (Math.exp(-s / 8) - Math.exp(-(s + 1) / 8));
      for (let n = rng.poisson(expected); n > 0; n--) {
        const src = pickSource(cohortMix);
        const residual = rng.next() * Math.min(MAX_WATCH_S, rng.lognormal(WATCH_MEAN_S[src] * Math.exp(WATCH_SIGMA ** 2), WATCH_SIGMA));
        enter(src, sTs + rng.int(0, 999), residual * 1000);
      }
    }
    if (rates.hotTopTs[s] > 0) {
      const launchTs = rates.hotLaunchTs[s];
      const topTs = rates.hotTopTs[s];
      for (let src = 0; src < 4; src++) {
        const mean = rates.hot[src][s];
        expAcc[src] += mean;
        if (src === PAID) paidAcc += mean;
        for (let n = rng.poisson(mean); n > 0; n--) {
          const ts = sTs + rng.int(0, 999);
          let leaveTs: number;
          if (ts >= topTs) leaveTs = ts + watchMs(src, 0.6); // the stock is gone: a quick look, then away
          else if (rng.chance(0.75)) leaveTs = Math.max(launchTs, ts) + rng.exponential(HOT_GRAB_AND_GO_MS) + (topTs - launchTs) * rng.next();
          // The rest wait for the launch, then watch as long as anyone (some become regulars).
          else leaveTs = Math.max(ts + watchMs(src, 1.3), launchTs + rng.uniform(0, topTs - launchTs));
          enter(src, ts, leaveTs - ts);
        }
      }
    }
    const giveaway = rates.giveawayArrivals[s];
    if (giveaway > 0) {
      const drawTs = rates.giveawayDrawTs[s];
      for (let n = rng.poisson(giveaway); n > 0; n--) {
        const src = pickSource(GIVEAWAY_MIX);
        expAcc[src] += 1;
        const ts = sTs + rng.int(0, 999);
        // Most came for the prize and leave right after the draw; a few like the room and stay.
        const leaveTs = rng.chance(0.06) ? ts + watchMs(src, 1) : drawTs + Math.min(45_000, rng.exponential(10_000));
        enter(src, ts, leaveTs - ts);
      }
    }

    // Feed impressions and ad spend, reported in 10 s windows.
    if (s % EXPOSURE_EVERY_S === EXPOSURE_EVERY_S - 1) {
      const ts = sTs + 999;
      for (let src = 0; src < 4; src++) {
        const count = Math.max(0, Math.round((expAcc[src] / (CTR[src] * rates.ctrMul[s])) * (1 + 0.05 * rng.normal())));
        emit({ ts, type: 'room.exposure', source: SOURCES[src], count });
        expAcc[src] = 0;
      }
      const amount = Math.max(0, Math.round(paidAcc * COST_PER_ENTRY * (1 + 0.1 * rng.normal())));
      if (amount > 0) emit({ ts, type: 'ad.spend', amount, campaign: rates.campaign[s] });
      paidAcc = 0;
    }
  }
  truth.push({ ts: startTs + S * 1000, concurrency: present.length });
  drafts.push({ d: { ts: endTs, type: 'stream.end' }, arrival: endTs, ord: Number.MAX_SAFE_INTEGER });

  // A few events arrive late: likes and comments batched by a slow client, payments confirmed late.
  const lateRng = createRng(seed, 'late');
  const lateShare = scenario === 'platform-glitch' || scenario === 'mixed' ? 0.002 : 0.0004;
  const lateOrds = new Set<number>();
  for (const x of drafts) {
    const t = x.d.type;
    if ((t === 'engage.like' || t === 'engage.comment' || t === 'order.paid') && lateRng.chance(lateShare)) {
      const arrival = x.d.ts + lateRng.int(LATE_MIN_MS, LATE_MAX_MS);
      if (arrival < endTs) {
        x.arrival = arrival;
        lateOrds.add(x.ord);
      }
    }
  }
  drafts.sort((a, b) => a.arrival - b.arrival || a.ord - b.ord);

  const prefix = `${room}-${startTs.toString(36)}-`;
  const events: CrestEvent[] = [];
  const lateIds: string[] = [];
  for (let i = 0; i < drafts.length; i++) {
    const id = prefix + i.toString(36);
    events.push({ id, room, ...drafts[i].d } as CrestEvent);
    if (lateOrds.has(drafts[i].ord)) lateIds.push(id);
  }

  return { room, scenario, seed, events, labels: labelHighlights(episodes, truth, startTs, S), truth, lateIds, episodes };
}

interface Rates {
  /** Expected arrivals per second, by source. */
  arrivals: Float64Array[];
  watchMul: Float64Array[];
  engage: Float64Array;
  likeMul: Float64Array;
  commentMul: Float64Array;
  followMul: Float64Array;
  click: Float64Array;
  shelf: (Launch | undefined)[];
  launches: Launch[];
  ctrMul: Float64Array;
  campaign: string[];
  /** Extra arrivals drawn by a hot product, by source, with its launch and sell-out times (ms). */
  hot: Float64Array[];
  hotLaunchTs: Float64Array;
  hotTopTs: Float64Array;
  giveawayArrivals: Float64Array;
  giveawayDrawTs: Float64Array;
  onlineFactor: Float64Array;
  onlineFreeze: Uint8Array;
  onlineGap: Uint8Array;
}

/** Hour-of-day swing of a room's audience (evening peak, 21:00 UTC+8), normalised to 1 at the stream start. */
function dailyDrift(startTs: number): (s: number) => number {
  const at = (ms: number): number => 1 + 0.3 * Math.sin((2 * Math.PI * (ms / 3_600_000 - 7)) / 24);
  const first = at(startTs);
  return (s) => at(startTs + s * 1000) / first;
}

/** Turns the episode plan into per-second rates and platform quirks. */
function buildRates(episodes: Episode[], S: number, startTs: number, baseViewers: number, rng: Rng): Rates {
  const f = (v = 0): Float64Array => new Float64Array(S).fill(v);
  const r: Rates = {
    arrivals: [f(), f(), f(), f()],
    watchMul: [f(1), f(1), f(1), f(1)],
    engage: f(1),
    likeMul: f(1),
    commentMul: f(1),
    followMul: f(1),
    click: f(BASE_CLICK_RATE),
    shelf: new Array(S),
    launches: [],
    ctrMul: f(1),
    campaign: new Array<string>(S).fill('always-on'),
    hot: [f(), f(), f(), f()],
    hotLaunchTs: f(),
    hotTopTs: f(),
    giveawayArrivals: f(),
    giveawayDrawTs: f(),
    onlineFactor: f(1),
    onlineFreeze: new Uint8Array(S),
    onlineGap: new Uint8Array(S),
  };
  // Stationary concurrency = arrival rate × mean watch time, so this rate holds the room at baseViewers.
  const meanWatch = BASE_MIX.reduce((a, m, i) => a + m * WATCH_MEAN_S[i], 0);
  const lambda = baseViewers / meanWatch;
  const drift = dailyDrift(startTs);
  const growth = f(1);
  for (const e of episodes) {
    if (e.kind === 'growth') for (let s = e.t0; s < S; s++) growth[s] = 1 + (e.perMin * (s - e.t0)) / 60;
  }

  // Minute-level noise: an Ornstein–Uhlenbeck process in log space (time constant 60 s, sd 8 %).
  const decay = Math.exp(-1 / 60);
  const step = NOISE_SD * Math.sqrt(1 - decay * decay);
  let ou = NOISE_SD * rng.normal();
  for (let s = 0; s < S; s++) {
    ou = ou * decay + step * rng.normal();
    const level = lambda * drift(s) * growth[s];
    const noise = Math.exp(ou - (NOISE_SD * NOISE_SD) / 2);
    for (let src = 0; src < 4; src++) r.arrivals[src][s] = level * BASE_MIX[src] * noise;
    r.engage[s] = Math.exp(0.5 * ou);
  }

  const between = (a: number, b: number, fn: (s: number) => void): void => {
    for (let s = Math.max(0, Math.ceil(a)); s < Math.min(S, b); s++) fn(s);
  };
  const addLaunch = (s: number, product: Product, hot: boolean, clickPeak: number, clickDecayS: number): void => {
    if (s >= S) return;
    r.launches.push({ s, product, hot });
    between(s, S, (t) => (r.click[t] += clickPeak * Math.exp(-(t - s) / clickDecayS)));
  };

  for (const e of episodes) {
    switch (e.kind) {
      case 'launch':
        addLaunch(e.t, e.product, false, 0.002, 60);
        break;
      case 'highlight': {
        const launch = e.t0 + e.buildS;
        const top = launch + e.holdS;
        const extraAt = (s: number): number => {
          if (s < e.t0) return 0;
          if (s < launch) return ((s - e.t0) / e.buildS) ** 1.5; // accelerating: interaction pulls in more
          if (s < top) return 1;
          return Math.exp(-(s - top) / e.decayS);
        };
        between(e.t0, S, (s) => {
          const x = extraAt(s);
          if (x < 0.005 && s >= top) return;
          const extra = lambda * drift(s) * (e.peakMult - 1) * x;
          for (let src = 0; src < 4; src++) r.hot[src][s] = extra * HIGHLIGHT_MIX[src];
          // The ad buyer boosts from the start of the build-up until the item sells out.
          const boost = s < top ? Math.min(1, (s - e.t0 + 1) / (0.3 * e.buildS)) : Math.exp(-(s - top) / 20);
          r.hot[PAID][s] += lambda * drift(s) * BASE_MIX[PAID] * (e.paidMult - 1) * boost;
          r.hotLaunchTs[s] = startTs + launch * 1000;
          r.hotTopTs[s] = startTs + top * 1000;
          r.ctrMul[s] = Math.max(r.ctrMul[s], 1 + 0.5 * x);
          if (s < top) r.campaign[s] = `boost-${e.product.sku}`;
        });
        // The teaser: the host talks the item up, interaction climbs ahead of the crowd.
        between(e.t0 - e.teaseS, S, (s) => {
          const lead = launch - (e.t0 - e.teaseS);
          const g = s < launch ? (s - (e.t0 - e.teaseS)) / lead : s < top ? 1 : Math.exp(-(s - top) / e.decayS);
          r.engage[s] *= 1 + 2 * g;
          r.commentMul[s] *= 1 + g;
        });
        addLaunch(launch, e.product, true, 0.012, 120);
        break;
      }
      case 'giveaway': {
        const drawTs = startTs + (e.t0 + e.drawS) * 1000;
        between(e.t0, e.t0 + e.entryS, (s) => {
          r.giveawayArrivals[s] = lambda * drift(s) * (e.mult - 1);
          r.giveawayDrawTs[s] = drawTs;
        });
        between(e.t0, e.t0 + e.drawS, (s) => {
          r.commentMul[s] *= 8; // "comment 666 to enter"
          r.followMul[s] *= 6; // "followers only"
          r.likeMul[s] *= 2;
        });
        break;
      }
      case 'paid-burst':
        between(e.t0, e.t0 + e.durS, (s) => {
          const ramp = Math.min(1, (s - e.t0 + 1) / 15, (e.t0 + e.durS - s) / 15);
          r.arrivals[PAID][s] *= 1 + (e.mult - 1) * ramp;
          r.watchMul[PAID][s] = 0.6;
          r.campaign[s] = `burst-${e.t0}`;
        });
        break;
      case 'online-jump':
        between(e.t0, e.t0 + e.durS, (s) => (r.onlineFactor[s] = e.factor));
        break;
      case 'online-freeze':
        between(e.t0, e.t0 + e.durS, (s) => (r.onlineFreeze[s] = 1));
        break;
      case 'online-gap':
        between(e.t0, e.t0 + e.durS, (s) => (r.onlineGap[s] = 1));
        break;
      case 'growth':
        break;
    }
  }
  r.launches.sort((a, b) => a.s - b.s);
  let li = 0;
  let shelf: Launch | undefined;
  for (let s = 0; s < S; s++) {
    while (li < r.launches.length && r.launches[li].s <= s) shelf = r.launches[li++];
    r.shelf[s] = shelf;
  }
  return r;
}

/** Labels each highlight episode from the true concurrency it produced. */
function labelHighlights(episodes: Episode[], truth: { ts: number; concurrency: number }[], startTs: number, S: number): ScenarioLabel[] {
  const smooth = movingMean(truth.map((p) => p.concurrency), 7);
  // Episodes that move true concurrency bound a highlight's window; shelf changes and glitches do not.
  const movers = episodes
    .filter((e) => e.kind === 'highlight' || e.kind === 'giveaway' || e.kind === 'paid-burst' || e.kind === 'growth')
    .map((e) => (e.kind === 'highlight' ? e.t0 - e.teaseS : e.t0))
    .sort((a, b) => a - b);
  const labels: ScenarioLabel[] = [];
  for (const e of episodes) {
    if (e.kind !== 'highlight') continue;
    const h: HighlightEpisode = e;
    const limit = Math.min(S, movers.find((t) => t > h.t0) ?? S);
    const from = Math.max(40, h.t0 - 120);
    let base = 0;
    for (let s = from; s < h.t0; s++) base += smooth[s];
    base /= Math.max(1, h.t0 - from);
    let peak = h.t0 + 1;
    const peakSearchEnd = Math.min(limit, h.t0 + h.buildS + h.holdS + 3 * h.decayS);
    for (let s = h.t0 + 1; s < peakSearchEnd; s++) if (smooth[s] > smooth[peak]) peak = s;
    const backAt = base + 0.2 * (smooth[peak] - base);
    let end = limit;
    for (let s = peak + 1; s < limit; s++) {
      if (smooth[s] <= backAt) {
        end = s;
        break;
      }
    }
    if (end <= peak) continue;
    labels.push({ onsetTs: startTs + h.t0 * 1000, peakTs: startTs + peak * 1000, endTs: startTs + end * 1000, kind: 'highlight' });
  }
  return labels;
}

/** Centred moving mean with half-width `half` (window 2·half+1, shrunk at the edges). */
function movingMean(xs: number[], half: number): number[] {
  const out = new Array<number>(xs.length);
  let sum = 0;
  let lo = 0;
  let hi = -1;
  for (let i = 0; i < xs.length; i++) {
    const a = Math.max(0, i - half);
    const b = Math.min(xs.length - 1, i + half);
    while (hi < b) sum += xs[++hi];
    while (lo < a) sum -= xs[lo++];
    out[i] = sum / (hi - lo + 1);
  }
  return out;
}
