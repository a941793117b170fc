/** The progress bar on stderr, and how bytes and durations are shown. */
import type { Output } from './options.ts';

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
export const formatBytes = (bytes: number): string => {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
};

const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
};

/** A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastDecile = -1;

  constructor(
    private readonly out: Output,
    private readonly total: number,
    already = 0,
  ) {
    this.done = already;
  }

  add(bytes: number): void {
    this.done += bytes;
    this.draw(false);
  }

  line(): string {
    const fraction = this.total === 0 ? 1 : Math.min(1, this.done / this.total);
    const width = 30;
    const filled = Math.round(fraction * width);
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : Number.POSITIVE_INFINITY;
    return (
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}% ` +
      `${formatBytes(this.done)} / ${formatBytes(this.total)}  ${formatBytes(rate)}/s  ETA ${formatDuration(eta)}`
    );
  }

  draw(final: boolean): void {
    const now = Date.now();
    if (this.out.isTTY) {
      if (!final && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line()}${final ? '\n' : ''}`);
      return;
    }
    const decile = this.total === 0 ? 10 : Math.floor((this.done / this.total) * 10);
    if (decile > this.lastDecile || final) {
      this.lastDecile = decile;
      this.out.write(`${this.line()}\n`);
    }
  }
}
