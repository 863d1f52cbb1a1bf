/**
 * Movies: QuickTime (`com.apple.quicktime-movie`) and MPEG-4 (`public.mpeg-4`), laid out as an
 * iPhone writes them: the media data first, the `moov` index last.
 *
 * - MOV: `ftyp` (`qt  `), `wide`, `mdat`, `moov`; with `classicQuickTime`, no `ftyp`: the file
 *   starts with the classic `wide` atom (as many Live Photo movies do).
 * - MP4: `ftyp` (`mp42`), `mdat`, `moov`.
 *
 * `moov` holds `mvhd`/`tkhd`/`mdhd` whose creation time is the capture time in Mac-epoch seconds,
 * one video track of the declared size with empty sample tables, and for MOV Apple's
 * `com.apple.quicktime.creationdate` metadata key in local time with its offset. `mdat` is seeded
 * bytes up to the exact size (64-bit `largesize` beyond 4 GiB). Too small for the atoms: the
 * header bytes cut to `size`.
 */
import type { MediaSpec } from '../types.ts';
import {
  box,
  boxHeader,
  boxHeaderSizeFor,
  fourcc,
  ftyp,
  fullBox,
  IDENTITY_MATRIX,
  u16,
  u32,
  u64,
} from './bmff.ts';
import { dimensions } from './camera-exif.ts';
import { localCaptureTime, macEpochSeconds } from './capture-time.ts';
import { type Layout, seededBody, truncatedLayout } from './layout.ts';

const TIMESCALE = 600;
/** Assumed bit rate, to give the movie a plausible duration for its size. */
const BYTES_PER_SECOND = 2_000_000;

/** `creation_time`, `modification_time` as version 0 (32-bit) or, past 2040, version 1 (64-bit). */
function times(macSeconds: number): { version: number; bytes: Buffer } {
  if (macSeconds <= 0xffffffff)
    return { version: 0, bytes: Buffer.concat([u32(macSeconds), u32(macSeconds)]) };
  return { version: 1, bytes: Buffer.concat([u64(macSeconds), u64(macSeconds)]) };
}

const duration = (version: number, value: number): Buffer => (version === 0 ? u32(value) : u64(value));

function moovBox(spec: MediaSpec, quickTime: boolean): Buffer {
  const [width, height] = dimensions(spec, [1920, 1080]);
  const t = times(macEpochSeconds(spec.captureTime));
  const units = Math.max(1, Math.round(spec.size / BYTES_PER_SECOND)) * TIMESCALE;
  const mvhd = fullBox(
    'mvhd',
    t.version,
    0,
    t.bytes,
    u32(TIMESCALE),
    duration(t.version, units),
    u32(0x10000),
    u16(0x100),
    Buffer.alloc(10),
    IDENTITY_MATRIX,
    Buffer.alloc(24),
    u32(2),
  );
  const tkhd = fullBox(
    'tkhd',
    t.version,
    0x3,
    t.bytes,
    u32(1),
    u32(0),
    duration(t.version, units),
    Buffer.alloc(8),
    u16(0),
    u16(0),
    u16(0),
    u16(0),
    IDENTITY_MATRIX,
    u32(width * 0x10000),
    u32(height * 0x10000),
  );
  const mdhd = fullBox(
    'mdhd',
    t.version,
    0,
    t.bytes,
    u32(TIMESCALE),
    duration(t.version, units),
    u16(0x55c4),
    u16(0),
  );
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    quickTime ? fourcc('mhlr') : u32(0),
    fourcc('vide'),
    Buffer.alloc(12),
    Buffer.from('Core Media Video\0', 'latin1'),
  );
  const emptyTable = (type: string) => fullBox(type, 0, 0, u32(0));
  const minf = box(
    'minf',
    fullBox('vmhd', 0, 1, Buffer.alloc(8)),
    box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))),
    box(
      'stbl',
      emptyTable('stsd'),
      emptyTable('stts'),
      emptyTable('stsc'),
      fullBox('stsz', 0, 0, u32(0), u32(0)),
      emptyTable('stco'),
    ),
  );
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
  if (!quickTime) return box('moov', mvhd, trak);
  const key = Buffer.from('com.apple.quicktime.creationdate', 'latin1');
  const value = Buffer.from(localCaptureTime(spec.captureTime, spec.timeZoneOffsetSeconds).iso, 'utf8');
  const meta = box(
    'meta',
    fullBox('hdlr', 0, 0, u32(0), fourcc('mdta'), Buffer.alloc(12), Buffer.from([0])),
    fullBox('keys', 0, 0, u32(1), u32(8 + key.length), fourcc('mdta'), key),
    box('ilst', Buffer.concat([u32(8 + 16 + value.length), u32(1), box('data', u32(1), u32(0), value)])),
  );
  return box('moov', mvhd, trak, meta);
}

function movieLayout(spec: MediaSpec, leading: Buffer, quickTime: boolean): Layout {
  const moov = moovBox(spec, quickTime);
  const mdatTotal = spec.size - leading.length - moov.length;
  const headerSize = boxHeaderSizeFor(mdatTotal);
  if (mdatTotal < headerSize) return truncatedLayout(spec.size, leading, boxHeader('mdat', 8), moov);
  return {
    head: Buffer.concat([leading, boxHeader('mdat', mdatTotal)]),
    body: seededBody(spec.seed, mdatTotal - headerSize),
    tail: moov,
  };
}

const WIDE = box('wide');

export function quickTimeLayout(spec: MediaSpec): Layout {
  const leading = spec.classicQuickTime ? WIDE : Buffer.concat([ftyp('qt  ', 0, ['qt  ']), WIDE]);
  return movieLayout(spec, leading, true);
}

export function mpeg4Layout(spec: MediaSpec): Layout {
  return movieLayout(spec, ftyp('mp42', 1, ['isom', 'mp41', 'mp42']), false);
}
