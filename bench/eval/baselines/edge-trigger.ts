/**
 * Edge-triggered alarm on a score: fires once when the score goes above `fireAbove`, then stays quiet until it has
 * fallen below `rearmBelow`, so a long rise is one alarm. The baselines that threshold a score (EWMA z, rolling-mean
 * lift) fire through it, so they count alarms the same way.
 */
export function edgeTrigger(fireAbove: number, rearmBelow: number): (score: number) => boolean {
  let armed = true;
  return (score) => {
    if (armed && score > fireAbove) {
      armed = false;
      return true;
    }
    if (!armed && score < rearmBelow) armed = true;
    return false;
  };
}
