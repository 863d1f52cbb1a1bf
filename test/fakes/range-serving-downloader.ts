/**
 * A `MediaDownloader` for long videos: serves the bytes it holds per URL, from the start (200) or,
 * asked for an offset, from there (a 206 naming its first byte) unless told to ignore ranges as a
 * CDN may (200, the whole file). Counts the bytes it served, and calls `onServed` with the bytes
 * served so far by the open download (an invocation's deadline arriving mid-transfer).
 */
import { Readable } from 'node:stream';
import type { MediaDownload, MediaDownloader } from '#ports/media-download.ts';

export class RangeServingDownloader implements MediaDownloader {
  readonly files = new Map<string, Buffer>();
  /** Bytes served in all, by every download. */
  served = 0;
  /** The offsets asked for, one per download. */
  readonly offsets: number[] = [];
  ignoreRanges = false;
  onServed: ((servedByThisDownload: number) => void) | undefined;

  async open(url: string, options: { readonly offset?: number } = {}): Promise<MediaDownload> {
    const file = this.files.get(url);
    if (file === undefined) throw new Error(`no file at ${url}`);
    const offset = options.offset ?? 0;
    this.offsets.push(offset);
    const startsAt = this.ignoreRanges ? 0 : offset;
    let at = startsAt;
    let byThis = 0;
    const body = new Readable({
      read: () => {
        this.onServed?.(byThis);
        if (at >= file.length) return void body.push(null);
        const chunk = file.subarray(at, Math.min(file.length, at + 256 * 1024));
        at += chunk.length;
        byThis += chunk.length;
        this.served += chunk.length;
        body.push(chunk);
      },
    });
    return { body, contentLength: file.length - startsAt, startsAt };
  }
}
