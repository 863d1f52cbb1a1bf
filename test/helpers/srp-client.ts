/**
 * A minimal, independent Apple SRP client and sign-in driver for checking the simulator with plain
 * `fetch` (it shares no code with the product's client nor with the simulator's server side).
 *
 * Construction (docs/protocol/sign-in.md#srp): RFC 5054 2048-bit group, SHA-256, password key = PBKDF2-SHA256 of
 * SHA-256(password) (raw for s2k, hex for s2k_fo), x = H(salt | H(":" | key)), M1 with the user
 * name, M2 = H(A | M1 | K).
 */
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';

const PRIME_HEX =
  'AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73';
const PRIME = BigInt(`0x${PRIME_HEX}`);
const GEN = 2n;
const WIDTH = PRIME_HEX.length / 2;

const sha = (...chunks: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  chunks.forEach((c) => {
    h.update(c);
  });
  return h.digest();
};
const toBuf = (n: bigint): Buffer => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
};
const toBufPadded = (n: bigint): Buffer => {
  const raw = toBuf(n);
  return Buffer.concat([Buffer.alloc(Math.max(0, WIDTH - raw.length)), raw]);
};
const toInt = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
const powMod = (base: bigint, exponent: bigint, modulus: bigint): bigint => {
  let acc = 1n;
  let sq = base % modulus;
  for (let e = exponent; e > 0n; e /= 2n) {
    if (e % 2n === 1n) acc = (acc * sq) % modulus;
    sq = (sq * sq) % modulus;
  }
  return acc;
};

export interface InitAnswer {
  readonly salt: string;
  readonly b: string;
  readonly iteration: number;
  readonly protocol: string;
}

/** One SRP handshake from the client side. `secret` is fixed in vector tests, random otherwise. */
export class TestSrpClient {
  readonly #a: bigint;
  readonly A: bigint;

  constructor(
    readonly accountName: string,
    readonly password: string,
    secret: bigint = toInt(randomBytes(32)),
  ) {
    this.#a = secret;
    this.A = powMod(GEN, secret, PRIME);
  }

  /** `a` as sent in signin/init. */
  get publicValue(): string {
    return toBuf(this.A).toString('base64');
  }

  /** `{ m1, m2 }` (base64) for the server's init answer. */
  proofs(init: InitAnswer): { m1: string; m2: string } {
    const { m1, m2 } = this.#compute(init);
    return { m1: m1.toString('base64'), m2: m2.toString('base64') };
  }

  /**
   * `{ m1, m2, k }` (base64) as escrow/complete takes them: `k` is the session key K of this handshake.
   * `padded`: A, B and S padded to 256 bytes in M1/M2/K, as rclone's SRP does.
   */
  escrowProofs(init: InitAnswer, options: { padded?: boolean } = {}): { m1: string; m2: string; k: string } {
    const { m1, m2, K } = this.#compute(init, options.padded ? toBufPadded : toBuf);
    return { m1: m1.toString('base64'), m2: m2.toString('base64'), k: K.toString('base64') };
  }

  #compute(init: InitAnswer, enc: (n: bigint) => Buffer = toBuf): { m1: Buffer; m2: Buffer; K: Buffer } {
    const salt = Buffer.from(init.salt, 'base64');
    const B = toInt(Buffer.from(init.b, 'base64'));
    const digest = sha(Buffer.from(this.password, 'utf8'));
    const keyInput = init.protocol === 's2k_fo' ? Buffer.from(digest.toString('hex')) : digest;
    const key = pbkdf2Sync(keyInput, salt, init.iteration, 32, 'sha256');
    const x = toInt(sha(salt, sha(Buffer.from(':'), key)));
    const k = toInt(sha(toBuf(PRIME), toBufPadded(GEN)));
    const u = toInt(sha(toBufPadded(this.A), toBufPadded(B)));
    const base = (((B - ((k * powMod(GEN, x, PRIME)) % PRIME)) % PRIME) + PRIME) % PRIME;
    const S = powMod(base, this.#a + u * x, PRIME);
    const K = sha(enc(S));
    const hN = sha(toBuf(PRIME));
    const hG = sha(toBufPadded(GEN));
    const mixed = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) mixed[i] = (hN[i] ?? 0) ^ (hG[i] ?? 0);
    const m1 = sha(mixed, sha(Buffer.from(this.accountName, 'utf8')), salt, enc(this.A), enc(B), K);
    const m2 = sha(enc(this.A), m1, K);
    return { m1, m2, K };
  }
}

/** The IdMSA headers of docs/protocol/sign-in.md#request-headers. */
export const WIDGET_KEY = 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d';
export function idmsaHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    Accept: 'application/json, text/javascript',
    'Content-Type': 'application/json',
    'X-Apple-OAuth-Client-Id': WIDGET_KEY,
    'X-Apple-OAuth-Client-Type': 'firstPartyAuth',
    'X-Apple-OAuth-Redirect-URI': 'https://www.icloud.com',
    'X-Apple-OAuth-Require-Grant-Code': 'true',
    'X-Apple-OAuth-Response-Mode': 'web_message',
    'X-Apple-OAuth-Response-Type': 'code',
    'X-Apple-OAuth-State': 'auth-8e7a2a36-1c42-4d0b-9d1a-0c2f7d9b1f00',
    'X-Apple-Widget-Key': WIDGET_KEY,
    Origin: 'https://idmsa.apple.com',
    Referer: 'https://idmsa.apple.com/',
    ...extra,
  };
}

/**
 * Drives one browser-like sign-in against the simulator with plain `fetch`: keeps `scnt`, the session
 * id, the session token and a flat cookie map (name -> value; domain matching is not the point here).
 */
export class SignInDriver {
  scnt: string | undefined;
  sessionId: string | undefined;
  sessionToken: string | undefined;
  trustToken: string | undefined;
  readonly cookies = new Map<string, string>();

  constructor(
    readonly authUrl: string,
    readonly setupUrl: string,
  ) {}

  /** Sends a request and captures the session headers and cookies of its answer. */
  async send(url: string, init: { method: string; headers?: Record<string, string>; body?: unknown }) {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0) headers['Cookie'] = [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
    const res = await fetch(url, {
      method: init.method,
      headers,
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
    const scnt = res.headers.get('scnt');
    if (scnt) this.scnt = scnt;
    const sid = res.headers.get('x-apple-id-session-id');
    if (sid) this.sessionId = sid;
    const token = res.headers.get('x-apple-session-token');
    if (token) this.sessionToken = token;
    const trust = res.headers.get('x-apple-twosv-trust-token');
    if (trust) this.trustToken = trust;
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }

  /** IdMSA headers plus the captured `scnt` and session id. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return idmsaHeaders({
      ...(this.scnt ? { scnt: this.scnt } : {}),
      ...(this.sessionId ? { 'X-Apple-ID-Session-Id': this.sessionId } : {}),
      ...extra,
    });
  }

  async init(client: TestSrpClient) {
    const res = await this.send(`${this.authUrl}/signin/init`, {
      method: 'POST',
      headers: this.headers(),
      body: { a: client.publicValue, accountName: client.accountName, protocols: ['s2k', 's2k_fo'] },
    });
    return { res, body: res.status === 200 ? ((await res.json()) as InitAnswer & { c: string }) : undefined };
  }

  /** signin/init + signin/complete with the given password; returns the complete response. */
  async signIn(accountName: string, password: string, trustTokens: string[] = []) {
    const client = new TestSrpClient(accountName, password);
    const { res, body } = await this.init(client);
    if (!body) return res;
    const { m1, m2 } = client.proofs(body);
    return this.send(`${this.authUrl}/signin/complete?isRememberMeEnabled=true`, {
      method: 'POST',
      headers: this.headers(),
      body: { accountName, c: body.c, m1, m2, rememberMe: true, trustTokens },
    });
  }

  /** The 2026 trigger: `PUT verify/trusteddevice/securitycode` with no body (the device shows a new code). */
  requestCode() {
    return this.send(`${this.authUrl}/verify/trusteddevice/securitycode`, {
      method: 'PUT',
      headers: this.headers({ Accept: 'application/json' }),
    });
  }

  submitCode(code: string) {
    return this.send(`${this.authUrl}/verify/trusteddevice/securitycode`, {
      method: 'POST',
      headers: this.headers({ Accept: 'application/json' }),
      body: { securityCode: { code } },
    });
  }

  trust() {
    return this.send(`${this.authUrl}/2sv/trust`, { method: 'GET', headers: this.headers() });
  }

  accountLogin(body: Record<string, unknown> = {}) {
    return this.send(`${this.setupUrl}/accountLogin`, {
      method: 'POST',
      headers: {
        Origin: 'https://www.icloud.com',
        Referer: 'https://www.icloud.com/',
        'Content-Type': 'text/plain',
      },
      body: { dsWebAuthToken: this.sessionToken, ...body },
    });
  }

  validate() {
    return this.send(`${this.setupUrl}/validate`, {
      method: 'POST',
      headers: { Origin: 'https://www.icloud.com', Referer: 'https://www.icloud.com/' },
      body: 'null',
    });
  }
}
