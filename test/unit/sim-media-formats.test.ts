import type { Readable } from 'node:stream';
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openMedia } from '#simulator/src/media/index.ts';
import type { MediaSpec } from '#simulator/src/types.ts';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const spec = (uti: string, size: number, extra: Partial<MediaSpec> = {}): MediaSpec => ({
  uti,
  size,
  seed: 'formats-seed',
  captureTime: Date.UTC(2023, 4, 17, 9, 30, 15, 250),
  timeZoneOffsetSeconds: -7 * 3600,
  width: 800,
  height: 600,
  ...extra,
});

const media = (uti: string, size: number, extra: Partial<MediaSpec> = {}) =>
  collect(openMedia(spec(uti, size, extra)));

/** Top-level ISO media boxes as [type, size]; fails unless they tile the file exactly. */
function topLevelBoxes(file: Buffer): [string, number][] {
  const boxes: [string, number][] = [];
  let at = 0;
  while (at < file.length) {
    let size = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(file.readBigUInt64BE(at + 8));
    expect(size).toBeGreaterThanOrEqual(8);
    boxes.push([type, size]);
    at += size;
  }
  expect(at).toBe(file.length);
  return boxes;
}

/** Walks JPEG markers; returns the marker codes in order. Fails on any structural error. */
function jpegMarkers(file: Buffer): number[] {
  expect(file.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  const markers: number[] = [];
  let at = 2;
  for (;;) {
    expect(file[at]).toBe(0xff);
    while (file[at] === 0xff) at += 1;
    const marker = file[at]!;
    at += 1;
    markers.push(marker);
    if (marker === 0xd9) break;
    const length = file.readUInt16BE(at);
    at += length;
    if (marker === 0xda) {
      // Entropy-coded data: in our scans no 0xFF occurs until EOI.
      const eoi = file.indexOf(Buffer.from([0xff]), at);
      at = eoi;
    }
  }
  expect(at).toBe(file.length);
  return markers;
}

describe('simulated media formats', () => {
  it('starts a JPEG with FF D8 FF E1 and an Exif APP1', async () => {
    const file = await media('public.jpeg', 50_000);
    expect(file.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xd8, 0xff, 0xe1]));
    expect(file.toString('latin1', 6, 12)).toBe('Exif\0\0');
  });

  it('makes a JPEG a complete marker chain from SOI through a baseline frame to EOI', async () => {
    const markers = jpegMarkers(await media('public.jpeg', 400_000));
    expect(markers[0]).toBe(0xe1);
    expect(markers.filter((m) => m === 0xfe).length).toBeGreaterThan(1);
    expect(markers.slice(-5)).toEqual([0xdb, 0xc0, 0xc4, 0xda, 0xd9]);
  });

  it('declares the spec dimensions in the JPEG frame header', async () => {
    const file = await media('public.jpeg', 30_000, { width: 1234, height: 567 });
    const sof = file.indexOf(Buffer.from([0xff, 0xc0]));
    expect(file.readUInt16BE(sof + 5)).toBe(567);
    expect(file.readUInt16BE(sof + 7)).toBe(1234);
  });

  it('keeps a JPEG parseable when the filler is shorter than a COM segment', async () => {
    const full = await media('public.jpeg', 100_000);
    const minimal =
      full.length - full.indexOf(Buffer.from([0xff, 0xdb])) + full.indexOf(Buffer.from([0xff, 0xfe]));
    for (const extra of [0, 1, 2, 3, 4, 5]) {
      expect(jpegMarkers(await media('public.jpeg', minimal + extra)).at(-1)).toBe(0xd9);
    }
  });

  it('shortens the scan of a JPEG too small for it and still ends with EOI', async () => {
    const file = await media('public.jpeg', 1200, { width: 4000, height: 3000 });
    expect(file.length).toBe(1200);
    expect(file.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
  });

  it('starts a HEIC with ftyp at offset 4 and the heic and mif1 brands', async () => {
    const file = await media('public.heic', 80_000);
    expect(file.toString('latin1', 4, 12)).toBe('ftypheic');
    expect(file.subarray(16, file.readUInt32BE(0)).toString('latin1')).toBe('mif1heic');
  });

  it('lays out a HEIC as ftyp, meta and an mdat that reaches the exact size', async () => {
    const boxes = topLevelBoxes(await media('public.heic', 123_457));
    expect(boxes.map(([type]) => type)).toEqual(['ftyp', 'meta', 'mdat']);
  });

  it('gives a HEIF the mif1 major brand', async () => {
    const file = await media('public.heif', 10_000);
    expect(file.toString('latin1', 4, 12)).toBe('ftypmif1');
  });

  it('starts a PNG with its signature and an IHDR of the spec size', async () => {
    const file = await media('public.png', 20_000, { width: 321, height: 123 });
    expect(file.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(file.toString('latin1', 12, 16)).toBe('IHDR');
    expect([file.readUInt32BE(16), file.readUInt32BE(20)]).toEqual([321, 123]);
  });

  it('makes every PNG chunk CRC-correct, the IDAT inflate to the image, and IEND end the file', async () => {
    for (const size of [5_000, 5_005, 300_000]) {
      const file = await media('public.png', size, { width: 321, height: 123 });
      let at = 8;
      const types: string[] = [];
      while (at < file.length) {
        const length = file.readUInt32BE(at);
        const type = file.toString('latin1', at + 4, at + 8);
        expect(file.readUInt32BE(at + 8 + length)).toBe(crc32(file.subarray(at + 4, at + 8 + length)));
        if (type === 'IDAT')
          expect(inflateSync(file.subarray(at + 8, at + 8 + length)).length).toBe(123 * 42);
        types.push(type);
        at += 12 + length;
      }
      expect(at).toBe(file.length);
      expect(types.at(-1)).toBe('IEND');
    }
  });

  it('starts a MOV with an ftyp of brand qt and then wide, mdat, moov', async () => {
    const file = await media('com.apple.quicktime-movie', 500_000);
    expect(file.toString('latin1', 4, 12)).toBe('ftypqt  ');
    expect(topLevelBoxes(file).map(([type]) => type)).toEqual(['ftyp', 'wide', 'mdat', 'moov']);
  });

  it('starts a classic QuickTime MOV with the wide atom and no ftyp', async () => {
    const file = await media('com.apple.quicktime-movie', 500_000, { classicQuickTime: true });
    expect(file.toString('latin1', 4, 8)).toBe('wide');
    expect(topLevelBoxes(file).map(([type]) => type)).toEqual(['wide', 'mdat', 'moov']);
  });

  it('starts an MP4 with an ftyp of brand mp42 and ends with moov', async () => {
    const file = await media('public.mpeg-4', 200_000);
    expect(file.toString('latin1', 4, 12)).toBe('ftypmp42');
    expect(topLevelBoxes(file).map(([type]) => type)).toEqual(['ftyp', 'mdat', 'moov']);
  });

  it('starts a CR2 with a little-endian TIFF header and the CR version 2 marker', async () => {
    const file = await media('com.canon.cr2-raw-image', 90_000);
    expect(file.subarray(0, 4)).toEqual(Buffer.from('II*\0', 'latin1'));
    expect(file.subarray(8, 12)).toEqual(Buffer.from([0x43, 0x52, 2, 0]));
  });

  it('starts a DNG with a TIFF header and carries DNGVersion', async () => {
    const file = await media('com.adobe.raw-image', 90_000);
    expect(file.subarray(0, 4)).toEqual(Buffer.from('II*\0', 'latin1'));
    const ifd = file.readUInt32LE(4);
    const count = file.readUInt16LE(ifd);
    const tags = Array.from({ length: count }, (_, i) => file.readUInt16LE(ifd + 2 + 12 * i));
    expect(tags).toContain(0xc612);
  });

  it('points a TIFF RAW strip at the bytes up to the end of the file', async () => {
    const file = await media('com.nikon.raw-image', 70_000);
    const ifd = file.readUInt32LE(4);
    const count = file.readUInt16LE(ifd);
    const value = (tag: number) => {
      for (let i = 0; i < count; i += 1) {
        const at = ifd + 2 + 12 * i;
        if (file.readUInt16LE(at) === tag) return file.readUInt32LE(at + 8);
      }
      throw new Error(`tag ${tag} missing`);
    };
    expect(value(0x111) + value(0x117)).toBe(70_000);
  });

  it('gives ORF, RW2, RAF, CRW and CR3 their own signatures', async () => {
    expect((await media('com.olympus.raw-image', 5000)).toString('latin1', 0, 4)).toBe('IIRO');
    expect((await media('com.panasonic.rw2-raw-image', 5000)).toString('latin1', 0, 4)).toBe('IIU\0');
    expect((await media('com.fuji.raw-image', 5000)).toString('latin1', 0, 16)).toBe('FUJIFILMCCD-RAW ');
    expect((await media('com.canon.crw-raw-image', 5000)).toString('latin1', 6, 14)).toBe('HEAPCCDR');
    expect((await media('com.canon.cr3-raw-image', 5000)).toString('latin1', 4, 12)).toBe('ftypcrx ');
  });

  it('serves an unknown UTI as seeded bytes of the exact size', async () => {
    const file = await media('org.example.unknown', 10_000);
    expect(file.length).toBe(10_000);
    expect(new Set(file).size).toBeGreaterThan(200);
  });

  it('produces exactly size bytes for every type from 1 byte to several MiB', async () => {
    const utis = [
      'public.jpeg',
      'public.heic',
      'public.heif',
      'public.png',
      'com.apple.quicktime-movie',
      'public.mpeg-4',
      'com.canon.cr2-raw-image',
      'com.adobe.raw-image',
      'com.sony.arw-raw-image',
      'com.fuji.raw-image',
      'org.example.unknown',
    ];
    const sizes = [1, 2, 3, 7, 8, 13, 100, 777, 4096, 65_537, 65_541, 262_145, 3 * 1024 * 1024 + 5];
    for (const uti of utis) {
      for (const size of sizes) expect([uti, (await media(uti, size)).length]).toEqual([uti, size]);
    }
  });

  it('truncates a file smaller than its headers to a prefix of the smallest valid file', async () => {
    expect(await media('public.jpeg', 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect((await media('public.png', 4)).toString('latin1')).toBe('\x89PNG');
    expect((await media('public.heic', 12)).toString('latin1', 4)).toBe('ftypheic');
  });

  it('serves an empty file for size 0', async () => {
    expect((await media('public.jpeg', 0)).length).toBe(0);
  });
});
