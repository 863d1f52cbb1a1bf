/**
 * Apple-shaped identifiers that can be decoded back to the slot they name, without any lookup table:
 *
 * - 28-character fingerprints (CPLMaster record names, `fileChecksum`s) are base64 of 21 bytes:
 *   `0x01` (so every one starts with `A`, as recorded) ‖ an 8-byte Feistel-encrypted block holding
 *   (slot, resource code, generation) ‖ 12 seeded filler bytes that double as a check value.
 * - CPLAsset and CPLAlbum record names are upper-case UUIDs (version 4 layout) carrying the same kind
 *   of encrypted block in their non-version bits.
 *
 * The encryption makes neighbouring slots look unrelated (names contain `+` and `/` like Apple's);
 * the filler check rejects names the simulator never issued.
 */
import { hashInts, mix32, Rng } from './prng.ts';

/** Resource and record codes stored in an identifier's block (6 bits). */
export const CODE = {
  Original: 0,
  OriginalAlt: 1,
  OriginalVidCompl: 2,
  JPEGMed: 3,
  JPEGThumb: 4,
  VidMed: 5,
  VidSmall: 6,
  JPEGFull: 7,
  VidFull: 8,
  AssetJPEGThumb: 9,
  GhostMaster: 60,
  GhostAsset: 61,
  Album: 62,
  Asset: 63,
} as const;

export interface DecodedId {
  readonly slot: number;
  readonly code: number;
  readonly generation: number;
}

const MAX_SLOT = 2 ** 40;

export class IdCodec {
  readonly #seed: number;
  readonly #keys: readonly number[];

  constructor(seed: number) {
    this.#seed = seed;
    this.#keys = [0, 1, 2, 3].map((i) => hashInts(seed, 0x1d5, i));
  }

  /** The 28-character fingerprint of a resource (or a ghost master). */
  fingerprint(slot: number, code: number, generation = 0): string {
    const block = this.#encrypt(slot, code, generation);
    const filler = this.#filler(block, 12);
    return Buffer.concat([Buffer.from([0x01]), block, filler]).toString('base64');
  }

  decodeFingerprint(name: string): DecodedId | undefined {
    if (name.length !== 28 || !/^[A-Za-z0-9+/]{28}$/.test(name)) return undefined;
    const bytes = Buffer.from(name, 'base64');
    if (bytes.length !== 21 || bytes[0] !== 0x01) return undefined;
    const block = bytes.subarray(1, 9);
    if (!this.#filler(block, 12).equals(bytes.subarray(9))) return undefined;
    return this.#decrypt(block);
  }

  /** An upper-case UUID naming a slot's CPLAsset, an album, or a ghost asset. */
  uuid(slot: number, code: number): string {
    const block = this.#encrypt(slot, code, 0);
    const f = this.#filler(block, 8);
    const b = Buffer.from([
      block[0]!,
      block[1]!,
      block[2]!,
      block[3]!,
      block[4]!,
      block[5]!,
      0x40 | (f[0]! & 0x0f),
      f[1]!,
      0x80 | (f[2]! & 0x3f),
      f[3]!,
      block[6]!,
      block[7]!,
      f[4]!,
      f[5]!,
      f[6]!,
      f[7]!,
    ]);
    const h = b.toString('hex').toUpperCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  decodeUuid(name: string): DecodedId | undefined {
    if (!/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/.test(name)) return undefined;
    const b = Buffer.from(name.replaceAll('-', ''), 'hex');
    const block = Buffer.from([b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!, b[10]!, b[11]!]);
    const decoded = this.#decrypt(block);
    return this.uuid(decoded.slot, decoded.code) === name ? decoded : undefined;
  }

  /** `referenceChecksum`: 28 characters, not decodable (nobody needs to). */
  referenceChecksum(slot: number, code: number, generation: number): string {
    const bytes = new Rng(this.#seed, 0x2ef, slot, code, generation).bytes(20);
    return Buffer.concat([Buffer.from([0x01]), bytes]).toString('base64');
  }

  /** `wrappingKey`: 16 bytes, base64 with padding. */
  wrappingKey(slot: number, code: number, generation: number): string {
    return new Rng(this.#seed, 0x3a7, slot, code, generation).bytes(16).toString('base64');
  }

  #filler(block: Buffer, length: number): Buffer {
    return new Rng(this.#seed, 0xf11, block.readUInt32BE(0), block.readUInt32BE(4)).bytes(length);
  }

  #encrypt(slot: number, code: number, generation: number): Buffer {
    if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOT) throw new RangeError(`bad slot ${slot}`);
    let left = Math.floor(slot / 256) >>> 0;
    let right = (((slot & 0xff) << 24) | ((code & 0x3f) << 18) | (generation & 0x3ffff)) >>> 0;
    for (const key of this.#keys) {
      const next = (left ^ mix32(right ^ key)) >>> 0;
      left = right;
      right = next;
    }
    const out = Buffer.alloc(8);
    out.writeUInt32BE(left, 0);
    out.writeUInt32BE(right, 4);
    return out;
  }

  #decrypt(block: Buffer): DecodedId {
    let left = block.readUInt32BE(0);
    let right = block.readUInt32BE(4);
    for (let i = this.#keys.length - 1; i >= 0; i -= 1) {
      const previousRight = left;
      left = (right ^ mix32(left ^ this.#keys[i]!)) >>> 0;
      right = previousRight;
    }
    return {
      slot: left * 256 + (right >>> 24),
      code: (right >>> 18) & 0x3f,
      generation: right & 0x3ffff,
    };
  }
}
