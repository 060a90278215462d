/**
 * Event shapes of the live set (issue 13): what each episode does to a room's inflow (viewers per second
 * by traffic source) and to its per-viewer interaction rate, second by second. Concurrency is never set
 * here: flow-room.ts integrates entries − exits, so it moves after the inflow does, by itself.
 *
 * The parameter ranges are chosen once, from what a livestream-commerce room does, before any detector
 * was scored on them (issue 13: generate, then measure); they are not to be moved to make anyone win.
 * Times are seconds since stream start.
 */
import type { Rng } from './prng.ts';

/**
 * A build-up: the cause (the host's hype, or the platform's feed picking the room up) starts at `startS`;
 * entries follow `lagS` later (the feed reacting to engagement), then grow for `growS` so that concurrency
 * would grow at `g0PerMin` at first, accelerating linearly to `g1PerMin`, reaching 1 + `lift` times its
 * level; it holds `holdS` at the top, then the extra inflow decays with time constant `decayS`.
 */
export interface BuildUp {
  kind: 'buildup';
  startS: number;
  /** 'hype': interactions rise first, entries `lagS` later; 'feed': the feed pushes the room, entries first. */
  led: 'hype' | 'feed';
  lagS: number;
  growS: number;
  lift: number;
  /** Concurrency growth per minute at the start of the entries' rise (0.02 = the slow ones, +2 %/min). */
  g0PerMin: number;
  g1PerMin: number;
  slow: boolean;
  holdS: number;
  decayS: number;
  /** Per-viewer interaction rate multiplier reached (1 + engageLift), over `engageRampS`. */
  engageLift: number;
  engageRampS: number;
}

/**
 * A giveaway: the host announces a draw; a crowd arrives at once (extra inflow decaying with `tauS`), most
 * of it stays only until the draw at `startS + holdS` and leaves within ~`leaveMeanS` after; comments
 * explode meanwhile. Concurrency jumps and falls back: not a build-up.
 */
export interface Giveaway {
  kind: 'giveaway';
  startS: number;
  /** Crowd size as a share of the room's base concurrency. */
  lift: number;
  tauS: number;
  holdS: number;
  leaveMeanS: number;
  /** Share of the crowd that stays on like ordinary feed viewers. */
  stayShare: number;
  engageLift: number;
}

/** A teaser that flops: engagement and entries move a little for `riseS`, concurrency gains a few %, then it fades over `fadeS`. */
export interface Teaser {
  kind: 'teaser';
  startS: number;
  riseS: number;
  fadeS: number;
  lift: number;
  engageLift: number;
}

/** Bought traffic: paid entries ramp up over `rampS`, hold to `durationS`, ramp down; paid viewers leave fast. */
export interface PaidBurst {
  kind: 'paid';
  startS: number;
  durationS: number;
  rampS: number;
  /** Concurrency gain the extra paid inflow would hold at steady state, as a share of base concurrency. */
  lift: number;
}

export type LiveEpisode = BuildUp | Giveaway | Teaser | PaidBurst;

/** Platform faults on the online count only (entries and interactions keep flowing). On the 5 s report grid. */
export type Glitch =
  /** The count stays at its value at `startS` until `startS + durationS`. */
  | { kind: 'freeze'; startS: number; durationS: number }
  /** The report at `atS` repeats the value of 5 s before (a stale cache). */
  | { kind: 'repeat'; atS: number }
  /** No report at `atS`: the row is missing. */
  | { kind: 'drop'; atS: number };

const logUniform = (rng: Rng, lo: number, hi: number): number => Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));

/** Build-ups last 2–12 min of growth; one in three starts at +2 %/min of concurrency (issue 13's slow case). */
export function drawBuildUp(rng: Rng, startS: number): BuildUp {
  const growS = Math.round(rng.uniform(2, 12) * 60);
  const lift = logUniform(rng, 0.4, 3);
  const meanG = Math.log(1 + lift) / (growS / 60);
  const slow = rng.chance(1 / 3);
  const g0PerMin = slow ? 0.02 : Math.max(0.02, meanG * rng.uniform(0.25, 1));
  const led = rng.chance(0.7) ? 'hype' : 'feed';
  return {
    kind: 'buildup',
    startS,
    led,
    lagS: led === 'hype' ? Math.round(rng.uniform(10, 60)) : 0,
    growS,
    lift,
    g0PerMin,
    // Linear growth rate g0 → g1 over growS, so that ∫g = ln(1 + lift).
    g1PerMin: Math.max(0, 2 * meanG - g0PerMin),
    slow,
    holdS: Math.round(rng.uniform(30, 120)),
    decayS: Math.round(rng.uniform(60, 180)),
    engageLift: led === 'hype' ? rng.uniform(0.3, 2) : rng.uniform(0, 0.3),
    engageRampS: Math.round(rng.uniform(20, 90)),
  };
}

export function drawGiveaway(rng: Rng, startS: number): Giveaway {
  return {
    kind: 'giveaway',
    startS,
    lift: rng.uniform(0.2, 1),
    tauS: rng.uniform(15, 60),
    holdS: Math.round(rng.uniform(45, 180)),
    leaveMeanS: rng.uniform(15, 45),
    stayShare: rng.uniform(0.05, 0.2),
    engageLift: rng.uniform(2, 6),
  };
}

export function drawTeaser(rng: Rng, startS: number): Teaser {
  return {
    kind: 'teaser',
    startS,
    riseS: Math.round(rng.uniform(60, 150)),
    fadeS: Math.round(rng.uniform(60, 120)),
    lift: rng.uniform(0.04, 0.12),
    engageLift: rng.uniform(0.5, 2),
  };
}

export function drawPaidBurst(rng: Rng, startS: number): PaidBurst {
  return { kind: 'paid', startS, durationS: Math.round(rng.uniform(120, 360)), rampS: Math.round(rng.uniform(20, 40)), lift: rng.uniform(0.15, 0.5) };
}

/** Seconds an episode occupies, start to settled (its effect on concurrency has died out), for placing the next one apart. */
export function episodeSpanS(ep: LiveEpisode): number {
  switch (ep.kind) {
    case 'buildup':
      return ep.lagS + ep.growS + ep.holdS + 4 * ep.decayS;
    case 'giveaway':
      return ep.holdS + 4 * ep.leaveMeanS + 60;
    case 'teaser':
      return ep.riseS + 2 * ep.fadeS + 60;
    case 'paid':
      return ep.durationS + ep.rampS + 120;
  }
}

/** The room quantities a shape needs to turn "lift" into viewers per second. */
export interface ShapeBase {
  /** Base true concurrency. */
  viewers: number;
  /** Mean watch time (s) of an extra organic viewer (the feed-heavy mix a build-up brings). */
  organicWatchS: number;
  paidWatchS: number;
}

/** What the episodes add at second s: extra inflow (viewers/s) by kind and the per-viewer interaction multiplier. */
export interface Drive {
  organic: number;
  paid: number;
  /** Giveaway crowd arrivals (they leave at the draw). */
  crowd: number;
  engage: number;
}

const ramp = (x: number): number => (x <= 0 ? 0 : x >= 1 ? 1 : x);

/** Concurrency ratio target r(τ) of a build-up's growth phase and its derivative (per second). */
function buildUpTarget(b: BuildUp, tau: number): { r: number; dr: number } {
  const g0 = b.g0PerMin / 60;
  const g1 = b.g1PerMin / 60;
  const t = Math.min(tau, b.growS);
  const lnR = g0 * t + ((g1 - g0) * t * t) / (2 * b.growS);
  const r = Math.exp(lnR);
  const g = tau <= b.growS ? g0 + ((g1 - g0) * t) / b.growS : 0;
  return { r, dr: r * g };
}

/** Adds episode `ep`'s effect at second s to `d`. */
export function addDrive(ep: LiveEpisode, s: number, base: ShapeBase, d: Drive): void {
  const rel = s - ep.startS;
  if (rel < 0) return;
  const C0 = base.viewers;
  switch (ep.kind) {
    case 'buildup': {
      const peakRel = ep.lagS + ep.growS + ep.holdS;
      const engageOn = ep.led === 'hype' ? ramp(rel / ep.engageRampS) : ramp((rel - ep.lagS) / ep.engageRampS);
      const fade = rel > peakRel ? Math.exp(-(rel - peakRel) / ep.decayS) : 1;
      d.engage *= 1 + ep.engageLift * engageOn * fade;
      const tau = rel - ep.lagS;
      if (tau < 0) return;
      // Entries that would move concurrency along r(τ) if extra viewers left at 1/W per second:
      // λ = C0·(dr/dt + (r − 1)/W). The lognormal watch times make the realised curve differ a little.
      if (tau <= ep.growS) {
        const { r, dr } = buildUpTarget(ep, tau);
        d.organic += C0 * (dr + (r - 1) / base.organicWatchS);
      } else {
        const rTop = buildUpTarget(ep, ep.growS).r;
        d.organic += (C0 * (rTop - 1) * fade) / base.organicWatchS;
      }
      return;
    }
    case 'giveaway': {
      if (rel >= ep.holdS) return;
      d.engage *= 1 + ep.engageLift;
      // ∫ A·e^(−t/τ) over the hold = lift·C0.
      const A = (ep.lift * C0) / (ep.tauS * (1 - Math.exp(-ep.holdS / ep.tauS)));
      d.crowd += A * Math.exp(-rel / ep.tauS);
      return;
    }
    case 'teaser': {
      const on = rel < ep.riseS ? rel / ep.riseS : Math.exp(-(rel - ep.riseS) / ep.fadeS);
      d.engage *= 1 + ep.engageLift * on;
      d.organic += (C0 * ep.lift * on) / base.organicWatchS;
      return;
    }
    case 'paid': {
      const on = Math.min(ramp(rel / ep.rampS), ramp((ep.durationS - rel) / ep.rampS));
      d.paid += (C0 * ep.lift * on) / base.paidWatchS;
      return;
    }
  }
}

/** When the giveaway crowd that arrived at second s leaves: the draw, plus an exponential wait. */
export function giveawayDrawS(g: Giveaway): number {
  return g.startS + g.holdS;
}
