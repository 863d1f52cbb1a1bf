/** ISO base media file format / QuickTime atom writers (big-endian, 32-bit sizes). */

export const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);

export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

export function u64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(v / 2 ** 32), 0);
  b.writeUInt32BE(v % 2 ** 32, 4);
  return b;
}

export const fourcc = (code: string): Buffer => Buffer.from(code, 'latin1');

/** A box: 32-bit size, four-character type, payload. */
export function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([u32(8 + body.length), fourcc(type), body]);
}

/** A full box: a box whose payload starts with a version byte and 24 bits of flags. */
export function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  return box(type, u8(version), u8(flags >> 16), u16(flags & 0xffff), ...payload);
}

/** `ftyp`: major brand, minor version, compatible brands. */
export function ftyp(major: string, minor: number, compatible: readonly string[]): Buffer {
  return box('ftyp', fourcc(major), u32(minor), ...compatible.map(fourcc));
}

/**
 * The header of a box of `total` bytes (header included) whose payload follows separately, e.g.
 * `mdat`; uses the 64-bit `largesize` form when `total` does not fit 32 bits.
 */
export function boxHeader(type: string, total: number): Buffer {
  if (total <= 0xffffffff) return Buffer.concat([u32(total), fourcc(type)]);
  return Buffer.concat([u32(1), fourcc(type), u64(total)]);
}

/** Size of `boxHeader(type, total)`. */
export const boxHeaderSizeFor = (total: number): number => (total <= 0xffffffff ? 8 : 16);

/** The identity transformation matrix of `mvhd`/`tkhd` (16.16 and 2.30 fixed point). */
export const IDENTITY_MATRIX = Buffer.concat(
  [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000].map((v) => u32(v)),
);
