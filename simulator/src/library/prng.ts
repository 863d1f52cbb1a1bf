/**
 * Fast, seeded, non-cryptographic hashing for the library generator. Every generated value is a pure
 * function of (seed, slot, label), so a 1,000,000-asset library needs no per-asset storage for what
 * never changed. Crypto is reserved for tokens and URL signatures.
 */

/** murmur3's 32-bit finaliser: a good avalanche for small integer inputs. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash of a sequence of integers (each taken modulo 2^32, plus the high part for big ones). */
export function hashInts(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const hi = Math.floor(part / 0x1_0000_0000);
    h = mix32(h ^ mix32(part >>> 0));
    if (hi !== 0) h = mix32(h ^ mix32(hi + 0x632be5ab));
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  return mix32(h);
}

/** Hash of a string label, for turning names into integer salts. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** A [0, 1) number from a hash. */
export const unitOf = (hash: number): number => hash / 0x1_0000_0000;

/** A small deterministic generator for one (seed, slot, purpose) stream. */
export class Rng {
  #state: number;

  constructor(...seedParts: readonly number[]) {
    this.#state = hashInts(...seedParts);
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    return mix32(this.#state);
  }

  float(): number {
    return unitOf(this.next());
  }

  /** An integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += 4) {
      const word = this.next();
      for (let b = 0; b < 4 && i + b < length; b += 1) out[i + b] = (word >>> (8 * b)) & 0xff;
    }
    return out;
  }
}
