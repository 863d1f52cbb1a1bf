/**
 * S118 in docs/protocol/simulator-contract.md#control-plane: replays icloudpd's auth cassettes against the simulator AS RECORDED and checks that
 * each answer has the recorded shape: status, Apple header names, cookie names and domains, content
 * type, and JSON keys with their value types (values differ).
 *
 * As recorded means: the request headers of the recording (Origin, User-Agent, the OAuth headers and
 * the absence of `scnt`/`X-Apple-ID-Session-Id` where icloudpd sent none, e.g. on signin/complete and
 * 2sv/trust), the recorded bodies, and a `Cookie` header only where the recording has one, filled from
 * a domain-matching cookie jar as icloudpd's requests session would. Only values that must be fresh are
 * recomputed: the SRP numbers (A, c, M1, M2), the code shown on the simulated device, and values an
 * earlier answer of the same replay issued (`scnt` and `X-Apple-ID-Session-Id` as icloudpd keeps the
 * last one received; session and trust tokens wherever the recording used the placeholder an earlier
 * recorded answer carried).
 *
 * The recordings are of 2025-era Apple, so they replay against an account in the `authFlow: "2025"`
 * mode (signin/complete pushes the code, a correct code is answered 204). The 2FA cassettes and
 * auth_requires_2fa are also hand-edited (signin/complete answered 200 `{"auth_type":"hsa2"}` where
 * Apple answers 409): they run in the simulator's cassette mode (S14 in docs/protocol/simulator-contract.md#sign-in). failed_auth ends with
 * the dead legacy `/signin`, also answered as recorded only in cassette mode (S19 in docs/protocol/simulator-contract.md#sign-in).
 */
import { CookieJar } from 'tough-cookie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { readRecordedJson } from '#test/helpers/recorded.ts';
import type { ControlClient } from '#test/helpers/simulator.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { TestSrpClient } from '#test/helpers/srp-client.ts';

interface Recorded {
  interactions: {
    request: {
      method: string;
      uri: string;
      headers: Record<string, string[]>;
      body: { json?: unknown; text?: string } | null;
    };
    response: {
      status: number;
      headers: Record<string, string[]>;
      body: { json?: unknown; text?: string } | null;
    };
  }[];
}

const load = (name: string): Recorded => readRecordedJson('icloudpd', `${name}.json`) as Recorded;

/** Headers that are transport or infrastructure detail, not part of Apple's protocol. */
const INFRA = new Set(['x-apple-i-request-id', 'x-apple-edge-response-time']);
const appleHeaderNames = (h: Record<string, unknown>): string[] =>
  Object.keys(h)
    .map((n) => n.toLowerCase())
    .filter((n) => (n.startsWith('x-apple-') || n === 'scnt' || n === 'location') && !INFRA.has(n));

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Every key of `recorded` exists in `actual` with the same JSON type, recursively. */
function expectSameShape(actual: unknown, recorded: unknown, path: string): void {
  expect(typeOf(actual), path).toBe(typeOf(recorded));
  if (Array.isArray(recorded) && Array.isArray(actual) && recorded.length > 0 && actual.length > 0) {
    expectSameShape(actual[0], recorded[0], `${path}[0]`);
  } else if (typeOf(recorded) === 'object') {
    for (const [k, v] of Object.entries(recorded as Record<string, unknown>)) {
      expect(actual as object, `${path}.${k}`).toHaveProperty([k]);
      expectSameShape((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
    }
  }
}

const bootArgs = (html: string): unknown =>
  JSON.parse(/<script type="application\/json" class="boot_args">(.*)<\/script>/s.exec(html)?.[1] ?? 'null');

function cookieNameAndDomain(line: string): [string, string] {
  const name = line.split('=')[0]!.trim();
  const domain = /;\s*Domain=([^;]+)/i.exec(line)?.[1]?.trim() ?? '';
  return [name.startsWith('X_APPLE_WEB_KB-') ? 'X_APPLE_WEB_KB-*' : name, domain];
}

let sim: SimulatorHandle;
let control: ControlClient;

beforeEach(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
  await control.setFlags({ authFlow: '2025' });
});
afterEach(() => sim.stop());

/** The recorded account; every other name (bad_username, whatever_username) stays unknown. */
const RECORDED_ACCOUNT = 'jdoe@gmail.com';
/** Transport headers fetch sets itself; the recorded Cookie is replaced by the jar's cookies. */
const TRANSPORT = new Set(['cookie', 'content-length', 'host', 'accept-encoding', 'connection']);
/** Response headers whose recorded placeholders later requests reuse. */
const ISSUED = ['scnt', 'x-apple-id-session-id', 'x-apple-session-token', 'x-apple-twosv-trust-token'];

/** Replaces every string equal to a known placeholder, recursively. */
function substitute(value: unknown, placeholders: Map<string, string>): unknown {
  if (typeof value === 'string') return placeholders.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => substitute(v, placeholders));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, placeholders)]));
  }
  return value;
}

const headerValue = (h: Record<string, string[]>, name: string): string | undefined =>
  Object.entries(h).find(([n]) => n.toLowerCase() === name)?.[1]?.[0];

/**
 * Replays one cassette as recorded (see the file comment); `wrongCode` submits a code that is not the
 * shown one; `onlyHost` replays only the interactions with that host (a listing cassette's `validate`).
 */
async function replay(
  name: string,
  options: { wrongCode?: boolean; presetCookies?: string[]; onlyHost?: string } = {},
) {
  const interactions = load(name).interactions.filter(
    (i) => options.onlyHost === undefined || new URL(i.request.uri).hostname === options.onlyHost,
  );
  const jar = new CookieJar();
  for (const line of options.presetCookies ?? []) await jar.setCookie(line, 'https://setup.icloud.com/');
  /** Recorded placeholder -> the value this replay received in its place. */
  const placeholders = new Map<string, string>();
  /** The last value received per session header, as icloudpd's session_data keeps it. */
  const last = new Map<string, string>();
  let srp: TestSrpClient | undefined;
  let init: { salt: string; b: string; iteration: number; protocol: string; c: string } | undefined;

  for (const [i, { request, response }] of interactions.entries()) {
    const url = new URL(request.uri);
    const step = `${name}#${i} ${request.method} ${url.pathname}`;
    const recordedJson = request.body?.json as Record<string, unknown> | undefined;
    const accountName =
      recordedJson?.['accountName'] === RECORDED_ACCOUNT
        ? sim.appleId
        : (recordedJson?.['accountName'] as string | undefined);
    let body: unknown = substitute(request.body?.json ?? request.body?.text, placeholders);

    // Fresh values only: SRP numbers, the code on the device.
    if (url.pathname.endsWith('/signin/init')) {
      srp = new TestSrpClient(accountName!, sim.password);
      body = { ...recordedJson, accountName, a: srp.publicValue };
    } else if (url.pathname.endsWith('/signin/complete')) {
      // The recording dropped c, m1 and m2 (secrets); icloudpd sends them.
      body = { ...recordedJson, accountName, c: init!.c, ...srp!.proofs(init!) };
    } else if (url.pathname.endsWith('/signin')) {
      body = { ...recordedJson, accountName };
    } else if (url.pathname.endsWith('/securitycode')) {
      const code = await control.code();
      const sent = options.wrongCode ? String((Number(code) + 1) % 1_000_000).padStart(6, '0') : code;
      body = { securityCode: { code: sent } };
    }

    const headers: Record<string, string> = {};
    for (const [n, values] of Object.entries(request.headers)) {
      if (TRANSPORT.has(n.toLowerCase())) continue;
      headers[n] = last.get(n.toLowerCase()) ?? values.join(', ');
    }
    if (headerValue(request.headers, 'cookie') !== undefined) {
      const cookie = await jar.getCookieString(request.uri);
      if (cookie) headers['Cookie'] = cookie;
    }

    const res = await fetch(toSimulatorUrl(request.uri, sim.baseUrl), {
      method: request.method,
      headers,
      ...(body === undefined || request.method === 'GET'
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    for (const line of res.headers.getSetCookie()) await jar.setCookie(line, request.uri);
    for (const h of ISSUED) {
      const actual = res.headers.get(h);
      if (!actual) continue;
      last.set(h, actual);
      const recorded = headerValue(response.headers, h);
      if (recorded) placeholders.set(recorded, actual);
    }

    expect(res.status, step).toBe(response.status);
    const actualHeaders = Object.fromEntries(res.headers.entries());
    for (const h of appleHeaderNames(response.headers))
      expect(actualHeaders, `${step} header ${h}`).toHaveProperty([h]);
    const recordedType = response.headers['Content-Type']?.[0];
    if (recordedType && response.status !== 204 && text.length > 0) {
      expect(res.headers.get('content-type')?.split(';')[0]?.toLowerCase(), `${step} content-type`).toBe(
        recordedType.split(';')[0]!.toLowerCase(),
      );
    }
    const actualCookies = res.headers.getSetCookie().map(cookieNameAndDomain);
    for (const line of response.headers['Set-Cookie'] ?? []) {
      expect(actualCookies, `${step} cookie ${line.split('=')[0]}`).toContainEqual(cookieNameAndDomain(line));
    }
    if (response.body?.json !== undefined && response.status !== 204) {
      expectSameShape(JSON.parse(text), response.body.json, step);
    } else if (response.body?.text?.includes('boot_args')) {
      expectSameShape(bootArgs(text), bootArgs(response.body.text), `${step} boot_args`);
    } else if (response.body?.text !== undefined) {
      expect(text, step).toBe(response.body.text);
    }
    if (url.pathname.endsWith('/signin/init') && res.status === 200) init = JSON.parse(text);
  }
}

describe('S118: icloudpd auth cassettes replay as recorded against a 2025-mode account', () => {
  it('successful_auth: validate with a stored cookie jar', async () => {
    const { cookies } = await control.session();
    await replay('successful_auth', { presetCookies: cookies });
  });

  for (const name of [
    'listing_photos',
    'listing_photos_raw_alt_adj',
    'listing_videos',
    'listing_albums',
    'listing_photos_bad_filename',
  ]) {
    it(`${name}: the validate that opens the listing, with a stored cookie jar`, async () => {
      const { cookies } = await control.session();
      expect(load(name).interactions[0]!.request.uri).toBe('https://setup.icloud.com/setup/ws/1/validate');
      await replay(name, { presetCookies: cookies, onlyHost: 'setup.icloud.com' });
    });
  }

  it('auth_non_2fa: signin 412, repair/complete, accountLogin without the hsa fields', async () => {
    await control.setFlags({ hsaVersion: 0, needsRepair: true });
    await replay('auth_non_2fa');
  });

  it('auth_requires_2fa (hand-edited 200 hsa2: cassette mode)', async () => {
    await control.settings({ cassetteMode: true });
    await replay('auth_requires_2fa');
  });

  it('2fa_flow_valid_code (cassette mode): header-less signin/complete, boot page, code 204, cookie-only trust 204, trusted accountLogin', async () => {
    await control.settings({ cassetteMode: true });
    await replay('2fa_flow_valid_code');
  });

  it('2fa_flow_invalid_code (cassette mode): a wrong code is 400 -21669', async () => {
    await control.settings({ cassetteMode: true });
    await replay('2fa_flow_invalid_code', { wrongCode: true });
  });

  it('failed_auth (legacy signin answered as recorded in cassette mode): 401 -20101, then Rscd 401', async () => {
    await control.settings({ cassetteMode: true });
    await replay('failed_auth');
  });

  it('failed_auth_503: signin/init throttled twice with the 29-byte body', async () => {
    await control.settings({ srpLimit: 0 });
    await replay('failed_auth_503');
  });

  it('with the strict header switch the recorded header-less signin/complete is refused (the replay is not rigged)', async () => {
    await control.settings({ cassetteMode: true, strictIdmsaHeaders: true });
    await expect(replay('auth_requires_2fa')).rejects.toThrow(/signin\/complete/);
  });
});
