/**
 * A small, total reader of binary property lists (`bplist00`), for the `*Enc` fields CloudKit
 * sends as plists: `locationEnc` (a dictionary of numbers) and `keywordsEnc` (an array of
 * strings), docs/protocol/records.md#location. Reads booleans, integers, reals, ASCII and UTF-16
 * strings, arrays and dictionaries; anything else (dates, data, sets, UIDs) reads as `undefined`.
 * A malformed plist reads as `undefined` as a whole, never throws.
 */

export type PlistValue =
  | boolean
  | number
  | string
  | readonly PlistValue[]
  | { readonly [key: string]: PlistValue };

const MAGIC = 'bplist00';
const MAX_DEPTH = 8;

class Malformed extends Error {}

function readUInt(bytes: Buffer, at: number, size: number): number {
  if (at < 0 || at + size > bytes.length) throw new Malformed('out of range');
  let value = 0;
  for (let i = 0; i < size; i += 1) value = value * 256 + (bytes[at + i] ?? 0);
  return value;
}

/** Parses `bytes`; `undefined` when they are not a readable binary plist. */
export function readBinaryPlist(bytes: Buffer): PlistValue | undefined {
  try {
    if (bytes.length < MAGIC.length + 32 || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC)
      return undefined;
    const trailer = bytes.length - 32;
    const offsetSize = readUInt(bytes, trailer + 6, 1);
    const refSize = readUInt(bytes, trailer + 7, 1);
    const objectCount = readUInt(bytes, trailer + 8, 8);
    const top = readUInt(bytes, trailer + 16, 8);
    const tableAt = readUInt(bytes, trailer + 24, 8);
    if (offsetSize < 1 || refSize < 1 || top >= objectCount) return undefined;
    const offsetOf = (ref: number) => {
      if (ref >= objectCount) throw new Malformed('bad reference');
      return readUInt(bytes, tableAt + ref * offsetSize, offsetSize);
    };

    const lengthAt = (marker: number, at: number): { length: number; start: number } => {
      const low = marker & 0x0f;
      if (low !== 0x0f) return { length: low, start: at + 1 };
      const intMarker = readUInt(bytes, at + 1, 1);
      if (intMarker >> 4 !== 0x1) throw new Malformed('bad length');
      const size = 1 << (intMarker & 0x0f);
      return { length: readUInt(bytes, at + 2, size), start: at + 2 + size };
    };

    const readObject = (ref: number, depth: number): PlistValue | undefined => {
      if (depth > MAX_DEPTH) throw new Malformed('too deep');
      const at = offsetOf(ref);
      const marker = readUInt(bytes, at, 1);
      const high = marker >> 4;
      switch (high) {
        case 0x0:
          return marker === 0x09 ? true : marker === 0x08 ? false : undefined;
        case 0x1: {
          const size = 1 << (marker & 0x0f);
          if (size === 8) return Number(bytes.readBigInt64BE(at + 1));
          return readUInt(bytes, at + 1, size);
        }
        case 0x2: {
          const size = 1 << (marker & 0x0f);
          if (size === 4) return bytes.readFloatBE(at + 1);
          if (size === 8) return bytes.readDoubleBE(at + 1);
          return undefined;
        }
        case 0x5: {
          const { length, start } = lengthAt(marker, at);
          if (start + length > bytes.length) throw new Malformed('string out of range');
          return bytes.toString('latin1', start, start + length);
        }
        case 0x6: {
          const { length, start } = lengthAt(marker, at);
          if (start + 2 * length > bytes.length) throw new Malformed('string out of range');
          const swapped = Buffer.from(bytes.subarray(start, start + 2 * length));
          swapped.swap16();
          return swapped.toString('utf16le');
        }
        case 0xa: {
          const { length, start } = lengthAt(marker, at);
          const items: PlistValue[] = [];
          for (let i = 0; i < length; i += 1) {
            const item = readObject(readUInt(bytes, start + i * refSize, refSize), depth + 1);
            if (item !== undefined) items.push(item);
          }
          return items;
        }
        case 0xd: {
          const { length, start } = lengthAt(marker, at);
          const dict: Record<string, PlistValue> = {};
          for (let i = 0; i < length; i += 1) {
            const key = readObject(readUInt(bytes, start + i * refSize, refSize), depth + 1);
            const value = readObject(readUInt(bytes, start + (length + i) * refSize, refSize), depth + 1);
            if (typeof key === 'string' && value !== undefined) dict[key] = value;
          }
          return dict;
        }
        default:
          return undefined;
      }
    };
    return readObject(top, 0);
  } catch (error) {
    if (error instanceof Malformed || error instanceof RangeError) return undefined;
    throw error;
  }
}
