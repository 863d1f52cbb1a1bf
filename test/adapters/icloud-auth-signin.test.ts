import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WrongVerificationCodeError } from '#adapters/icloud/auth/two-factor.ts';
import { type IcloudEndpoint, resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { AccountConditionError, RateLimitedError, SessionExpiredError } from '#domain/errors.ts';
import { createLogger } from '#shared/logger.ts';
import { Secret } from '#shared/redact.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

type Sim = Awaited<ReturnType<typeof startTestSimulator>>;
interface SimAccount {
  appleId: string;
  password: string;
}

const logger = createLogger({ level: 'SILENT' });
let sim: Sim;
let control: ControlClient;
let endpoint: IcloudEndpoint;
let account: SimAccount;
let dir: string;
let fileNo = 0;

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
  endpoint = await resolveEndpoint(sim.controlUrl);
  account = (await control.call<{ accounts: SimAccount[] }>('GET', '/accounts')).accounts[0]!;
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-auth-'));
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await control.clearFaults();
  await control.resetThrottle();
  await control.setFlags({
    appleId: account.appleId,
    protocol: 's2k',
    iCDPEnabled: false,
    isWebAccessAllowed: true,
    termsUpdateNeeded: false,
    domainToUse: null,
    fido: false,
    needsRepair: false,
  });
});

const freshStore = () => new FileSessionStore(join(dir, `session-${++fileNo}.json`));
const zonesUrl = (s: { ckdatabasewsUrl(): string; clientId: string; dsid: string }) =>
  `${s.ckdatabasewsUrl()}/database/1/com.apple.photos.cloud/production/private/changes/database?clientBuildNumber=2522Project44&clientId=${s.clientId}&dsid=${s.dsid}`;

/** Signs in with the device code (or none, when trusted) and stores the session. */
async function login(store: FileSessionStore, options: { rememberPassword?: boolean; sms?: number } = {}) {
  const session = await beginLogin({ endpoint, store, appleId: account.appleId, logger });
  const authenticator = await session.startSignIn();
  const password = new Secret(account.password);
  const result = await authenticator.signIn(password);
  if (result.status === 'two-factor') {
    const delivery =
      options.sms === undefined
        ? ({ kind: 'device' } as const)
        : ({ kind: 'sms', phoneId: options.sms } as const);
    await authenticator.requestCode(delivery);
    await authenticator.verifyCode(delivery, await control.code(account.appleId));
  }
  await session.save(options.rememberPassword ? { rememberPassword: password } : {});
  return { result, session };
}

describe('sign-in against the simulator', () => {
  for (const protocol of ['s2k', 's2k_fo'] as const) {
    it(`signs in with SRP ${protocol}, two-factor by device code, and trust`, async () => {
      await control.setFlags({ appleId: account.appleId, protocol });
      const store = freshStore();
      const { result, session } = await login(store);
      expect(result.status).toBe('two-factor');
      expect(session.session.fields.trustToken).toBeTruthy();
      expect(session.session.fields.ckdatabasewsUrl).toMatch(/^https:\/\/p\d+-ckdatabasews\.icloud\.com/);
    });
  }

  it('signs in with a code sent by SMS to a chosen trusted number', async () => {
    const { result } = await login(freshStore(), { sms: 1 });
    expect(result.status === 'two-factor' && result.challenge.trustedPhoneNumbers[0]?.id).toBe(1);
  });

  it('rejects a wrong code with a typed error and accepts the right one without a new push', async () => {
    const session = await beginLogin({ endpoint, store: freshStore(), appleId: account.appleId, logger });
    const authenticator = await session.startSignIn();
    await authenticator.signIn(new Secret(account.password));
    await authenticator.requestCode({ kind: 'device' });
    const code = await control.code(account.appleId);
    const wrong = code === '000000' ? '111111' : '000000';
    await expect(authenticator.verifyCode({ kind: 'device' }, wrong)).rejects.toThrow(
      WrongVerificationCodeError,
    );
    expect(await control.code(account.appleId)).toBe(code);
    await expect(authenticator.verifyCode({ kind: 'device' }, code)).resolves.toMatchObject({
      requiresTwoFactor: false,
    });
  });

  it('skips two-factor on the next sign-in thanks to the stored trust token', async () => {
    const store = freshStore();
    await login(store);
    const again = await beginLogin({ endpoint, store, appleId: account.appleId, logger });
    const result = await (await again.startSignIn()).signIn(new Secret(account.password));
    expect(result.status).toBe('signed-in');
  });

  it('reuses a stored session with zero sign-in requests', async () => {
    const store = freshStore();
    await login(store);
    await control.resetStats();
    const opened = await openIcloudSession({ endpoint, store, logger });
    const response = await opened.http.send({ method: 'POST', url: zonesUrl(opened), json: {} });
    expect(response.status).toBe(200);
    const stats = await control.stats();
    expect(stats.total).toBe(1);
    expect(stats.requests['changes/database']).toBe(1);
  });

  it('refreshes headlessly after the web session expires and retries the CloudKit call once', async () => {
    const store = freshStore();
    await login(store, { rememberPassword: true });
    await control.advanceClock({ advanceDays: 31 });
    await control.resetStats();
    const opened = await openIcloudSession({ endpoint, store, logger });
    const response = await opened.http.send({ method: 'POST', url: zonesUrl(opened), json: {} });
    expect(response.status).toBe(200);
    const stats = await control.stats();
    expect(stats.requests['signin/init'] ?? 0).toBeLessThanOrEqual(1);
    expect(stats.requests['changes/database']).toBe(2);
    const reopened = await openIcloudSession({ endpoint, store, logger });
    expect(reopened.dsid).toBe(opened.dsid);
  });

  it('asks for a person when the session expired and no password is remembered', async () => {
    const store = freshStore();
    await login(store);
    await control.advanceClock({ advanceDays: 31 });
    const opened = await openIcloudSession({ endpoint, store, logger });
    await expect(opened.http.send({ method: 'POST', url: zonesUrl(opened), json: {} })).rejects.toThrow(
      SessionExpiredError,
    );
  });

  it('stops at the first 503 of SRP and honours the stored throttle without asking Apple again', async () => {
    await control.injectFault({ endpoint: 'signin/init', status: 503, count: 5 });
    await control.resetStats();
    const store = freshStore();
    const session = await beginLogin({ endpoint, store, appleId: account.appleId, logger });
    const authenticator = await session.startSignIn();
    await expect(authenticator.signIn(new Secret(account.password))).rejects.toThrow(RateLimitedError);
    await expect(authenticator.signIn(new Secret(account.password))).rejects.toThrow(/throttling/);
    expect((await control.stats()).requests['signin/init']).toBe(1);
  });
});

describe('account conditions against the simulator', () => {
  async function conditionOf(flags: Record<string, unknown>, password = account.password): Promise<string> {
    await control.setFlags({ appleId: account.appleId, ...flags });
    const session = await beginLogin({ endpoint, store: freshStore(), appleId: account.appleId, logger });
    try {
      await (await session.startSignIn()).signIn(new Secret(password));
    } catch (error) {
      if (error instanceof AccountConditionError) return error.condition;
      throw error;
    }
    return 'none';
  }

  it('explains a wrong password', async () => {
    expect(await conditionOf({}, 'not-the-password')).toBe('wrong-password');
  });
  it('explains Advanced Data Protection', async () => {
    expect(await conditionOf({ iCDPEnabled: true })).toBe('advanced-data-protection');
  });
  it('explains web access off', async () => {
    expect(await conditionOf({ isWebAccessAllowed: false })).toBe('web-access-off');
  });
  it('explains terms to accept', async () => {
    expect(await conditionOf({ termsUpdateNeeded: true })).toBe('terms-not-accepted');
  });
  it('explains the China region', async () => {
    expect(await conditionOf({ domainToUse: 'iCloud.com.cn' })).toBe('wrong-region');
  });
  it('explains a security-key account', async () => {
    expect(await conditionOf({ fido: true })).toBe('security-key');
  });
  it('completes the 412 repair step and signs in', async () => {
    expect(await conditionOf({ needsRepair: true })).toBe('none');
  });
});
