import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openMedia } from '#simulator/src/media/index.ts';
import type { MediaSpec } from '#simulator/src/types.ts';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A tiny Exif reader: the ASCII and LONG values of IFD0 and the Exif sub-IFD of a TIFF structure. */
function readExif(tiff: Buffer): Map<number, string | number> {
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const values = new Map<number, string | number>();
  const readIfd = (offset: number) => {
    for (let i = 0; i < u16(offset); i += 1) {
      const at = offset + 2 + 12 * i;
      const [tag, type, count] = [u16(at), u16(at + 2), u32(at + 4)];
      if (type === 2) {
        const from = count <= 4 ? at + 8 : u32(at + 8);
        values.set(tag, tiff.toString('latin1', from, from + count - 1));
      } else if (type === 4) {
        values.set(tag, u32(at + 8));
      } else if (type === 3) {
        values.set(tag, u16(at + 8));
      }
    }
  };
  readIfd(u32(4));
  const exifIfd = values.get(0x8769);
  if (typeof exifIfd === 'number') readIfd(exifIfd);
  return values;
}

const DATE_TIME_ORIGINAL = 0x9003;
const OFFSET_TIME_ORIGINAL = 0x9011;

const base = (uti: string, captureTime: number, timeZoneOffsetSeconds: number): MediaSpec => ({
  uti,
  size: 40_000,
  seed: 'metadata-seed',
  captureTime,
  timeZoneOffsetSeconds,
  width: 640,
  height: 480,
});

async function jpegExif(spec: MediaSpec): Promise<Map<number, string | number>> {
  const file = await collect(openMedia(spec));
  expect(file.readUInt16BE(2)).toBe(0xffe1);
  const length = file.readUInt16BE(4);
  expect(file.toString('latin1', 6, 12)).toBe('Exif\0\0');
  return readExif(file.subarray(12, 4 + length));
}

describe('capture time embedded in simulated media', () => {
  it('writes JPEG DateTimeOriginal as the wall-clock time in the photo time zone', async () => {
    // 2018-07-31 12:22:26 UTC taken at UTC+2 reads 14:22:26 on the camera.
    const exif = await jpegExif(base('public.jpeg', Date.UTC(2018, 6, 31, 12, 22, 26), 7200));
    expect(exif.get(DATE_TIME_ORIGINAL)).toBe('2018:07:31 14:22:26');
    expect(exif.get(OFFSET_TIME_ORIGINAL)).toBe('+02:00');
  });

  it('crosses the date line backwards for a negative offset', async () => {
    const exif = await jpegExif(base('public.jpeg', Date.UTC(2024, 0, 1, 3, 5, 9), -8 * 3600));
    expect(exif.get(DATE_TIME_ORIGINAL)).toBe('2023:12:31 19:05:09');
    expect(exif.get(OFFSET_TIME_ORIGINAL)).toBe('-08:00');
  });

  it('writes half-hour offsets as +HH:MM', async () => {
    const exif = await jpegExif(base('public.jpeg', Date.UTC(2022, 5, 1, 0, 0, 0), 5.5 * 3600));
    expect(exif.get(DATE_TIME_ORIGINAL)).toBe('2022:06:01 05:30:00');
    expect(exif.get(OFFSET_TIME_ORIGINAL)).toBe('+05:30');
  });

  it('records the pixel size and an Apple camera in the JPEG Exif', async () => {
    const exif = await jpegExif(base('public.jpeg', Date.UTC(2020, 1, 2), 0));
    expect([exif.get(0xa002), exif.get(0xa003)]).toEqual([640, 480]);
    expect(exif.get(0x010f)).toBe('Apple');
    expect(String(exif.get(0x0110))).toMatch(/^iPhone/);
  });

  it('carries the same capture time in the HEIC Exif item', async () => {
    const file = await collect(openMedia(base('public.heic', Date.UTC(2018, 6, 31, 12, 22, 26), 7200)));
    const tiffAt = file.indexOf(Buffer.from('Exif\0\0MM', 'latin1')) + 6;
    expect(readExif(file.subarray(tiffAt)).get(DATE_TIME_ORIGINAL)).toBe('2018:07:31 14:22:26');
  });

  it('carries the capture time in the Exif of a CR2', async () => {
    const file = await collect(
      openMedia(base('com.canon.cr2-raw-image', Date.UTC(2019, 2, 3, 4, 5, 6), 3600)),
    );
    const exif = readExif(file);
    expect(exif.get(DATE_TIME_ORIGINAL)).toBe('2019:03:03 05:05:06');
    expect(exif.get(0x010f)).toBe('Canon');
  });

  it('sets the MOV mvhd creation time to the capture time in Mac-epoch seconds', async () => {
    const captureTime = Date.UTC(2018, 6, 31, 12, 22, 26, 900);
    const file = await collect(openMedia(base('com.apple.quicktime-movie', captureTime, 7200)));
    const mvhd = file.indexOf(Buffer.from('mvhd', 'latin1'));
    expect(file.readUInt32BE(mvhd + 8)).toBe(Math.floor(captureTime / 1000) + 2_082_844_800);
  });

  it('records the local capture time with its offset in the MOV creationdate metadata', async () => {
    const file = await collect(
      openMedia(base('com.apple.quicktime-movie', Date.UTC(2018, 6, 31, 12, 22, 26), 7200)),
    );
    expect(file.includes(Buffer.from('com.apple.quicktime.creationdate', 'latin1'))).toBe(true);
    expect(file.includes(Buffer.from('2018-07-31T14:22:26+0200', 'latin1'))).toBe(true);
  });
});
