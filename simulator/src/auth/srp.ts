/**
 * The server side of Apple's SRP-6a variant (docs/protocol/sign-in.md#srp): RFC 5054 2048-bit group, SHA-256, a
 * PBKDF2-derived password key (`s2k` / `s2k_fo`), the user name left out of `x` but kept in `M1`.
 * Padding matters: `k` and `H(g)` pad `g`; `u` pads `A` and `B`; `M1`/`M2` use unpadded `A`/`B`;
 * `K` hashes unpadded `S`.
 */
import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type SrpProtocol = 's2k' | 's2k_fo';

export const N = BigInt(
  '0xAC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73',
);
export const g = 2n;
const N_BYTES = 256;

/** Minimal big-endian bytes of a non-negative integer (zero is one zero byte). */
export function bytesOf(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

/** Big-endian bytes left-padded to the length of N. */
export function pad(n: bigint): Buffer {
  const b = bytesOf(n);
  return b.length >= N_BYTES ? b : Buffer.concat([Buffer.alloc(N_BYTES - b.length), b]);
}

export const intOf = (b: Buffer): bigint => (b.length === 0 ? 0n : BigInt(`0x${b.toString('hex')}`));

export const H = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

export const k = intOf(H(bytesOf(N), pad(g)));

/** PBKDF2 password key: the input is SHA-256(password), raw for `s2k`, lower-case hex for `s2k_fo`. */
export function passwordKey(
  password: string,
  salt: Buffer,
  iterations: number,
  protocol: SrpProtocol,
): Buffer {
  const h = createHash('sha256').update(password, 'utf8').digest();
  const input = protocol === 's2k' ? h : Buffer.from(h.toString('hex'), 'ascii');
  return pbkdf2Sync(input, salt, iterations, 32, 'sha256');
}

/** `x = H(salt || H(":" || passwordKey))` (no user name). */
export const privateKeyX = (salt: Buffer, key: Buffer): bigint => intOf(H(salt, H(Buffer.from(':'), key)));

/** The verifier `v = g^x mod N` the simulator stores per account. */
export function verifierFor(
  password: string,
  salt: Buffer,
  iterations: number,
  protocol: SrpProtocol,
): bigint {
  return modPow(g, privateKeyX(salt, passwordKey(password, salt, iterations, protocol)), N);
}

/** A fresh 256-bit server secret. */
export const randomSecret = (): bigint => intOf(randomBytes(32));

/** `B = (k·v + g^b) mod N`. */
export const serverPublic = (b: bigint, v: bigint): bigint => (k * v + modPow(g, b, N)) % N;

export interface SrpProofs {
  readonly m1: Buffer;
  readonly m2: Buffer;
  readonly K: Buffer;
}

/**
 * The proofs a client with the right password sends for this handshake. Returns undefined when `A`
 * is unusable (`A mod N == 0`), which the caller treats like a wrong password.
 */
export function expectedProofs(
  input: {
    readonly accountName: string;
    readonly salt: Buffer;
    readonly A: bigint;
    readonly b: bigint;
    readonly B: bigint;
    readonly v: bigint;
  },
  options: { readonly padded?: boolean } = {},
): SrpProofs | undefined {
  const { A, B, b, v, salt } = input;
  if (A % N === 0n) return undefined;
  const u = intOf(H(pad(A), pad(B)));
  if (u === 0n) return undefined;
  const S = modPow((A * modPow(v, u, N)) % N, b, N);
  // `padded`: A, B and S padded to the length of N in M1/M2/K, as rclone's SRP does; the two forms
  // differ only when a value has a leading zero byte.
  const enc = options.padded ? pad : bytesOf;
  const K = H(enc(S));
  const hNxorG = Buffer.from(H(bytesOf(N)).map((byte, i) => byte ^ (H(pad(g))[i] ?? 0)));
  const m1 = H(hNxorG, H(Buffer.from(input.accountName, 'utf8')), salt, enc(A), enc(B), K);
  const m2 = H(enc(A), m1, K);
  return { m1, m2, K };
}

/** Constant-time comparison of a client's proof with the expected one. */
export function proofMatches(expected: Buffer, sent: Buffer): boolean {
  return expected.length === sent.length && timingSafeEqual(expected, sent);
}
