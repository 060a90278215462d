/**
 * Settings of the pure core. Values come from config/ (profiles, environment); the core never reads
 * them itself, so the same code runs live, in replay, in the evaluation harness and in the bench.
 */
export interface DetectorConfig {
  /** Profile name, reported with every window so a figure can be traced to its settings. */
  profile: string;
  /** Concurrency is sampled once per `sampleMs` of event time; the detector works on those samples. */
  sampleMs: number;
  /** Horizon of the slow baseline, in samples. */
  baselineSamples: number;
  /** Smoothing of the fast level, in samples. */
  fastSamples: number;
  /** Minimum lift over baseline (fraction, 0.1 = 10 %) before a rise can be called. */
  minLift: number;
  /** Minimum absolute rise, in viewers, so a room of 5 going to 7 is not a highlight. */
  minRiseAbs: number;
  /** Consecutive samples above the threshold required before `rising` is emitted. */
  confirmSamples: number;
  /** ...and the despiked lift over baseline (fraction) needed at that point: above `minLift`, so a rise that only
   * grazes the threshold (slow growth, bought traffic that does not stay) is not called. */
  confirmLift: number;
  /** ...and the rise must be at least this many samples old (since the despiked level was last at the baseline):
   * a giveaway crowd arrives within ~30 s and leaves at the draw; a build-up is still climbing. */
  minRiseSamples: number;
  /** The threshold is at least this many times the room's mean wander |x − baseline| while quiet, so a feed
   * with big daily swings or bursts needs a bigger rise than a steady one. */
  spreadK: number;
  /** ...learnt while idle, except once a rise has stayed above the baseline this many samples (a build-up is not
   * wander). Absent in a config written before it: never frozen. */
  spreadFreezeSamples?: number;
  /** Drop from the running max (fraction) that marks the peak as passed. */
  peakDrop: number;
  /** Back within this fraction of the lift above baseline means the window has ended. */
  endWithin: number;
  /** Samples without a new max after the peak before the window is declared ended (flat). */
  flatSamples: number;
  /** Raw samples go through a running median of this many (odd) before anything else: a spike shorter
   * than half of it never reaches the detector. */
  medianSamples: number;
  /** Samples after a start or reset before a rise may be called: the baseline needs something to stand on. */
  warmupSamples: number;
  /** A rise in which the despiked count stepped up by at least this fraction of the baseline in one sample is a
   * jump (a giveaway crowd, a platform count jump)... */
  jumpStep: number;
  /** A gain of `surgeStep` of the baseline within `surgeSamples` is a jump too (absent: only one-sample steps). */
  surgeSamples?: number;
  surgeStep?: number;
  /** ...and only when the `surgeSamples` before it gained less than this share of its gain (absent: any such gain). */
  surgeAbrupt?: number;
  /** After a jump, `rising` also needs the last `surgeSamples` to have gained at least this share of the rise's
   * fastest such gain (still climbing at pace, not a crowd settling until a draw). Absent: no such check. */
  surgeKeep?: number;
  /** ...for this many samples after the jump; a crowd still there after that stayed past any draw. */
  surgeHoldSamples?: number;
  /** ...and must then have held this many samples since its first jump before `rising` is emitted. */
  jumpConfirmSamples: number;
  /** Samples without growth while rising after which the crest is called a peak (plateau) even without a drop. */
  peakFlatSamples: number;
  /** A gap in samples longer than this resets the detector (no carry-forward across it, so no fabricated rise). */
  gapResetSamples: number;
  /** While rising, a window update (slope, forecast) is emitted every this many samples. */
  updateEverySamples: number;
  /**
   * The early `building` stage's alarm threshold, as a multiple of its calibrated setting: 1 is the profile's
   * own, higher is stricter (later, fewer false starts), Infinity turns the stage off. `npm run eval` sweeps it
   * to draw Crest's latency-vs-false-alarm curve.
   */
  earlyScale: number;
  /** Early stage: the level's slope over this many recent samples must not be negative for a call. */
  earlySlopeSamples: number;
  /** An open call is retracted after this many samples without growth, or this many without confirmation. */
  earlyStallSamples: number;
  earlyMaxSamples: number;
  /** Leading signals (core/detector-lead.ts): smoothing of their fast rates, in samples. */
  leadFastSamples: number;
  /** Entries per sample below which a room's leading signals are not read (it sends only concurrency). */
  leadMinRate: number;
  /** z of interaction, and of organic or paid entries, that together say a build-up has started... */
  leadZAct: number;
  leadZOrganic: number;
  leadZPaid: number;
  /** ...held this many samples; and a fast-over-baseline ratio of organic entries or interaction at or above
   * `leadAbruptRatio` is a crowd arriving in a step (a giveaway), left to the confirmed stage's jump rules. */
  leadHoldSamples: number;
  leadAbruptRatio: number;
  /** A giveaway's step (core/detector-lead.ts leadStepped): interaction at `leadBurstAct` × and organic entries at
   * `leadBurstOrganic` × their baselines together, in a burst rate over `leadBurstSamples`, at z ≥ `leadBurstZ`, each
   * near its baseline within `leadStepSamples`. Such a rise is not announced, and `rising` waits `jumpConfirmSamples`
   * after it. Absent `leadBurstSamples`: off. */
  leadBurstSamples?: number;
  leadBurstZ?: number;
  leadBurstAct?: number;
  leadBurstOrganic?: number;
  leadStepSamples?: number;
  /** No call, `building` or `rising`, while the extra entries are mostly paid: the buyer's own boost is no build-up to buy into. */
  leadPaidHold?: boolean;
  /** The paid baseline learns this many times slower while a boost is under way (absent: 1, as every other rate). */
  leadPaidLearnSlowdown?: number;
}

export interface PolicyConfig {
  /** A suggestion of the same cooldown key is held back (logged as suppressed) for this long. */
  cooldownMs: number;
  /** Suggestions expire this long after creation unless a kind says otherwise. */
  ttlMs: number;
  /** Suggested boost duration when no forecast is available, minutes. */
  defaultBoostMin: number;
}

export interface EngineConfig {
  detector: DetectorConfig;
  policy: PolicyConfig;
  /** A viewer with no event for this long is counted gone (DESIGN §3). */
  viewerIdleMs: number;
  /** A platform `room.online` count is trusted for this long after it arrives. */
  onlineFreshMs: number;
  /** Events this far behind the room's watermark are late: counted in totals, reported, not re-windowed. */
  allowedLatenessMs: number;
  /** Ticks are emitted once per `tickMs` of event time. */
  tickMs: number;
  /** How many recent event ids a room remembers to drop duplicates that slip past ingest dedupe. */
  recentIdsKept: number;
}
