/**
 * A one-line progress bar on a terminal (stderr), redrawn in place; nothing at all elsewhere,
 * so logs and pipes stay clean.
 */
export class ProgressLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #last = '';

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#enabled = Boolean(stream.isTTY);
  }

  /** Draws `label` with a bar for done/total (no bar while the total is unknown). */
  update(label: string, done: number, total?: number): void {
    if (!this.#enabled) return;
    const width = 28;
    let line = label;
    if (total !== undefined && total > 0) {
      const share = Math.min(1, done / total);
      const filled = Math.round(share * width);
      line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${label}`;
    }
    // A terminal that reports no width (0, as some ptys do) gets a sensible one, not 10 columns.
    const columns = this.#stream.columns || 100;
    line = line.slice(0, Math.max(10, columns - 1));
    if (line === this.#last) return;
    this.#last = line;
    this.#stream.write(`\r\x1b[2K${line}`);
  }

  /** Clears the line (before printing results). */
  done(): void {
    if (!this.#enabled || this.#last === '') return;
    this.#stream.write('\r\x1b[2K');
    this.#last = '';
  }
}

/** `1.2 GB`, `340 kB`: decimal units, as file managers show them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** `2.4 s`, `3 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}
