/** A one-line progress bar on stderr: rows, rows/s, ETA. Redrawn in place on a terminal, else every 10 %. */
export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  /** Reports `done` rows so far; draws at most ten times a second. */
  update(done: number): void {
    const now = performance.now();
    const tenth = Math.floor((done / this.total) * 10);
    if (this.tty ? now - this.lastDraw < 100 && done < this.total : tenth === this.lastTenth) return;
    this.lastDraw = now;
    this.lastTenth = tenth;
    const rate = done / ((now - this.started) / 1000 || 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    const line = `${this.label} ${bar} ${done.toLocaleString("en-US")}/${this.total.toLocaleString("en-US")} rows, ${Math.round(rate).toLocaleString("en-US")} rows/s, ETA ${eta.toFixed(0)} s`;
    process.stderr.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  /** Ends the line on a terminal. */
  finish(): void {
    if (this.tty) process.stderr.write("\n");
  }
}
