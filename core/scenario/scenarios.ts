/**
 * What happens in each scenario, as a list of episodes on the room's own clock (seconds since
 * stream start). generate-room.ts turns episodes into traffic; this file only decides where they go.
 * Only `highlight` episodes are labelled: giveaway spikes, slow growth, paid bursts and platform
 * glitches are the look-alikes a detector must not call.
 */
import type { Rng } from './prng.ts';

export type ScenarioName =
  | 'highlight'
  | 'double-highlight'
  | 'flat'
  | 'giveaway-spike'
  | 'slow-growth'
  | 'paid-burst'
  | 'platform-glitch'
  | 'mixed';

export const SCENARIOS: readonly ScenarioName[] = [
  'highlight',
  'double-highlight',
  'flat',
  'giveaway-spike',
  'slow-growth',
  'paid-burst',
  'platform-glitch',
  'mixed',
];

export interface Product {
  sku: string;
  name: string;
  /** Minor units (fen). */
  price: number;
}

/** Catalogue the host sells from; prices in fen (59.00–199.00 yuan). */
export const PRODUCTS: readonly Product[] = [
  { sku: 'serum-30ml', name: 'Hydrating serum 30 ml', price: 15900 },
  { sku: 'lipstick-06', name: 'Matte lipstick #06', price: 8900 },
  { sku: 'nuts-mix-1kg', name: 'Daily nuts mix 1 kg', price: 5900 },
  { sku: 'tea-gift-box', name: 'Oolong tea gift box', price: 12900 },
  { sku: 'blender-pro', name: 'Portable blender', price: 19900 },
  { sku: 'cushion-spf50', name: 'Cushion foundation SPF50', price: 13900 },
  { sku: 'snack-box-24', name: 'Snack box, 24 packs', price: 6900 },
  { sku: 'mask-10pc', name: 'Sheet masks, 10 pieces', price: 9900 },
];

/** A hot product: the host teases it, paid traffic is bought for it, it is launched near the top. */
export interface HighlightEpisode {
  kind: 'highlight';
  /** Onset: the extra arrivals start here (the interaction teaser starts `teaseS` earlier). */
  t0: number;
  teaseS: number;
  /** Onset to launch: arrivals climb (accelerating) to `peakMult` × the baseline rate. */
  buildS: number;
  /** After the launch, arrivals stay at the top this long ... */
  holdS: number;
  /** ... then the extra arrivals decay with this time constant. */
  decayS: number;
  peakMult: number;
  /** Paid arrivals during the build-up and launch, as a multiple of the baseline paid rate. */
  paidMult: number;
  product: Product;
}

export type Episode =
  | HighlightEpisode
  /** An ordinary shelf change: a few more clicks, no crowd. */
  | { kind: 'launch'; t: number; product: Product }
  /** "Comment to win": a crowd pours in, waits for the draw, and leaves right after it. */
  | { kind: 'giveaway'; t0: number; entryS: number; drawS: number; mult: number }
  /** Organic growth: arrivals grow by `perMin` (fraction of baseline) every minute from t0 on. */
  | { kind: 'growth'; t0: number; perMin: number }
  /** Bought traffic without a reason to stay: entries jump, watch time is short, concurrency barely moves. */
  | { kind: 'paid-burst'; t0: number; durS: number; mult: number }
  /** The platform's `room.online` misbehaves; true concurrency does not change. */
  | { kind: 'online-jump'; t0: number; durS: number; factor: number }
  | { kind: 'online-freeze'; t0: number; durS: number }
  | { kind: 'online-gap'; t0: number; durS: number };

/** Seconds a highlight occupies, onset to comfortably back at baseline. */
export function highlightFootprint(h: HighlightEpisode): number {
  return h.buildS + h.holdS + 3 * h.decayS + 90;
}

function highlight(rng: Rng, t0: number, product: Product): HighlightEpisode {
  return {
    kind: 'highlight',
    t0,
    teaseS: Math.round(rng.uniform(20, 40)),
    buildS: Math.round(rng.uniform(70, 110)),
    holdS: Math.round(rng.uniform(40, 70)),
    decayS: Math.round(rng.uniform(30, 45)),
    peakMult: rng.uniform(2.3, 3.0),
    paidMult: rng.uniform(4, 6),
    product,
  };
}

/**
 * Where the first build-up starts: 60–90 s in for a short (demo) room, so a newcomer sees it within
 * two minutes; later in longer rooms, so a detector has a few minutes of baseline first.
 */
function firstOnset(rng: Rng, durationS: number, lateness: number): number {
  return Math.round(60 + rng.uniform(0, 30) + lateness * Math.max(0, durationS - 480));
}

export type GiveawayEpisode = Extract<Episode, { kind: 'giveaway' }>;
export type PaidBurstEpisode = Extract<Episode, { kind: 'paid-burst' }>;

function giveaway(rng: Rng, t0: number): GiveawayEpisode {
  const entryS = Math.round(rng.uniform(20, 30));
  return { kind: 'giveaway', t0, entryS, drawS: entryS + Math.round(rng.uniform(5, 10)), mult: rng.uniform(4, 6) };
}

function paidBurst(rng: Rng, t0: number): PaidBurstEpisode {
  return { kind: 'paid-burst', t0, durS: Math.round(rng.uniform(150, 240)), mult: rng.uniform(3.5, 5) };
}

/** The episodes of one scenario for a stream of `durationS` seconds; episodes that do not fit are left out. */
export function planScenario(name: ScenarioName, durationS: number, rng: Rng): Episode[] {
  const products = [...PRODUCTS];
  const takeProduct = (): Product => products.splice(rng.int(0, products.length - 1), 1)[0] ?? PRODUCTS[0];
  // Every room opens with something on the shelf.
  const episodes: Episode[] = [{ kind: 'launch', t: Math.round(rng.uniform(20, 40)), product: takeProduct() }];
  const fits = (t: number, needS: number): boolean => t + needS <= durationS - 10;
  const add = (e: Episode, t: number, needS: number): boolean => {
    if (!fits(t, needS)) return false;
    episodes.push(e);
    return true;
  };
  // A highlight needs its build-up, the launch and a minute of burst to count as one.
  const addHighlight = (t0: number): HighlightEpisode | null => {
    const h = highlight(rng, t0, takeProduct());
    return add(h, t0, h.buildS + h.holdS + 60) ? h : null;
  };

  switch (name) {
    case 'highlight':
      addHighlight(firstOnset(rng, durationS, 0.35));
      break;
    case 'double-highlight': {
      const h1 = addHighlight(firstOnset(rng, durationS, 0.25));
      if (h1) addHighlight(Math.max(h1.t0 + highlightFootprint(h1) + Math.round(rng.uniform(60, 120)), Math.round(durationS * 0.55)));
      break;
    }
    case 'flat':
      // Ordinary shelf changes every few minutes: product launches are not highlights by themselves.
      for (let t = Math.round(rng.uniform(240, 420)); fits(t, 60); t += Math.round(rng.uniform(240, 420))) {
        episodes.push({ kind: 'launch', t, product: takeProduct() });
      }
      break;
    case 'giveaway-spike': {
      const t1 = Math.round(Math.max(90, durationS * 0.35) + rng.uniform(0, 30));
      add(giveaway(rng, t1), t1, 90);
      const t2 = Math.round(durationS * 0.75);
      if (durationS >= 720) add(giveaway(rng, t2), t2, 90);
      break;
    }
    case 'slow-growth':
      episodes.push({ kind: 'growth', t0: Math.round(Math.max(60, durationS * 0.1)), perMin: rng.uniform(0.025, 0.035) });
      break;
    case 'paid-burst': {
      const t0 = Math.round(Math.max(90, durationS * 0.35));
      add(paidBurst(rng, t0), t0, 150);
      break;
    }
    case 'platform-glitch': {
      const jump = Math.round(durationS * 0.25);
      add({ kind: 'online-jump', t0: jump, durS: Math.round(rng.uniform(15, 25)), factor: rng.uniform(1.8, 2.6) }, jump, 30);
      const freeze = Math.round(durationS * 0.5);
      add({ kind: 'online-freeze', t0: freeze, durS: Math.round(rng.uniform(60, 120)) }, freeze, 60);
      const gap = Math.round(durationS * 0.75);
      add({ kind: 'online-gap', t0: gap, durS: Math.round(rng.uniform(45, 90)) }, gap, 45);
      break;
    }
    case 'mixed': {
      // A highlight, a giveaway to hold the crowd after it, a paid burst, glitches, and a second highlight if time allows.
      const h1 = addHighlight(firstOnset(rng, durationS, 0.25));
      let t = h1 ? h1.t0 + highlightFootprint(h1) : 120;
      if (h1) {
        const jump = Math.round(h1.t0 / 2);
        add({ kind: 'online-jump', t0: jump, durS: Math.round(rng.uniform(15, 20)), factor: rng.uniform(1.8, 2.4) }, jump, 30);
      }
      if (add(giveaway(rng, t), t, 90)) t += 90 + Math.round(rng.uniform(60, 90));
      const burst = paidBurst(rng, t);
      if (add(burst, t, burst.durS)) {
        add({ kind: 'online-gap', t0: t + 30, durS: Math.round(rng.uniform(40, 60)) }, t + 30, 60);
        t += burst.durS + Math.round(rng.uniform(90, 150));
      }
      const h2 = addHighlight(t);
      const freeze = h2 ? h2.t0 + h2.buildS + h2.holdS + 60 : t;
      add({ kind: 'online-freeze', t0: freeze, durS: Math.round(rng.uniform(60, 90)) }, freeze, 60);
      break;
    }
  }
  return episodes;
}
