/**
 * A scripted Apple behind a `fetch`: each route (`"POST signin/complete"`, `"GET auth"`,
 * `"POST accountLogin"`, …) answers from a list of answers (the last one repeats), and every
 * request is recorded. SRP is real: `ScriptedSrp` issues challenges and checks the client's M1
 * (with the account name for sign-in, with "" for escrow) and K, with the simulator's server-side
 * SRP, so a client that proves the wrong thing fails here as it would at Apple.
 */
import { randomBytes } from 'node:crypto';
import {
  bytesOf,
  expectedProofs,
  intOf,
  proofMatches,
  randomSecret,
  serverPublic,
  verifierFor,
} from '#simulator/src/auth/srp.ts';

export interface ScriptedAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly text?: string;
}

export interface ScriptedRequest {
  /** `"PUT verify/trusteddevice/securitycode"`, `"GET auth"`, `"POST accountLogin"`. */
  readonly route: string;
  readonly headers: Headers;
  readonly body: unknown;
}

export type ScriptedHandler = (request: ScriptedRequest) => ScriptedAnswer;

/** The route of an Apple URL: the part after `/appleauth/auth/` or `/setup/ws/1/`, `auth` for the page. */
function routeOf(method: string, url: URL): string {
  const path = url.pathname
    .replace(/^\/appleauth\/auth\/?/, '')
    .replace(/^\/setup\/ws\/1\//, '')
    .replace(/\/+$/, '');
  return `${method} ${path === '' ? 'auth' : path}`;
}

export class ScriptedApple {
  readonly requests: ScriptedRequest[] = [];
  readonly #routes = new Map<string, ScriptedHandler[]>();

  /** Answers `route` with these answers in turn; the last one repeats. */
  on(route: string, ...answers: (ScriptedAnswer | ScriptedHandler)[]): this {
    this.#routes.set(
      route,
      answers.map((a) => (typeof a === 'function' ? a : () => a)),
    );
    return this;
  }

  /** The routes requested so far, in order. */
  get calls(): string[] {
    return this.requests.map((r) => r.route);
  }

  count(route: string): number {
    return this.calls.filter((c) => c === route).length;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? 'GET').toUpperCase();
    const route = routeOf(method, url);
    const raw = typeof init?.body === 'string' ? init.body : undefined;
    let body: unknown = raw;
    try {
      body = raw === undefined ? undefined : JSON.parse(raw);
    } catch {
      // not JSON: keep the text
    }
    const request: ScriptedRequest = { route, headers: new Headers(init?.headers), body };
    this.requests.push(request);
    const handlers = this.#routes.get(route);
    if (!handlers?.length) return new Response(`unscripted ${route}`, { status: 599 });
    const handler = handlers.length > 1 ? handlers.shift()! : handlers[0]!;
    const answer = handler(request);
    const headers = new Headers(answer.headers);
    let text = answer.text ?? '';
    if (answer.json !== undefined) {
      text = JSON.stringify(answer.json);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const nullBody = answer.status === 204 || answer.status === 304;
    return new Response(nullBody ? null : text, { status: answer.status, headers });
  };
}

let counter = 0;
/** Fresh session-state headers, as IdMSA sends them on each answer. */
export function idmsaHeaders(extra: Record<string, string> = {}): Record<string, string> {
  counter += 1;
  return { scnt: `scnt-${counter}`, 'X-Apple-ID-Session-Id': 'sid-1', ...extra };
}

/** One account's SRP on the Apple side: answers init requests and checks complete requests. */
export class ScriptedSrp {
  readonly #salt = randomBytes(16);
  readonly #iterations = 1000;
  readonly #v: bigint;
  readonly #handshakes = new Map<string, { A: bigint; b: bigint; B: bigint }>();

  constructor(password: string) {
    this.#v = verifierFor(password, this.#salt, this.#iterations, 's2k');
  }

  /** The answer to `signin/init` or `escrow/init`. */
  init = (request: ScriptedRequest): ScriptedAnswer => {
    const a = (request.body as { a?: string } | undefined)?.a ?? '';
    const b = randomSecret();
    const B = serverPublic(b, this.#v);
    const c = `c-${randomBytes(4).toString('hex')}`;
    this.#handshakes.set(c, { A: intOf(Buffer.from(a, 'base64')), b, B });
    return {
      status: 200,
      headers: idmsaHeaders(),
      json: {
        iteration: this.#iterations,
        salt: this.#salt.toString('base64'),
        protocol: 's2k',
        b: bytesOf(B).toString('base64'),
        c,
      },
    };
  };

  /** Whether a `signin/complete` or `escrow/complete` body proves the password under `accountName` (and K, when sent). */
  proves(body: unknown, accountName: string): boolean {
    const { c, m1, k } = (body ?? {}) as { c?: string; m1?: string; k?: string };
    const h = c === undefined ? undefined : this.#handshakes.get(c);
    if (!h || typeof m1 !== 'string') return false;
    const expected = expectedProofs({ accountName, salt: this.#salt, A: h.A, b: h.b, B: h.B, v: this.#v });
    if (!expected || !proofMatches(expected.m1, Buffer.from(m1, 'base64'))) return false;
    return k === undefined || k === expected.K.toString('base64');
  }
}
