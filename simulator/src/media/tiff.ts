/**
 * A minimal TIFF writer: IFD0 plus an optional Exif sub-IFD. Used for JPEG's Exif APP1, HEIF's
 * Exif item, PNG's eXIf chunk and the TIFF-based RAW formats.
 */

export type TagValue =
  | { readonly type: 'ascii'; readonly value: string }
  | { readonly type: 'byte'; readonly value: readonly number[] }
  | { readonly type: 'short'; readonly value: readonly number[] }
  | { readonly type: 'long'; readonly value: readonly number[] }
  | { readonly type: 'rational'; readonly value: readonly (readonly [number, number])[] }
  | { readonly type: 'undefined'; readonly value: Buffer };

export type Tag = TagValue & { readonly tag: number };

const TYPE_CODE = { byte: 1, ascii: 2, short: 3, long: 4, rational: 5, undefined: 7 } as const;

export const EXIF_IFD_POINTER = 0x8769;

export const ascii = (tag: number, value: string): Tag => ({ tag, type: 'ascii', value });
export const short = (tag: number, ...value: number[]): Tag => ({ tag, type: 'short', value });
export const long = (tag: number, ...value: number[]): Tag => ({ tag, type: 'long', value });
export const byte = (tag: number, ...value: number[]): Tag => ({ tag, type: 'byte', value });
export const rational = (tag: number, numerator: number, denominator: number): Tag => ({
  tag,
  type: 'rational',
  value: [[numerator, denominator]],
});
export const undef = (tag: number, value: Buffer): Tag => ({ tag, type: 'undefined', value });

function encodeValue(t: TagValue, le: boolean): { count: number; bytes: Buffer } {
  switch (t.type) {
    case 'ascii': {
      const bytes = Buffer.from(`${t.value}\0`, 'latin1');
      return { count: bytes.length, bytes };
    }
    case 'byte':
      return { count: t.value.length, bytes: Buffer.from(t.value) };
    case 'undefined':
      return { count: t.value.length, bytes: t.value };
    case 'short': {
      const bytes = Buffer.alloc(2 * t.value.length);
      t.value.forEach((v, i) => {
        if (le) bytes.writeUInt16LE(v, 2 * i);
        else bytes.writeUInt16BE(v, 2 * i);
      });
      return { count: t.value.length, bytes };
    }
    case 'long': {
      const bytes = Buffer.alloc(4 * t.value.length);
      t.value.forEach((v, i) => {
        if (le) bytes.writeUInt32LE(v >>> 0, 4 * i);
        else bytes.writeUInt32BE(v >>> 0, 4 * i);
      });
      return { count: t.value.length, bytes };
    }
    case 'rational': {
      const bytes = Buffer.alloc(8 * t.value.length);
      t.value.forEach(([n, d], i) => {
        if (le) {
          bytes.writeUInt32LE(n, 8 * i);
          bytes.writeUInt32LE(d, 8 * i + 4);
        } else {
          bytes.writeUInt32BE(n, 8 * i);
          bytes.writeUInt32BE(d, 8 * i + 4);
        }
      });
      return { count: t.value.length, bytes };
    }
  }
}

const even = (n: number): number => n + (n % 2);

/** Bytes an IFD with these tags occupies, including its out-of-line values. */
export function ifdSize(tags: readonly Tag[]): number {
  let size = 2 + 12 * tags.length + 4;
  for (const t of tags) {
    const { bytes } = encodeValue(t, true);
    if (bytes.length > 4) size += even(bytes.length);
  }
  return size;
}

/** Encodes an IFD that will sit at `offset` (from the TIFF header), tags sorted ascending. */
export function encodeIfd(tags: readonly Tag[], offset: number, le: boolean, nextIfd = 0): Buffer {
  const sorted = [...tags].sort((a, b) => a.tag - b.tag);
  const out = Buffer.alloc(ifdSize(sorted));
  const w16 = (v: number, at: number): void => {
    if (le) out.writeUInt16LE(v, at);
    else out.writeUInt16BE(v, at);
  };
  const w32 = (v: number, at: number) =>
    le ? out.writeUInt32LE(v >>> 0, at) : out.writeUInt32BE(v >>> 0, at);
  w16(sorted.length, 0);
  let data = 2 + 12 * sorted.length + 4;
  sorted.forEach((t, i) => {
    const at = 2 + 12 * i;
    const { count, bytes } = encodeValue(t, le);
    w16(t.tag, at);
    w16(TYPE_CODE[t.type], at + 2);
    w32(count, at + 4);
    if (bytes.length <= 4) {
      bytes.copy(out, at + 8);
    } else {
      w32(offset + data, at + 8);
      bytes.copy(out, data);
      data += even(bytes.length);
    }
  });
  w32(nextIfd, 2 + 12 * sorted.length);
  return out;
}

export interface TiffSpec {
  readonly littleEndian: boolean;
  /** Bytes 2..3 of the header: 42 for TIFF; 0x4f52 (`RO`) for ORF, 0x55 for RW2. */
  readonly magic?: number;
  /** Bytes after the 8-byte header and before IFD0 (CR2 puts `CR\x02\x00` + RAW IFD offset here). */
  readonly afterHeader?: Buffer;
  readonly ifd0: readonly Tag[];
  /** When given, IFD0 gets an Exif IFD pointer to a sub-IFD with these tags. */
  readonly exif?: readonly Tag[];
}

/** The TIFF structure (header, IFD0, Exif IFD), offsets relative to its first byte. */
export function encodeTiff(spec: TiffSpec): Buffer {
  const le = spec.littleEndian;
  const header = Buffer.alloc(8);
  header.write(le ? 'II' : 'MM', 0, 'latin1');
  const afterHeader = spec.afterHeader ?? Buffer.alloc(0);
  const ifd0Offset = 8 + afterHeader.length;
  if (le) {
    header.writeUInt16LE(spec.magic ?? 42, 2);
    header.writeUInt32LE(ifd0Offset, 4);
  } else {
    header.writeUInt16BE(spec.magic ?? 42, 2);
    header.writeUInt32BE(ifd0Offset, 4);
  }
  const ifd0Tags = spec.exif ? [...spec.ifd0, long(EXIF_IFD_POINTER, 0)] : [...spec.ifd0];
  const exifOffset = ifd0Offset + ifdSize(ifd0Tags);
  const ifd0 = encodeIfd(
    spec.exif ? [...spec.ifd0, long(EXIF_IFD_POINTER, exifOffset)] : ifd0Tags,
    ifd0Offset,
    le,
  );
  const exif = spec.exif ? encodeIfd(spec.exif, exifOffset, le) : Buffer.alloc(0);
  return Buffer.concat([header, afterHeader, ifd0, exif]);
}
