/**
 * Escrow (S129-S133): accounts flagged `escrow: "EDP" | "PDP"` ask for a second SRP password proof
 * (`escrow/init` + `escrow/complete`, user name `""`) after an accepted code, and instead of two-factor
 * when a valid trust token is sent. No escrow exchange with Apple has been published: these tests pin
 * the behaviour the one implementing client (icloud-photos-sync) and an rclone fork's test expect.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { ControlClient } from '#test/helpers/simulator.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import type { InitAnswer } from '#test/helpers/srp-client.ts';
import { SignInDriver, TestSrpClient } from '#test/helpers/srp-client.ts';

let sim: SimulatorHandle;
let control: ControlClient;

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
});
afterAll(() => sim.stop());
beforeEach(async () => {
  await control.resetThrottle();
  await control.clearFaults();
  await control.setFlags({ authFlow: '2026', escrow: 'EDP', escrowEnforced: false });
});

const driver = () => new SignInDriver(sim.authUrl, sim.setupUrl);

/** The code path up to the accepted code (409 + the escrow header). */
async function codeAccepted(): Promise<SignInDriver> {
  const d = driver();
  expect((await d.signIn(sim.appleId, sim.password)).status).toBe(409);
  expect((await d.requestCode()).status).toBe(202);
  expect((await d.submitCode(await control.code(sim.appleId))).status).toBe(409);
  return d;
}

async function escrowInit(d: SignInDriver, body: Record<string, unknown>) {
  return d.send(`${sim.authUrl}/escrow/init`, { method: 'POST', headers: d.headers(), body });
}

/** escrow/init + escrow/complete with the account's password (or another one). */
/** A client whose A has a leading zero byte, so padded and unpadded proofs really differ (about 1 in 256). */
function clientWithShortA(password: string): TestSrpClient {
  for (;;) {
    const client = new TestSrpClient('', password, BigInt(`0x${randomBytes(32).toString('hex')}`));
    if (Buffer.from(client.publicValue, 'base64').length < 256) return client;
  }
}

async function escrow(d: SignInDriver, password = sim.password, options: { padded?: boolean } = {}) {
  const client = options.padded ? clientWithShortA(password) : new TestSrpClient('', password);
  const init = await escrowInit(d, { a: client.publicValue, accountName: '', protocols: ['s2k', 's2k_fo'] });
  expect(init.status).toBe(200);
  const answer = (await init.json()) as InitAnswer & { c: string };
  return d.send(`${sim.authUrl}/escrow/complete`, {
    method: 'POST',
    headers: d.headers(),
    body: { ...client.escrowProofs(answer, options), c: answer.c },
  });
}

const steps = async () =>
  (
    await control.call<{ steps: { step: string }[] }>(
      'GET',
      `/accounts/steps?appleId=${encodeURIComponent(sim.appleId)}`,
    )
  ).steps.map((s) => s.step);

describe('S129-S133 escrow', () => {
  it('S129: with a valid trust token, signin/complete answers 409 {"authType":"hsa2"} with X-Apple-Edp and no Trust-Eligible', async () => {
    const { trustToken } = await control.session();
    const res = await driver().signIn(sim.appleId, sim.password, [trustToken]);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ authType: 'hsa2' });
    expect(res.headers.get('x-apple-edp')).toBe('true');
    expect(res.headers.get('x-apple-twosv-trust-eligible')).toBeNull();
    for (const h of ['x-apple-session-token', 'x-apple-id-session-id', 'scnt', 'x-apple-auth-attributes']) {
      expect(res.headers.get(h), h).toBeTruthy();
    }
  });

  it('S129: without a trust token the ordinary two-factor 409 comes, with Trust-Eligible and no EDP', async () => {
    const res = await driver().signIn(sim.appleId, sim.password);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ authType: 'hsa2', trustedDevices: expect.any(Array) });
    expect(res.headers.get('x-apple-twosv-trust-eligible')).toBe('true');
    expect(res.headers.get('x-apple-edp')).toBeNull();
  });

  it('S129: escrow PDP says X-Apple-PDP on the trust-token sign-in', async () => {
    await control.setFlags({ escrow: 'PDP' });
    const { trustToken } = await control.session();
    const res = await driver().signIn(sim.appleId, sim.password, [trustToken]);
    expect(res.headers.get('x-apple-pdp')).toBe('true');
  });

  it('S130: escrow/init answers the account salt, iteration and protocol with a fresh c', async () => {
    const d = await codeAccepted();
    const client = new TestSrpClient('', sim.password);
    const res = await escrowInit(d, { a: client.publicValue, accountName: '', protocols: ['s2k', 's2k_fo'] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      iteration: expect.any(Number),
      salt: expect.any(String),
      protocol: 's2k',
      b: expect.any(String),
      c: expect.any(String),
    });
  });

  it('S130: escrow/init answers 400 without accountName "" or when no escrow is pending', async () => {
    const d = await codeAccepted();
    const a = new TestSrpClient('', sim.password).publicValue;
    expect((await escrowInit(d, { a, protocols: ['s2k', 's2k_fo'] })).status).toBe(400);
    expect((await escrowInit(d, { a, accountName: sim.appleId, protocols: ['s2k'] })).status).toBe(400);
    await control.setFlags({ escrow: null });
    const plain = await codeAccepted();
    expect((await escrowInit(plain, { a, accountName: '', protocols: ['s2k', 's2k_fo'] })).status).toBe(400);
  });

  it('S131: escrow/complete with M1 for the user name "" and k = base64(K) answers 200 and a new session token', async () => {
    const d = await codeAccepted();
    const before = d.sessionToken;
    const res = await escrow(d);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-apple-session-token')).toBeTruthy();
    expect(d.sessionToken).not.toBe(before);
  });

  it('S131: proofs with A, B and S padded to 256 bytes (rclone) are accepted too, with an A that needs the padding', async () => {
    const d = await codeAccepted();
    expect((await escrow(d, sim.password, { padded: true })).status).toBe(200);
  });

  it('S131: escrow/complete with the c of another handshake answers 401', async () => {
    const d = await codeAccepted();
    const client = new TestSrpClient('', sim.password);
    const init = await escrowInit(d, {
      a: client.publicValue,
      accountName: '',
      protocols: ['s2k', 's2k_fo'],
    });
    const answer = (await init.json()) as InitAnswer & { c: string };
    const res = await d.send(`${sim.authUrl}/escrow/complete`, {
      method: 'POST',
      headers: d.headers(),
      body: { ...client.escrowProofs(answer), c: `${answer.c}x` },
    });
    expect(res.status).toBe(401);
  });

  it('S131/S145: a wrong password proof answers 401 and issues no token', async () => {
    const d = await codeAccepted();
    const res = await escrow(d, 'not the password');
    expect(res.status).toBe(401);
    expect(res.headers.get('x-apple-session-token')).toBeNull();
  });

  it('S131: with escrowEnforced, 2sv/trust answers 401 until escrow is done', async () => {
    await control.setFlags({ escrowEnforced: true });
    const d = await codeAccepted();
    expect((await d.trust()).status).toBe(401);
    expect((await escrow(d)).status).toBe(200);
    expect((await d.trust()).status).toBe(204);
  });

  it('S132 (i): the code path runs securitycode, escrow/init, escrow/complete, 2sv/trust, accountLogin', async () => {
    await control.call('DELETE', '/accounts/steps');
    const d = await codeAccepted();
    await escrow(d);
    expect((await d.trust()).status).toBe(204);
    const doc = (await (await d.accountLogin({ trustToken: d.trustToken })).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
    expect(await steps()).toEqual([
      'signin-init',
      'signin-complete',
      'push-trigger',
      'code-accepted',
      'escrow-init',
      'escrow-complete',
      'trust',
      'account-login',
    ]);
  });

  it('S132 (ii): the trust-token path escrows without a code and without 2sv/trust', async () => {
    const { trustToken } = await control.session();
    await control.call('DELETE', '/accounts/steps');
    const d = driver();
    expect((await d.signIn(sim.appleId, sim.password, [trustToken])).status).toBe(409);
    expect((await escrow(d)).status).toBe(200);
    const doc = (await (await d.accountLogin({ trustToken })).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
    expect(await steps()).toEqual([
      'signin-init',
      'signin-complete',
      'escrow-init',
      'escrow-complete',
      'account-login',
    ]);
  });

  it('S133 (a): by default a skipped escrow still gives a trusted accountLogin with the trust token', async () => {
    const { trustToken } = await control.session();
    const d = driver();
    expect((await d.signIn(sim.appleId, sim.password, [trustToken])).status).toBe(409);
    const doc = (await (await d.accountLogin({ trustToken })).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
  });

  it('S133 (b): with escrowEnforced a skipped escrow leaves accountLogin asking for two-factor', async () => {
    await control.setFlags({ escrowEnforced: true });
    const { trustToken } = await control.session();
    const d = driver();
    expect((await d.signIn(sim.appleId, sim.password, [trustToken])).status).toBe(409);
    const doc = (await (await d.accountLogin({ trustToken })).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({ hsaChallengeRequired: true, hsaTrustedBrowser: false });
  });
});
