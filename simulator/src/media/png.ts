/**
 * PNG (`public.png`): signature, IHDR (1-bit grayscale of the declared size), an `eXIf` chunk with
 * the capture time, one IDAT holding a real zlib stream of the all-black image, private ancillary
 * `fiLl` chunks of seeded bytes up to the exact size (every CRC correct), IEND.
 *
 * Fewer filler bytes than a chunk needs (12): they pad the `eXIf` payload (TIFF readers ignore
 * trailing bytes). Too small for the headers: the header bytes cut to `size`.
 */
import { crc32, deflateSync } from 'node:zlib';
import type { MediaSpec } from '../types.ts';
import { cameraExif, dimensions, iphoneFor } from './camera-exif.ts';
import { keystream, keystreamKey } from './keystream.ts';
import { EMPTY_BODY, type Layout, recordBody, truncatedLayout } from './layout.ts';
import { encodeTiff } from './tiff.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHUNK_OVERHEAD = 12;
const MAX_FILL_DATA = 65_536;

/** A PNG chunk: length, type, data, CRC over type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(CHUNK_OVERHEAD + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const idatCache = new Map<string, Buffer>();

/** The zlib stream of `height` rows (filter byte 0 + zero pixels), cached per size. */
function blackImage(width: number, height: number): Buffer {
  const key = `${width}x${height}`;
  let data = idatCache.get(key);
  if (!data) {
    data = deflateSync(Buffer.alloc(height * (1 + Math.ceil(width / 8))), { level: 9 });
    if (idatCache.size >= 16) idatCache.clear();
    idatCache.set(key, data);
  }
  return data;
}

export function pngLayout(spec: MediaSpec): Layout {
  const [width, height] = dimensions(spec, [1170, 2532]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([1, 0, 0, 0, 0], 8);
  const { ifd0, exif } = cameraExif(spec, iphoneFor(spec.seed), width, height);
  const tiff = encodeTiff({ littleEndian: false, ifd0, exif });
  const idat = chunk('IDAT', blackImage(width, height));
  const iend = chunk('IEND', Buffer.alloc(0));
  const headWith = (padding: number) =>
    Buffer.concat([
      SIGNATURE,
      chunk('IHDR', ihdr),
      chunk('eXIf', Buffer.concat([tiff, Buffer.alloc(padding)])),
      idat,
    ]);
  const head = headWith(0);
  const filler = spec.size - head.length - iend.length;
  if (filler < 0) return truncatedLayout(spec.size, head, iend);
  if (filler < CHUNK_OVERHEAD) return { head: headWith(filler), body: EMPTY_BODY, tail: iend };
  const key = keystreamKey(spec.seed);
  const body = recordBody(filler, MAX_FILL_DATA + CHUNK_OVERHEAD, CHUNK_OVERHEAD, (_i, size, offset) => {
    const record = keystream(key, offset, size);
    record.writeUInt32BE(size - CHUNK_OVERHEAD, 0);
    record.write('fiLl', 4, 'latin1');
    record.writeUInt32BE(crc32(record.subarray(4, size - 4)), size - 4);
    return record;
  });
  return { head, body, tail: iend };
}
