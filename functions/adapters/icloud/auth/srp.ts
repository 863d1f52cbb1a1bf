/**
 * SRP-6a exactly as Apple's IdMSA uses it (docs/protocol/sign-in.md#srp): RFC 5054 2048-bit group, SHA-256, a
 * PBKDF2-derived password key (`s2k` / `s2k_fo`), and no user name in `x` (but in `M1`).
 * Padding rules are the easy thing to get wrong: `k` and `H(g)` pad `g`; `u` pads `A` and `B`;
 * `A`, `B` in `M1`/`M2` and `S` in `K` are unpadded.
 */
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';

export type SrpProtocol = 's2k' | 's2k_fo';

const N_HEX =
  'AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73';

export const SRP_N = BigInt(`0x${N_HEX}`);
export const SRP_G = 2n;
const N_BYTES = 256;
/** kei's safety bound: a larger PBKDF2 count is a protocol error, not work to do. */
export const MAX_ITERATIONS = 1_000_000;

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Minimal big-endian bytes of a non-negative integer (zero is one 0 byte). */
export function bigIntToBytes(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function pad(n: bigint): Buffer {
  const b = bigIntToBytes(n);
  if (b.length > N_BYTES) throw new RangeError('value longer than N');
  return Buffer.concat([Buffer.alloc(N_BYTES - b.length), b]);
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

/** k = H(N || pad(g)). */
export const SRP_K = bytesToBigInt(sha256(bigIntToBytes(SRP_N), pad(SRP_G)));

/** The key that replaces the password in SRP: PBKDF2-HMAC-SHA256 over SHA-256(password) (hex for s2k_fo). */
export function derivePasswordKey(
  password: string,
  salt: Uint8Array,
  iterations: number,
  protocol: SrpProtocol,
): Buffer {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new RangeError(`SRP iteration count out of range: ${iterations}`);
  }
  const digest = sha256(Buffer.from(password, 'utf8'));
  const input = protocol === 's2k' ? digest : Buffer.from(digest.toString('hex'), 'ascii');
  return pbkdf2Sync(input, salt, iterations, 32, 'sha256');
}

/** The client's ephemeral pair. `a` is secret; `A` goes to `signin/init` as base64(bytes(A)). */
export interface SrpClientEphemeral {
  readonly a: bigint;
  readonly A: bigint;
}

/** A fresh ephemeral, or one from a given secret (test vectors). */
export function createClientEphemeral(secret?: bigint): SrpClientEphemeral {
  const a = secret ?? bytesToBigInt(randomBytes(32));
  return { a, A: modPow(SRP_G, a, SRP_N) };
}

export interface SrpChallenge {
  readonly accountName: string;
  readonly password: string;
  readonly protocol: SrpProtocol;
  readonly salt: Uint8Array;
  readonly iterations: number;
  /** Server public value B. */
  readonly B: bigint;
}

export interface SrpProof {
  readonly M1: Buffer;
  readonly M2: Buffer;
  readonly K: Buffer;
}

/** Computes the client proofs for `signin/complete`. Throws on a degenerate B or u (a hostile or broken server). */
export function computeClientProof(ephemeral: SrpClientEphemeral, challenge: SrpChallenge): SrpProof {
  const { a, A } = ephemeral;
  const { B } = challenge;
  if (mod(B, SRP_N) === 0n) throw new RangeError('SRP server value B is zero mod N');
  const u = bytesToBigInt(sha256(pad(A), pad(B)));
  if (u === 0n) throw new RangeError('SRP scrambling parameter u is zero');

  const passwordKey = derivePasswordKey(
    challenge.password,
    challenge.salt,
    challenge.iterations,
    challenge.protocol,
  );
  const x = bytesToBigInt(sha256(challenge.salt, sha256(Buffer.from(':', 'utf8'), passwordKey)));
  const gx = modPow(SRP_G, x, SRP_N);
  const base = mod(B - mod(SRP_K * gx, SRP_N), SRP_N);
  const S = modPow(base, a + u * x, SRP_N);
  const K = sha256(bigIntToBytes(S));

  const hN = sha256(bigIntToBytes(SRP_N));
  const hg = sha256(pad(SRP_G));
  const xor = Buffer.alloc(hN.length);
  for (let i = 0; i < hN.length; i++) xor[i] = (hN[i] ?? 0) ^ (hg[i] ?? 0);
  const aBytes = bigIntToBytes(A);
  const M1 = sha256(
    xor,
    sha256(Buffer.from(challenge.accountName, 'utf8')),
    challenge.salt,
    aBytes,
    bigIntToBytes(B),
    K,
  );
  const M2 = sha256(aBytes, M1, K);
  return { M1, M2, K };
}
