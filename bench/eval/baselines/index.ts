/** Every baseline in the harness, in table order. Each is online, causal, deterministic, one default setting. */
import type { BaselineSpec } from '../types.ts';
import { bocpd } from './bocpd.ts';
import { cusum } from './cusum.ts';
import { ewma } from './ewma.ts';
import { noAlarms } from './no-alarms.ts';
import { rollingMean } from './rolling-mean.ts';

export const BASELINES: readonly BaselineSpec[] = [noAlarms, rollingMean, cusum, ewma, bocpd];

/** Runs an online detector over a whole series; returns the rows it alarmed at. */
export function runBaseline(spec: BaselineSpec, values: readonly number[]): number[] {
  const d = spec.create();
  const rows: number[] = [];
  for (let i = 0; i < values.length; i++) if (d.push(values[i]!)) rows.push(i);
  return rows;
}
