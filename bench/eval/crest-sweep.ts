/**
 * Crest's own knobs for the latency-vs-false-alarm sweep: the early stage's threshold (`earlyScale`, Infinity =
 * early stage off) and a scale of the confirmed stage's threshold (minLift, confirmLift, minRiseAbs and spreadK
 * together: every term of max(minRiseAbs, minLift·B, NOISE_K·σ, spreadK·S) but the noise floor, plus the lift
 * needed at confirmation). One axis at a time around the profile's own setting, so a profile costs
 * EARLY_SCALES + CONFIRM_SCALES − 1 replays; each replay is cached per setting and item.
 */
import type { DetectorProfileName } from '../../config/detector-profiles.ts';
import type { EngineConfig } from '../../core/engine-config.ts';
import type { CrestRun, EngineApi, ForecastError } from './crest-replay.ts';
import type { Item } from './items.ts';

export const EARLY_SCALES: readonly number[] = [0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, Infinity];
export const CONFIRM_SCALES: readonly number[] = [0.5, 0.7, 0.85, 1, 1.2, 1.4, 2, 3];

export interface CrestSetting {
  earlyScale: number;
  confirmScale: number;
}

/** The sweep of one profile: the early axis at confirm ×1, then the confirm axis at early ×1. */
export function crestSettings(): CrestSetting[] {
  return [
    ...EARLY_SCALES.map((earlyScale) => ({ earlyScale, confirmScale: 1 })),
    ...CONFIRM_SCALES.filter((s) => s !== 1).map((confirmScale) => ({ earlyScale: 1, confirmScale })),
  ];
}

export const settingLabel = (s: CrestSetting): string =>
  `early ×${s.earlyScale === Infinity ? '∞ (off)' : s.earlyScale}, confirm ×${s.confirmScale}`;

/** The profile's config at a sweep setting (earlyScale multiplies the profile's own, 1 in every profile today). */
export function configAt(cfg: EngineConfig, s: CrestSetting): EngineConfig {
  const d = cfg.detector;
  return {
    ...cfg,
    detector: {
      ...d,
      earlyScale: d.earlyScale * s.earlyScale,
      minLift: d.minLift * s.confirmScale,
      confirmLift: d.confirmLift * s.confirmScale,
      minRiseAbs: d.minRiseAbs * s.confirmScale,
      spreadK: d.spreadK * s.confirmScale,
    },
  };
}

/** Replays cached per (profile, setting, item): the main table and the sweep share the default run. */
export class CrestRuns {
  private readonly cache = new Map<string, WeakMap<Item, { run: CrestRun; forecasts: ForecastError[] }>>();
  constructor(
    private readonly engine: EngineApi,
    private readonly cfgOf: (p: DetectorProfileName) => EngineConfig,
  ) {}

  get(it: Item, profile: DetectorProfileName, s: CrestSetting = { earlyScale: 1, confirmScale: 1 }): { run: CrestRun; forecasts: ForecastError[] } {
    const key = `${profile}|${s.earlyScale}|${s.confirmScale}`;
    let m = this.cache.get(key);
    if (!m) this.cache.set(key, (m = new WeakMap()));
    let r = m.get(it);
    if (!r) m.set(it, (r = it.crest(this.engine, configAt(this.cfgOf(profile), s))));
    return r;
  }
}
