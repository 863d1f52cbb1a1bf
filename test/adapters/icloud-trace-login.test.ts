import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeDelivery } from '#adapters/icloud/auth/two-factor.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { TraceRecorder } from '#adapters/icloud/http/trace-recorder.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { TraceFile } from '#adapters/local/trace-file.ts';
import { createLogger } from '#shared/logger.ts';
import { Secret } from '#shared/redact.ts';
import type { TraceInteraction } from '#shared/trace-redaction.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

/** One exchange exactly as it crossed the wire, seen by a `fetch` wrapped around the real one. */
interface WireExchange {
  readonly method: string;
  readonly transportUrl: string;
  readonly requestHeaders: Headers;
  readonly requestBody: string | undefined;
  readonly responseHeaders: Headers;
  readonly responseBody: string;
}

function wireRecorder(): { readonly fetch: typeof fetch; readonly exchanges: WireExchange[] } {
  const exchanges: WireExchange[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    exchanges.push({
      method: init?.method ?? 'GET',
      transportUrl: String(input),
      requestHeaders: new Headers(init?.headers),
      requestBody: typeof init?.body === 'string' ? init.body : undefined,
      responseHeaders: response.headers,
      responseBody: await response.clone().text(),
    });
    return response;
  };
  return { fetch: wrapped, exchanges };
}

const SECRET_HEADERS = [
  'x-apple-session-token',
  'x-apple-twosv-trust-token',
  'x-apple-id-session-id',
  'x-apple-oauth-grant-code',
  'x-apple-auth-attributes',
  'scnt',
];
const SECRET_FIELDS = new Set([
  'a',
  'b',
  'c',
  'k',
  'm1',
  'm2',
  'salt',
  'dsWebAuthToken',
  'trustToken',
  'trustTokens',
  'sessionToken',
  'dsid',
  'aDsID',
]);

const unquote = (v: string) => v.replace(/^"(.*)"$/, '$1');

/** Every secret value the wire carried: cookies, token headers, SRP and escrow values, tokens in bodies. */
function secretsOnTheWire(exchanges: readonly WireExchange[]): Set<string> {
  const found = new Set<string>();
  const walk = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) for (const item of value) walk(item, key);
    else if (value !== null && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, k);
    else if (key && SECRET_FIELDS.has(key) && (typeof value === 'string' || typeof value === 'number'))
      found.add(String(value));
  };
  const parse = (text: string | undefined) => {
    try {
      return text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  };
  for (const exchange of exchanges) {
    for (const pair of (exchange.requestHeaders.get('cookie') ?? '').split(/;\s*/)) {
      found.add(unquote(pair.slice(pair.indexOf('=') + 1)));
    }
    for (const setCookie of exchange.responseHeaders.getSetCookie()) {
      const first = setCookie.split(';')[0] ?? '';
      found.add(unquote(first.slice(first.indexOf('=') + 1)));
    }
    for (const name of SECRET_HEADERS) {
      for (const headers of [exchange.requestHeaders, exchange.responseHeaders]) {
        const value = headers.get(name);
        if (value) found.add(value);
      }
    }
    walk(parse(exchange.requestBody));
    walk(parse(exchange.responseBody));
  }
  // Short cookie values (`dslang=US-EN`, `site=USA`) are settings, not secrets.
  return new Set([...found].filter((value) => value.length >= 8));
}

/** The forms a secret could take in a JSON file. */
const formsOf = (value: string) => [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];

/** `POST idmsa.apple.com/appleauth/auth/signin/init` from a simulator transport URL. */
function wireStep(exchange: WireExchange, simBase: string): string {
  const path = exchange.transportUrl.slice(simBase.replace(/\/+$/, '').length + 1).split('?')[0];
  return `${exchange.method} ${path}`;
}

function traceStep(interaction: TraceInteraction): string {
  const uri = new URL(interaction.request.uri);
  return `${interaction.request.method} ${uri.host}${uri.pathname}`;
}

let sim: SimulatorHandle;
let control: ControlClient;
let dir: string;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 3 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-trace-'));
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A full `icloud-s3 login` through the adapters, traced to a file, with the wire recorded beside it. */
async function tracedLogin(delivery: 'device' | 'sms' | 'escrow', traceName: string) {
  // An Advanced/Standard Data Protection account: after the code, Apple asks for escrow.
  await control.setFlags({ appleId: sim.appleId, escrow: delivery === 'escrow' ? 'EDP' : null });
  const wire = wireRecorder();
  const tracePath = join(dir, traceName);
  const trace = new TraceFile(tracePath, `test ${delivery} login`);
  const endpoint = await resolveEndpoint(sim.controlUrl);
  const login = await beginLogin({
    endpoint,
    store: new FileSessionStore(join(dir, `${traceName}.session.json`)),
    appleId: sim.appleId,
    logger: createLogger({ level: 'SILENT' }),
    fetch: wire.fetch,
    observer: new TraceRecorder(trace),
  });
  const authenticator = await login.startSignIn();
  const outcome = await authenticator.signIn(new Secret(sim.password));
  expect(outcome.status).toBe('two-factor');
  if (outcome.status !== 'two-factor') throw new Error('expected a two-factor challenge');
  const phone = outcome.challenge.trustedPhoneNumbers[0];
  const how: CodeDelivery =
    delivery === 'sms' && phone ? { kind: 'sms', phoneId: phone.id } : { kind: 'device' };
  await authenticator.requestCode(how);
  const code = await control.code(sim.appleId);
  await authenticator.verifyCode(how, code);
  await login.save({});
  trace.close();
  const text = await readFile(tracePath, 'utf8');
  const simBase = (await (await fetch(sim.controlUrl)).json()) as { baseUrl: string };
  return { text, code, wire: wire.exchanges, simBase: simBase.baseUrl, tracePath };
}

describe.each(['device', 'sms', 'escrow'] as const)('a %s login traced to a file', (delivery) => {
  let run: Awaited<ReturnType<typeof tracedLogin>>;
  beforeAll(async () => {
    run = await tracedLogin(delivery, `${delivery}-trace.json`);
  });

  it('holds none of the password, the code, the cookies, the tokens or the SRP values', () => {
    const secrets = secretsOnTheWire(run.wire);
    // The wire really carried them: SRP values, session and trust tokens, cookies.
    expect(secrets.size).toBeGreaterThan(20);
    for (const secret of [sim.password, sim.appleId, ...secrets]) {
      for (const form of formsOf(secret))
        expect(run.text, `a secret leaked: ${form.slice(0, 6)}…`).not.toContain(form);
    }
    expect(run.text).not.toMatch(new RegExp(`(?<![0-9])${run.code}(?![0-9])`));
  });

  it('parses as the recorded-fixture shape and shows every request of the login in order', () => {
    const trace = JSON.parse(run.text) as { source: string; interactions: TraceInteraction[] };
    expect(trace.source).toBe(`test ${delivery} login`);
    expect(trace.interactions.map(traceStep)).toEqual(run.wire.map((e) => wireStep(e, run.simBase)));
    const steps = trace.interactions.map(traceStep).join('\n');
    expect(steps).toContain('POST idmsa.apple.com/appleauth/auth/signin/init');
    expect(steps).toContain('POST idmsa.apple.com/appleauth/auth/signin/complete');
    expect(steps).toContain(
      delivery === 'sms'
        ? 'POST idmsa.apple.com/appleauth/auth/verify/phone/securitycode'
        : 'POST idmsa.apple.com/appleauth/auth/verify/trusteddevice/securitycode',
    );
    if (delivery === 'escrow') {
      expect(steps).toContain('POST idmsa.apple.com/appleauth/auth/escrow/init');
      expect(steps).toContain('POST idmsa.apple.com/appleauth/auth/escrow/complete');
    }
    expect(steps).toContain('GET idmsa.apple.com/appleauth/auth/2sv/trust');
    expect(steps).toContain('POST setup.icloud.com/setup/ws/1/accountLogin');
  });

  it('keeps the flow readable: placeholders name what was removed, and a token sent back is the same placeholder', () => {
    const trace = JSON.parse(run.text) as { interactions: TraceInteraction[] };
    const init = trace.interactions[0];
    expect(init?.request.body).toMatchObject({
      json: {
        a: expect.stringMatching(/^<redacted:srp-A#1 \d+ bytes>$/),
        accountName: expect.stringMatching(/\*\*\*@/),
      },
    });
    const trustHeader = trace.interactions.flatMap(
      (i) => i.response.headers['x-apple-twosv-trust-token'] ?? [],
    )[0];
    expect(trustHeader).toMatch(/^<redacted:trust-token#1 /);
    const lastLogin = trace.interactions.at(-1);
    expect(lastLogin?.request.body).toMatchObject({ json: { trustToken: trustHeader } });
  });

  it("names each SRP value for what it is: the sign-in's, and escrow's when Apple asks for escrow", () => {
    const trace = JSON.parse(run.text) as { interactions: TraceInteraction[] };
    const signIn = trace.interactions.find((i) => i.request.uri.includes('/signin/complete'));
    expect(signIn?.request.body).toMatchObject({
      json: {
        m1: expect.stringMatching(/^<redacted:srp-m1#1 32 bytes>$/),
        c: expect.stringMatching(/^<redacted:srp-c#1 /),
      },
    });
    const complete = trace.interactions.find((i) => i.request.uri.endsWith('/escrow/complete'));
    if (delivery !== 'escrow') {
      expect(complete).toBeUndefined();
      return;
    }
    expect(complete?.request.body).toEqual({
      json: {
        m1: expect.stringMatching(/^<redacted:escrow-m1#1 32 bytes>$/),
        m2: expect.stringMatching(/^<redacted:escrow-m2#1 32 bytes>$/),
        c: expect.stringMatching(/^<redacted:escrow-c#1 /),
        k: expect.stringMatching(/^<redacted:escrow-k#1 32 bytes>$/),
      },
    });
  });

  it('is readable only by its owner', async () => {
    expect((await stat(run.tracePath)).mode & 0o777).toBe(0o600);
  });
});

describe('TraceFile', () => {
  it('is valid JSON after every exchange, so a crash mid-login leaves a readable file', async () => {
    const path = join(dir, 'incremental.json');
    const file = new TraceFile(path, 'incremental');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ source: 'incremental', interactions: [] });
    const interaction: TraceInteraction = {
      request: { method: 'GET', uri: 'https://setup.icloud.com/x', headers: {}, body: null },
      response: {
        status: 200,
        headers: { 'content-type': ['application/json'] },
        body: { json: { ok: 'é' } },
      },
    };
    for (let n = 1; n <= 3; n++) {
      file.append(interaction);
      // Read without closing: what a crash would leave.
      expect(
        (JSON.parse(await readFile(path, 'utf8')) as { interactions: unknown[] }).interactions,
      ).toHaveLength(n);
    }
    file.close();
  });

  it('tightens an existing file to mode 0600 before writing', async () => {
    const path = join(dir, 'existing.json');
    await writeFile(path, 'old content that is much longer than an empty trace would be, to be truncated');
    await chmod(path, 0o644);
    new TraceFile(path, 'fresh').close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ source: 'fresh', interactions: [] });
  });
});

describe('TraceRecorder', () => {
  it('notes a media answer by size and type without reading or holding up its body', async () => {
    const appended: TraceInteraction[] = [];
    const recorder = new TraceRecorder({ append: (i) => appended.push(i) });
    // A body that never ends: reading it would hang the test.
    const body = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => undefined) });
    const response = new Response(body, {
      status: 200,
      headers: { 'content-type': 'image/jpeg', 'content-length': '5120' },
    });
    await recorder.observe(
      {
        method: 'GET',
        url: 'https://cvws.icloud-content.com/B/AaBbCcDdEeFf0123456789GgHhIiJjKkLlMm/file?s=SIG&e=1',
        headers: new Headers(),
        body: undefined,
      },
      { response },
    );
    expect(response.bodyUsed).toBe(false);
    expect(body.locked).toBe(false);
    expect(appended[0]?.response.body).toEqual({ text: '<5120 bytes of image/jpeg not recorded>' });
    expect(appended[0]?.request.uri).not.toContain('SIG');
    await body.cancel();
  });

  it('records a request that got no answer with status 0 and the kind of failure', async () => {
    const appended: TraceInteraction[] = [];
    const recorder = new TraceRecorder({ append: (i) => appended.push(i) });
    await recorder.observe(
      {
        method: 'POST',
        url: 'https://idmsa.apple.com/appleauth/auth/signin/init',
        headers: new Headers(),
        body: '{}',
      },
      { error: new DOMException('timed out', 'TimeoutError') },
    );
    expect(appended[0]?.response).toEqual({
      status: 0,
      headers: {},
      body: { text: '<no answer: TimeoutError>' },
    });
  });
});
