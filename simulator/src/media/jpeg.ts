/**
 * JPEG (`public.jpeg`), shaped like an iPhone photo: `FF D8 FF E1` + Exif APP1 first, then filler as
 * a run of COM segments (any bytes are legal inside them), then a real baseline grayscale frame
 * whose scan encodes every 8x8 block as "DC unchanged, end of block" (two bits each), then EOI. Any
 * decoder renders it as a flat grey image of the declared size.
 *
 * Too small for the full scan: the scan is cut short (decoders warn "premature end of data") and
 * the file still ends `FF D9`; too small even for that: the header bytes cut to `size`.
 */
import type { MediaSpec } from '../types.ts';
import { cameraExif, dimensions, iphoneFor } from './camera-exif.ts';
import { keystream, keystreamKey } from './keystream.ts';
import { EMPTY_BODY, type Layout, recordBody, truncatedLayout } from './layout.ts';
import { encodeTiff } from './tiff.ts';

const MAX_SEGMENT_PAYLOAD = 65_533;
const COM_OVERHEAD = 4;

/** Annex K luminance quantisation table (its values do not matter for a flat image). */
const QUANT = Buffer.from([
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]);

function segment(marker: number, payload: Buffer): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

/** DQT, SOF0 (one component), DHT with one-symbol DC/AC tables, SOS. */
function frameHeaders(width: number, height: number): Buffer {
  const sof = Buffer.alloc(9);
  sof.writeUInt8(8, 0);
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof.set([1, 1, 0x11, 0], 5);
  // One code of length 1 ('0') per table: DC category 0, AC end-of-block.
  const oneSymbol = (tableClass: number) =>
    Buffer.concat([Buffer.from([tableClass << 4, 1]), Buffer.alloc(15), Buffer.from([0])]);
  return Buffer.concat([
    segment(0xdb, Buffer.concat([Buffer.from([0]), QUANT])),
    segment(0xc0, sof),
    segment(0xc4, Buffer.concat([oneSymbol(0), oneSymbol(1)])),
    segment(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0])),
  ]);
}

/** The entropy-coded scan: two zero bits per block, the last byte padded with one-bits. */
function scanData(width: number, height: number): Buffer {
  const bits = 2 * Math.ceil(width / 8) * Math.ceil(height / 8);
  const scan = Buffer.alloc(Math.ceil(bits / 8));
  if (bits % 8 !== 0) scan[scan.length - 1] = (1 << (8 - (bits % 8))) - 1;
  return scan;
}

const EOI = Buffer.from([0xff, 0xd9]);

/** The APP1 Exif segment an iPhone writes first. */
export function exifApp1(spec: MediaSpec, width: number, height: number): Buffer {
  const { ifd0, exif } = cameraExif(spec, iphoneFor(spec.seed), width, height);
  const tiff = encodeTiff({ littleEndian: false, ifd0, exif });
  return segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]));
}

export function jpegLayout(spec: MediaSpec): Layout {
  const [rawWidth, rawHeight] = dimensions(spec, [4032, 3024]);
  // SOF stores 16-bit dimensions.
  const width = Math.min(Math.max(rawWidth, 1), 0xffff);
  const height = Math.min(Math.max(rawHeight, 1), 0xffff);
  const head = Buffer.concat([Buffer.from([0xff, 0xd8]), exifApp1(spec, width, height)]);
  const frame = frameHeaders(width, height);
  const scan = scanData(width, height);
  const fixed = head.length + frame.length + EOI.length;
  if (spec.size < fixed) return truncatedLayout(spec.size, head, frame, scan, EOI);
  if (spec.size < fixed + scan.length) {
    const cut = scan.subarray(0, spec.size - fixed);
    return { head, body: EMPTY_BODY, tail: Buffer.concat([frame, cut, EOI]) };
  }
  const filler = spec.size - fixed - scan.length;
  // Fewer bytes than a COM segment needs: 0xFF fill bytes, which may precede any marker.
  if (filler < COM_OVERHEAD) {
    return { head, body: EMPTY_BODY, tail: Buffer.concat([Buffer.alloc(filler, 0xff), frame, scan, EOI]) };
  }
  const key = keystreamKey(spec.seed);
  const body = recordBody(filler, MAX_SEGMENT_PAYLOAD + COM_OVERHEAD, COM_OVERHEAD, (_i, size, offset) => {
    const record = keystream(key, offset, size);
    record.writeUInt16BE(0xfffe, 0);
    record.writeUInt16BE(size - 2, 2);
    return record;
  });
  return { head, body, tail: Buffer.concat([frame, scan, EOI]) };
}
