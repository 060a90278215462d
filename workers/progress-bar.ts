/**
 * A one-line progress bar on stderr: redrawn in place on a terminal (at most ~10 times a second),
 * one plain line every 10 % otherwise, so logs stay readable. No dependency.
 */
export class ProgressBar {
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
  ) {
    this.tty = !!out.isTTY;
  }

  /** `done` of `total`, with a short status after the bar. */
  update(done: number, total: number, status = '', force = false): void {
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const now = Date.now();
    if (this.tty) {
      if (!force && now - this.lastDraw < 100 && frac < 1) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line(frac, done, total, status)}\x1b[K`);
    } else {
      const decile = Math.floor(frac * 10);
      if (!force && decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.out.write(this.line(frac, done, total, status) + '\n');
    }
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.tty) this.out.write('\n');
  }

  private line(frac: number, done: number, total: number, status: string): string {
    const filled = Math.round(frac * this.width);
    const pct = String(Math.floor(frac * 100)).padStart(3);
    return `[${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${pct}% ${done}/${total}${status ? `  ${status}` : ''}`;
  }
}
