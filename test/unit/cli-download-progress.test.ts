import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { meteredDownloader } from '#compose/download-meter.ts';
import type { SyncProgress } from '#local/local-sync.ts';
import { downloadBar, formatEta, TransferRate } from '../../functions/cli/io/download-progress.ts';
import { ProgressLine } from '../../functions/cli/io/progress-line.ts';

const MB = 1_000_000;

const downloading = (over: Partial<SyncProgress>): SyncProgress => ({
  phase: 'downloading',
  itemsEnqueued: 62,
  itemsDone: 38,
  bytesArchived: 0,
  bytesDownloaded: 0,
  bytesExpected: 0,
  ...over,
});

describe('the download bar', () => {
  it('advances with bytes while one long video streams, with the rate and the time left', () => {
    const before = downloadBar(downloading({ bytesDownloaded: 100 * MB, bytesExpected: 534 * MB }), 10 * MB);
    const later = downloadBar(downloading({ bytesDownloaded: 300 * MB, bytesExpected: 534 * MB }), 10 * MB);
    expect(later.done / later.total).toBeGreaterThan(before.done / before.total);
    expect(later.label).toBe('38/62 items, 300 MB of 534 MB, 10.0 MB/s, 24 s left');
  });

  it('is full once every item is done, though fewer bytes came than expected (archived ones are skipped)', () => {
    const bar = downloadBar(
      downloading({ itemsDone: 62, bytesDownloaded: 10 * MB, bytesExpected: 40 * MB }),
      5 * MB,
    );
    expect(bar.done).toBe(bar.total);
    expect(bar.label).not.toContain('left');
  });

  it('says the total still grows while detection finds work, and guesses no time left', () => {
    const bar = downloadBar(
      downloading({ itemsDone: 62, bytesDownloaded: 10 * MB, bytesExpected: 10 * MB, stillDetecting: true }),
      5 * MB,
    );
    expect(bar.label).toBe('62/62+ items, 10.0 MB of 10.0 MB, 5.0 MB/s');
    const midway = downloadBar(
      downloading({ bytesDownloaded: 10 * MB, bytesExpected: 40 * MB, stillDetecting: true }),
      5 * MB,
    );
    expect(midway.label).toBe('38/62+ items, 10.0 MB of 40.0 MB, 5.0 MB/s');
  });

  it('counts items when the work downloads nothing (favourites, trash)', () => {
    expect(downloadBar(downloading({}), undefined)).toEqual({ label: '38/62 items', done: 38, total: 62 });
  });
});

describe('TransferRate', () => {
  it('measures bytes per second over the last seconds, and shows a stall', () => {
    const rate = new TransferRate();
    expect(rate.sample(0, 0)).toBeUndefined();
    expect(rate.sample(10 * MB, 1000)).toBe(10 * MB);
    for (let t = 2000; t <= 6000; t += 1000) rate.sample(10 * MB * (t / 1000), t);
    // Nothing arrives for six seconds: the window forgets the fast part.
    for (let t = 7000; t <= 12_000; t += 1000) rate.sample(60 * MB, t);
    expect(rate.sample(60 * MB, 13_000)).toBe(0);
  });
});

describe('formatEta', () => {
  it('reads as a person says it', () => {
    expect(formatEta(4.2)).toBe('5 s');
    expect(formatEta(185)).toBe('3 min 05 s');
    expect(formatEta(3720)).toBe('1 h 02 min');
  });
});

describe('meteredDownloader', () => {
  it('counts each chunk as the consumer reads it, and passes the bytes through unchanged', async () => {
    const seen: number[] = [];
    const chunks = [Buffer.alloc(1000, 1), Buffer.alloc(500, 2)];
    const downloader = meteredDownloader(
      { open: async () => ({ body: Readable.from(chunks), contentLength: 1500 }) },
      (n) => seen.push(n),
    );
    const { body, contentLength } = await downloader.open('https://cvws.icloud-content.com/x', {});
    const received: Buffer[] = [];
    for await (const chunk of body) received.push(chunk as Buffer);
    expect(Buffer.concat(received)).toEqual(Buffer.concat(chunks));
    expect(seen).toEqual([1000, 500]);
    expect(contentLength).toBe(1500);
  });

  it('passes a failing body on as an error', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    const downloader = meteredDownloader({ open: async () => ({ body: failing }) }, () => {});
    const { body } = await downloader.open('https://cvws.icloud-content.com/x', {});
    await expect(
      (async () => {
        for await (const _ of body) {
          // drain
        }
      })(),
    ).rejects.toThrow('connection reset');
  });
});

describe('ProgressLine', () => {
  it('uses 100 columns on a terminal that reports a width of 0 (some ptys), not 10', () => {
    let written = '';
    const stream = {
      isTTY: true,
      columns: 0,
      write: (text: string) => {
        written += text;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    new ProgressLine(stream).update('38/62 items, 265 MB of 534 MB, 10.0 MB/s, 27 s left', 265, 534);
    expect(written).toContain('27 s left');
  });
});
