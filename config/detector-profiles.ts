/**
 * Named detector profiles (DESIGN §4): the trade-off between firing early and crying wolf.
 * docs/detector.md reports each profile's numbers from `npm run eval`.
 */
import type { DetectorConfig } from '../core/engine-config.ts';

const balanced: DetectorConfig = {
  profile: 'balanced',
  sampleMs: 1_000,
  baselineSamples: 300,
  fastSamples: 10,
  minLift: 0.15,
  minRiseAbs: 20,
  confirmSamples: 8,
  confirmLift: 0.2,
  minRiseSamples: 30,
  spreadK: 2.5,
  spreadFreezeSamples: 60,
  peakDrop: 0.08,
  endWithin: 0.2,
  flatSamples: 180,
  medianSamples: 5,
  warmupSamples: 30,
  jumpStep: 0.15,
  jumpConfirmSamples: 40,
  peakFlatSamples: 60,
  gapResetSamples: 60,
  updateEverySamples: 10,
  earlyScale: 1,
  earlySlopeSamples: 15,
  earlyStallSamples: 90,
  earlyMaxSamples: 300,
  leadFastSamples: 20,
  leadMinRate: 0.05,
  leadZAct: 3,
  leadZOrganic: 2,
  leadZPaid: 3,
  leadHoldSamples: 10,
  leadAbruptRatio: 2.5,
  leadBurstSamples: 4,
  leadBurstZ: 4,
  leadBurstAct: 1.5,
  leadBurstOrganic: 1.5,
  leadStepSamples: 15,
  surgeSamples: 30,
  surgeStep: 0.1,
  surgeAbrupt: 0.3,
  surgeKeep: 0.7,
  surgeHoldSamples: 180,
  leadPaidHold: true,
};

export const DETECTOR_PROFILES = {
  sensitive: {
    ...balanced,
    profile: 'sensitive',
    minLift: 0.08,
    minRiseAbs: 10,
    confirmSamples: 5,
    confirmLift: 0.15,
    minRiseSamples: 30,
    spreadK: 2,
    jumpConfirmSamples: 36,
  },
  balanced,
  conservative: {
    ...balanced,
    profile: 'conservative',
    minLift: 0.25,
    minRiseAbs: 40,
    confirmSamples: 15,
    confirmLift: 0.3,
    minRiseSamples: 40,
    jumpConfirmSamples: 45,
    surgeSamples: 30,
    surgeStep: 0.1,
    surgeAbrupt: 0.3,
    surgeKeep: 0.7,
    surgeHoldSamples: 180,
  },
} as const satisfies Record<string, DetectorConfig>;

export type DetectorProfileName = keyof typeof DETECTOR_PROFILES;
export const DETECTOR_PROFILE_NAMES = Object.keys(DETECTOR_PROFILES) as DetectorProfileName[];
