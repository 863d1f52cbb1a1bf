/**
 * The download bar's words: items, bytes of bytes, the rate and the time left, advancing with
 * bytes as they stream (a 434 MB video is one item: counting items alone froze the bar at 61 %
 * for 36 s). The rate is measured over the last few seconds, so a slow start or a pause shows.
 */
import type { SyncProgress } from '#local/local-sync.ts';
import { formatBytes } from './progress-line.ts';

/** Long enough to smooth chunk bursts, short enough that a stall shows within seconds. */
const WINDOW_MS = 5_000;

/** Bytes per second over a sliding window of (time, total bytes) samples. */
export class TransferRate {
  readonly #samples: { at: number; bytes: number }[] = [];

  /** Records the running total at `at` (ms); returns the rate in bytes/s, or undefined before there is one. */
  sample(bytes: number, at: number): number | undefined {
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && at - (this.#samples[1]?.at ?? at) >= WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0];
    if (first === undefined || at - first.at < 500) return undefined;
    return ((bytes - first.bytes) * 1000) / (at - first.at);
  }
}

/** `45 s`, `3 min 05 s`, `1 h 02 min`: the time left, to the second while short. */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export interface DownloadBar {
  readonly label: string;
  readonly done: number;
  readonly total: number;
}

/**
 * What the bar shows for `p`: its share is bytes streamed of bytes expected (items when there
 * are no bytes to fetch, as in a run of favourites); the expected bytes are an upper bound, so
 * the bar is full once every item is done. While detection still finds work (downloads start
 * with its first page), the items found so far read `120+` and no time left is guessed: the
 * total is still growing.
 */
export function downloadBar(p: SyncProgress, rate: number | undefined): DownloadBar {
  const growing = p.stillDetecting === true;
  const items = `${p.itemsDone}/${p.itemsEnqueued}${growing ? '+' : ''} items`;
  const allDone = !growing && p.itemsEnqueued > 0 && p.itemsDone >= p.itemsEnqueued;
  if (p.bytesExpected <= 0) return { label: items, done: p.itemsDone, total: p.itemsEnqueued };
  const expected = Math.max(p.bytesExpected, p.bytesDownloaded);
  const remaining = expected - p.bytesDownloaded;
  const speed = rate === undefined ? '' : `, ${formatBytes(rate)}/s`;
  const eta =
    rate !== undefined && rate > 0 && !allDone && !growing && remaining > 0
      ? `, ${formatEta(remaining / rate)} left`
      : '';
  return {
    label: `${items}, ${formatBytes(p.bytesDownloaded)} of ${formatBytes(expected)}${speed}${eta}`,
    done: allDone ? expected : p.bytesDownloaded,
    total: expected,
  };
}
