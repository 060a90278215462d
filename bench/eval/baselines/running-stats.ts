/**
 * Exponentially weighted running mean and variance with a bias-free start: the weight of a new value
 * is max(alpha, 1/count), so the first rows are a plain running average and later rows forget with
 * memory ~1/alpha. Shared by the baselines that standardise on "recent normal".
 */
export class RunningStats {
  count = 0;
  mean = 0;
  variance = 0;

  constructor(private readonly alpha: number) {}

  push(x: number): void {
    this.count++;
    const a = Math.max(this.alpha, 1 / this.count);
    const d = x - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
  }

  /**
   * σ with a floor: half a viewer (counts are integers, so a constant room has σ 0) or 0.1 % of the
   * level, whichever is larger. Without it a constant series would turn a one-viewer wiggle into ∞σ.
   */
  sigma(): number {
    return Math.max(Math.sqrt(this.variance), 0.5, 0.001 * Math.abs(this.mean));
  }

  reset(): void {
    this.count = 0;
    this.mean = 0;
    this.variance = 0;
  }
}
