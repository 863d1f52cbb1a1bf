/**
 * Camera RAW files. Most RAW formats are TIFF containers; each gets its own header magic and an
 * IFD0 describing one uncompressed 8-bit strip (the seeded body) plus the Exif sub-IFD with the
 * capture time:
 *
 * - CR2 (`com.canon.cr2-raw-image`): `II*\0`, IFD0 at 16, `CR` + version 2.0 at offset 8.
 * - DNG (`com.adobe.raw-image`): `II*\0` with `DNGVersion` 1.4 and `UniqueCameraModel`.
 * - ORF: `IIRO`; RW2: `IIU\0`; NEF, NRW, ARW, PEF, and other TIFF-based RAWs: `II*\0`.
 *
 * Two RAW formats are not TIFF and only get their real signatures before the seeded bytes:
 * RAF (`FUJIFILMCCD-RAW `) and CRW (`II` + `HEAPCCDR`). CR3 is ISO media (see heif.ts).
 * A RAW of fewer bytes than its header: the header bytes cut to `size`.
 */
import type { MediaSpec } from '../types.ts';
import { cameraExif, dimensions, TAG } from './camera-exif.ts';
import { type Layout, seededBody, truncatedLayout } from './layout.ts';
import { ascii, byte, encodeTiff, long, short, type Tag } from './tiff.ts';

export type TiffRawKind = 'cr2' | 'dng' | 'orf' | 'rw2' | 'tiff';

const CAMERAS: Record<TiffRawKind, { make: string; model: string }> = {
  cr2: { make: 'Canon', model: 'Canon EOS 5D Mark IV' },
  dng: { make: 'Apple', model: 'iPhone 15 Pro' },
  orf: { make: 'OLYMPUS IMAGING CORP.', model: 'E-M5MarkII' },
  rw2: { make: 'Panasonic', model: 'DC-GH5' },
  tiff: { make: 'NIKON CORPORATION', model: 'NIKON Z 6' },
};

function header(kind: TiffRawKind): { magic: number; afterHeader: Buffer } {
  switch (kind) {
    case 'cr2':
      // `CR`, major 2, minor 0, then the RAW IFD offset (0: none).
      return { magic: 42, afterHeader: Buffer.from([0x43, 0x52, 2, 0, 0, 0, 0, 0]) };
    case 'orf':
      return { magic: 0x4f52, afterHeader: Buffer.alloc(0) };
    case 'rw2':
      return { magic: 0x55, afterHeader: Buffer.alloc(0) };
    default:
      return { magic: 42, afterHeader: Buffer.alloc(0) };
  }
}

export function tiffRawLayout(spec: MediaSpec, kind: TiffRawKind): Layout {
  const [width, height] = dimensions(spec, [6720, 4480]);
  const camera = { ...CAMERAS[kind], software: '1.0.0' };
  const { ifd0, exif } = cameraExif(spec, camera, width, height);
  const { magic, afterHeader } = header(kind);
  const strip = (offset: number, length: number): Tag[] => [
    long(TAG.newSubfileType, 0),
    long(TAG.imageWidth, width),
    long(TAG.imageLength, height),
    short(TAG.bitsPerSample, 8),
    short(TAG.compression, 1),
    short(TAG.photometric, 1),
    long(TAG.stripOffsets, offset),
    short(TAG.samplesPerPixel, 1),
    long(TAG.rowsPerStrip, height),
    // A strip's byte count is a LONG; beyond 4 GiB (no real RAW is that large) it saturates.
    long(TAG.stripByteCounts, Math.min(length, 0xffffffff)),
    ...(kind === 'dng'
      ? [
          byte(TAG.dngVersion, 1, 4, 0, 0),
          byte(TAG.dngBackwardVersion, 1, 1, 0, 0),
          ascii(TAG.uniqueCameraModel, camera.model),
        ]
      : []),
  ];
  const build = (offset: number, length: number) =>
    encodeTiff({ littleEndian: true, magic, afterHeader, ifd0: [...ifd0, ...strip(offset, length)], exif });
  const headerLength = build(0, 0).length;
  const dataLength = spec.size - headerLength;
  const head = build(headerLength, Math.max(dataLength, 0));
  if (dataLength < 0) return truncatedLayout(spec.size, head);
  return { head, body: seededBody(spec.seed, dataLength), tail: Buffer.alloc(0) };
}

/** A non-TIFF RAW: its signature, then seeded bytes. */
function signedLayout(spec: MediaSpec, signature: Buffer): Layout {
  if (spec.size <= signature.length) return truncatedLayout(spec.size, signature);
  return {
    head: signature,
    body: seededBody(spec.seed, spec.size - signature.length),
    tail: Buffer.alloc(0),
  };
}

/** Fujifilm RAF: `FUJIFILMCCD-RAW `, format version, camera id, model name (32 bytes, NUL-padded). */
export function rafLayout(spec: MediaSpec): Layout {
  const model = Buffer.alloc(32);
  model.write('X-T4', 'latin1');
  return signedLayout(spec, Buffer.concat([Buffer.from('FUJIFILMCCD-RAW 0201FF129502', 'latin1'), model]));
}

/** Canon CRW (CIFF): `II`, header length 26, `HEAPCCDR`, version 1.2. */
export function crwLayout(spec: MediaSpec): Layout {
  const signature = Buffer.from([
    0x49,
    0x49,
    26,
    0,
    0,
    0,
    ...Buffer.from('HEAPCCDR', 'latin1'),
    2,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  return signedLayout(spec, signature);
}
