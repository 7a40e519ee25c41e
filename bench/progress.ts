/** A progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise (CI logs). */
export class Progress {
  private done = 0;
  private readonly started = performance.now();
  private lastDraw = 0;
  private lastDecile = -1;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'rows',
  ) {}

  add(n: number): void {
    this.done = Math.min(this.total, this.done + n);
    const now = performance.now();
    if (process.stderr.isTTY) {
      if (now - this.lastDraw > 100 || this.done === this.total) {
        this.lastDraw = now;
        process.stderr.write(`\r${this.line(now)}\x1b[K`);
      }
      return;
    }
    const decile = Math.floor((this.done / this.total) * 10);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      process.stderr.write(`${this.line(now)}\n`);
    }
  }

  finish(): void {
    const now = performance.now();
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${this.line(now)}\x1b[K\n`);
    } else if (this.lastDecile !== 10) {
      process.stderr.write(`${this.line(now)}\n`);
    }
  }

  private line(now: number): string {
    const width = 30;
    const ratio = this.total === 0 ? 1 : this.done / this.total;
    const filled = Math.round(ratio * width);
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : 0;
    return (
      `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ` +
      `${this.done.toLocaleString('en')}/${this.total.toLocaleString('en')} ${this.unit} · ` +
      `${Math.round(rate).toLocaleString('en')}/s · ${this.done === this.total ? `${seconds.toFixed(1)}s` : `ETA ${Math.ceil(eta)}s`}`
    );
  }
}
