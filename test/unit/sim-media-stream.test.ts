import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { mediaSha256, openMedia } from '#simulator/src/media/index.ts';
import { streamLayout } from '#simulator/src/media/layout.ts';
import type { MediaSpec } from '#simulator/src/types.ts';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const spec = (uti: string, size: number, seed = 'stream-seed'): MediaSpec => ({
  uti,
  size,
  seed,
  captureTime: Date.UTC(2021, 8, 9, 10, 11, 12),
  timeZoneOffsetSeconds: 3600,
  width: 1024,
  height: 768,
});

const UTIS = [
  'public.jpeg',
  'public.heic',
  'public.png',
  'com.apple.quicktime-movie',
  'com.canon.cr2-raw-image',
];
const GIB = 1024 ** 3;

describe('simulated media streams', () => {
  it('serves a range equal to the same slice of the full file', async () => {
    for (const uti of UTIS) {
      const size = 700_001;
      const full = await collect(openMedia(spec(uti, size)));
      for (const [start, end] of [
        [0, 0],
        [0, 9],
        [1234, size - 1],
        [65_530, 65_545],
        [131_070, 400_000],
        [size - 1, size - 1],
      ] as const) {
        const part = await collect(openMedia(spec(uti, size), { start, end }));
        expect([uti, start, part.equals(full.subarray(start, end + 1))]).toEqual([uti, start, true]);
      }
    }
  });

  it('yields the same bytes for the same seed', async () => {
    const a = await collect(openMedia(spec('public.jpeg', 300_000)));
    const b = await collect(openMedia(spec('public.jpeg', 300_000)));
    expect(a.equals(b)).toBe(true);
  });

  it('yields different bytes for a different seed', async () => {
    for (const uti of [...UTIS, 'org.example.unknown']) {
      const a = await collect(openMedia(spec(uti, 300_000, 'one')));
      const b = await collect(openMedia(spec(uti, 300_000, 'two')));
      expect([uti, a.equals(b)]).toEqual([uti, false]);
    }
  });

  it('hashes the streamed file with SHA-256', async () => {
    const file = await collect(openMedia(spec('public.png', 250_000)));
    const { createHash } = await import('node:crypto');
    expect(await mediaSha256(spec('public.png', 250_000))).toBe(
      createHash('sha256').update(file).digest('hex'),
    );
  });

  it('serves the last MiB of a 3 GiB movie, ending with its moov atom', async () => {
    const size = 3 * GIB + 12_345;
    const tail = await collect(
      openMedia(spec('com.apple.quicktime-movie', size), { start: size - 2 ** 20, end: size - 1 }),
    );
    expect(tail.length).toBe(2 ** 20);
    expect(tail.includes(Buffer.from('moov', 'latin1'))).toBe(true);
  });

  it('reads only the body bytes a range covers, never the prefix', async () => {
    const reads: number[] = [];
    const body = {
      length: 1_000_000_000,
      read(offset: number, n: number) {
        reads.push(offset);
        return Buffer.alloc(n, 7);
      },
    };
    const layout = { head: Buffer.from('HEAD'), body, tail: Buffer.from('TAIL') };
    const total = 4 + body.length + 4;
    const bytes = await collect(streamLayout(layout, total - 1_000_004, total - 1));
    expect(bytes.length).toBe(1_000_004);
    expect(bytes.subarray(-4).toString()).toBe('TAIL');
    expect(Math.min(...reads)).toBe(body.length - 1_000_000);
  });

  it('writes a 64-bit mdat size for a movie beyond 4 GiB', async () => {
    const head = await collect(openMedia(spec('com.apple.quicktime-movie', 5 * GIB), { start: 0, end: 63 }));
    const mdat = head.indexOf(Buffer.from('mdat', 'latin1'));
    expect(head.readUInt32BE(mdat - 4)).toBe(1);
    const moovStart = head.readUInt32BE(0) + 8 + Number(head.readBigUInt64BE(mdat + 4));
    const moov = await collect(
      openMedia(spec('com.apple.quicktime-movie', 5 * GIB), { start: moovStart, end: moovStart + 7 }),
    );
    expect(moov.toString('latin1', 4, 8)).toBe('moov');
  });

  it('rejects a range outside the file', () => {
    expect(() => openMedia(spec('public.jpeg', 100), { start: 50, end: 100 })).toThrow(RangeError);
  });
});
