import type { BaselineSpec } from '../types.ts';

/** Never alarms: the floor every figure is read against (NAB's null detector). */
export const noAlarms: BaselineSpec = {
  name: 'none',
  settings: 'never alarms',
  create: () => ({ push: () => false }),
};
