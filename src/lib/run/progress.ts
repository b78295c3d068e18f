/** A one-line terminal progress bar on stderr, redrawn in place. */
export class ProgressBar {
  private last = 0;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, note: string, startedMs: number): void {
    const now = performance.now();
    // Redrawing more than ~10×/s costs more than it shows.
    if (done < this.total && now - this.last < 100) return;
    this.last = now;
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    const perItem = done > 0 ? (now - startedMs) / done : 0;
    const eta = perItem * (this.total - done);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.stream.write(`\r${bar} ${done}/${this.total}  ${note}  ${formatDuration(perItem)}/it  ETA ${formatDuration(eta)}\x1b[K`);
  }

  end(): void {
    this.stream.write('\n');
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
