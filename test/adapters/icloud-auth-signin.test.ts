import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchTwoFactorOptions, WrongVerificationCodeError } from '#adapters/icloud/auth/two-factor.ts';
import { type IcloudEndpoint, resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { FetchIcloudHttp } from '#adapters/icloud/http/fetch-icloud-http.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
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
    ...APPLE_TODAY,
  });
  await control.call('DELETE', '/accounts/steps');
});

/** The 2026 flags of a fresh simulated account: Apple as it answers today. */
const APPLE_TODAY = {
  authFlow: '2026',
  escrow: null,
  escrowEnforced: false,
  codeAnswerWithoutSessionToken: false,
  codeAnswerTrustToken: false,
  codeAnswerStatus: 409,
  wrongCodeStatus: 400,
  noTrustedDevices: false,
  bridgeRouted: false,
  phoneNonFTEU: false,
  authJsonShape: 'top-level',
  strictIdmsaHeaders: null,
  rejectIdmsaProfileOnVerify: false,
} as const;

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

  for (const wrongCodeStatus of [400, 412] as const) {
    it(`rejects a wrong code (HTTP ${wrongCodeStatus}) with a typed error and accepts the right one without a new push`, async () => {
      await control.setFlags({ appleId: account.appleId, wrongCodeStatus });
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
  }

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

  it('counts every request a refresh makes (sign-in, accountLogin, the retried call)', async () => {
    const store = freshStore();
    await login(store, { rememberPassword: true });
    await control.advanceClock({ advanceDays: 31 });
    await control.resetStats();
    const adapters = await openIcloudAdapters({ endpoint, store, logger });

    await adapters.source.changedZones('private');

    const stats = await control.stats();
    expect(stats.requests['signin/init']).toBe(1);
    // Node's fetch (undici) repeats a request answered 421 on its own, below any counter of
    // ours: the simulator sees rung 1's accountLogin twice, we send it once.
    expect(adapters.requests.counts()).toEqual({ ...stats.requests, accountLogin: 2 });
    expect(stats.requests.accountLogin).toBeGreaterThanOrEqual(2);
  });

  it('refreshes headlessly through escrow when the trust token is answered 409 + EDP', async () => {
    const store = freshStore();
    await login(store, { rememberPassword: true });
    await control.setFlags({ appleId: account.appleId, escrow: 'EDP', escrowEnforced: true });
    await control.advanceClock({ advanceDays: 31 });
    await control.call('DELETE', '/accounts/steps');
    const opened = await openIcloudSession({ endpoint, store, logger });
    const response = await opened.http.send({ method: 'POST', url: zonesUrl(opened), json: {} });
    expect(response.status).toBe(200);
    const { steps } = await stepsOf();
    expect(steps.map((s) => s.step)).toContain('escrow-complete');
    expect(steps.some((s) => ['push-trigger', 'sms-sent'].includes(s.step))).toBe(false);
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

interface SignInSteps {
  readonly performed: Record<string, boolean>;
  readonly steps: readonly { step: string; status: number }[];
}

/** What the simulator logged of the account's sign-in steps since the last reset. */
const stepsOf = () =>
  control.call<SignInSteps>('GET', `/accounts/steps?appleId=${encodeURIComponent(account.appleId)}`);

/**
 * Codes the account received: each request that sends one (device trigger, SMS, old trigger) and,
 * before 2026, the push signin/complete sends by itself with its 409.
 */
function codesSent(steps: SignInSteps, authFlow: '2025' | '2026'): number {
  const ok = (s: { status: number }) => s.status >= 200 && s.status < 300;
  const sending = steps.steps.filter(
    (s) => ['push-trigger', 'sms-sent', 'old-trigger'].includes(s.step) && ok(s),
  ).length;
  const bySignIn =
    authFlow === '2025'
      ? steps.steps.filter((s) => s.step === 'signin-complete' && s.status === 409).length
      : 0;
  return sending + bySignIn;
}

/**
 * Signs in the way a person does with `icloud-s3 login`: a code already showing on the device
 * (Apple before 2026) is typed as is; otherwise the person asks for one, once, and types it.
 */
async function personSignIn(options: { sms?: number; codeAlreadyShowing?: boolean } = {}) {
  const store = freshStore();
  const session = await beginLogin({ endpoint, store, appleId: account.appleId, logger });
  const authenticator = await session.startSignIn();
  const result = await authenticator.signIn(new Secret(account.password));
  if (result.status === 'two-factor') {
    const phone = result.challenge.trustedPhoneNumbers.find((p) => p.id === options.sms);
    const delivery =
      phone === undefined
        ? ({ kind: 'device' } as const)
        : ({
            kind: 'sms',
            phoneId: phone.id,
            ...(phone.nonFTEU === undefined ? {} : { nonFTEU: phone.nonFTEU }),
          } as const);
    if (!options.codeAlreadyShowing) await authenticator.requestCode(delivery);
    await authenticator.verifyCode(delivery, await control.code(account.appleId));
  }
  await session.save({});
  return { result, session, store };
}

describe('sign-in in each way Apple answers (one code per login)', () => {
  const modes: {
    name: string;
    flags: Record<string, unknown>;
    sms?: number;
    performed?: Record<string, boolean>;
    /** Requests to Apple the login cost (simulator /stats). */
    requests: number;
  }[] = [
    {
      name: 'Apple 2026 (default)',
      flags: {},
      performed: { pushTrigger: true, codeAccepted409: true, escrow: false, trust: true },
      requests: 7,
    },
    {
      name: 'Apple 2026 with EDP escrow (enforced)',
      flags: { escrow: 'EDP', escrowEnforced: true },
      performed: { codeAccepted409: true, escrow: true, trust: true },
      requests: 9,
    },
    {
      name: 'Apple 2026 with PDP escrow (enforced)',
      flags: { escrow: 'PDP', escrowEnforced: true },
      performed: { codeAccepted409: true, escrow: true, trust: true },
      requests: 9,
    },
    {
      name: 'Apple 2026, 409 without a session token',
      flags: { codeAnswerWithoutSessionToken: true },
      performed: { codeAccepted409: true, trust: true },
      requests: 7,
    },
    {
      name: 'Apple 2026, 409 carrying a trust token too',
      flags: { codeAnswerTrustToken: true },
      performed: { codeAccepted409: true, trust: true },
      requests: 7,
    },
    {
      name: 'Apple 2026, accepted code answered 412, wrong code 412',
      flags: { codeAnswerStatus: 412, wrongCodeStatus: 412 },
      performed: { codeAccepted409: true, trust: true },
      requests: 7,
    },
    {
      name: 'Apple 2026 by SMS (nonFTEU)',
      flags: { phoneNonFTEU: true },
      sms: 1,
      performed: { pushTrigger: false, codeAccepted409: true, trust: true },
      requests: 7,
    },
    {
      name: 'Apple 2026, bridge-routed account',
      flags: { bridgeRouted: true, authJsonShape: 'none' },
      performed: { pushTrigger: true, trust: true },
      requests: 7,
    },
    {
      name: 'Apple 2026, strict IdMSA headers',
      flags: { strictIdmsaHeaders: true },
      performed: { pushTrigger: true, trust: true },
      requests: 7,
    },
    {
      name: 'Apple 2026 refusing the idmsa header profile on verify and trust (PR #1104 claim)',
      flags: { rejectIdmsaProfileOnVerify: true },
      performed: { pushTrigger: true, codeAccepted409: true, trust: true },
      requests: 7,
    },
    {
      name: 'Apple 2025 (code pushed by signin/complete)',
      flags: { authFlow: '2025' },
      performed: { pushTrigger: false, codeAccepted409: false, trust: true },
      requests: 6,
    },
  ];
  for (const mode of modes) {
    it(`signs in with exactly one code: ${mode.name}`, async () => {
      await control.setFlags({ appleId: account.appleId, ...mode.flags });
      await control.resetStats();
      const authFlow = mode.flags['authFlow'] === '2025' ? '2025' : '2026';
      const { result, session } = await personSignIn({
        ...(mode.sms === undefined ? {} : { sms: mode.sms }),
        codeAlreadyShowing: authFlow === '2025',
      });
      expect(result.status).toBe('two-factor');
      expect(session.session.fields.trustToken).toBeTruthy();
      const steps = await stepsOf();
      expect(codesSent(steps, authFlow)).toBe(1);
      expect(steps.steps.filter((s) => s.step === 'code-rejected')).toEqual([]);
      expect(steps.performed).toMatchObject(mode.performed ?? {});
      expect((await control.stats()).total).toBe(mode.requests);
    });
  }

  it('finds the trusted numbers of a bridge-routed account in the boot data when JSON lists none', async () => {
    await control.setFlags({ appleId: account.appleId, bridgeRouted: true, authJsonShape: 'none' });
    const login = await beginLogin({ endpoint, store: freshStore(), appleId: account.appleId, logger });
    await (await login.startSignIn()).signIn(new Secret(account.password));
    const { session } = login;
    const ctx = {
      http: new FetchIcloudHttp({
        endpoint,
        jar: session.jar,
        logger,
        onSessionHeaders: (values) => session.applyHeaders(values, Date.now()),
      }),
      session,
      endpoint,
      logger,
      now: Date.now,
    };
    await control.resetStats();
    const options = await fetchTwoFactorOptions(ctx);
    expect(options.trustedPhoneNumbers.map((p) => p.id)).toEqual([1]);
    expect((await control.stats()).requests['auth']).toBe(2);
  });

  it('escrows instead of asking for a code when the trust token is answered 409 + EDP', async () => {
    const { store } = await personSignIn();
    await control.setFlags({ appleId: account.appleId, escrow: 'EDP', escrowEnforced: true });
    await control.call('DELETE', '/accounts/steps');
    await control.resetStats();
    const again = await beginLogin({ endpoint, store, appleId: account.appleId, logger });
    const result = await (await again.startSignIn()).signIn(new Secret(account.password));
    expect(result.status).toBe('signed-in');
    const steps = await stepsOf();
    expect(steps.steps.map((s) => s.step)).toEqual([
      'signin-init',
      'signin-complete',
      'escrow-init',
      'escrow-complete',
      'account-login',
    ]);
    expect(codesSent(steps, '2026')).toBe(0);
    expect((await control.stats()).total).toBe(5);
  });

  it('waits out a 429 on the code trigger once and still sends one code', async () => {
    await control.injectFault({
      endpoint: 'verify/trusteddevice/securitycode',
      method: 'PUT',
      status: 429,
      retryAfter: 0,
      count: 1,
    });
    await control.resetStats();
    const { result } = await personSignIn();
    expect(result.status).toBe('two-factor');
    expect(codesSent(await stepsOf(), '2026')).toBe(1);
    expect((await control.stats()).total).toBe(8);
  });

  it('stops a security-key account before any code, naming its keys', async () => {
    await control.setFlags({ appleId: account.appleId, fido: true });
    await control.resetStats();
    const error = await personSignIn().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccountConditionError);
    expect((error as AccountConditionError).condition).toBe('security-key');
    expect((error as Error).message).toContain('"YubiKey 5C"');
    expect(codesSent(await stepsOf(), '2026')).toBe(0);
    expect((await control.stats()).total).toBe(2);
  });
});
