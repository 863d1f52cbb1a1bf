/**
 * The reauth latch of the stored session (issue 11 item 2): set when a headless refresh learns a
 * person must sign in, honoured by every later open before any request to Apple, lifted by login.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import { parseSessionDocument, serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import type { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { SessionExpiredError, SignInLatchedError } from '#domain/errors.ts';
import { createLogger } from '#shared/logger.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const DAY = 24 * 60 * 60 * 1000;
const logger = createLogger({ level: 'SILENT' });
const zonesUrl = (s: { ckdatabasewsUrl(): string; clientId: string; dsid: string }) =>
  `${s.ckdatabasewsUrl()}/database/1/com.apple.photos.cloud/production/private/changes/database?clientBuildNumber=2522Project44&clientId=${s.clientId}&dsid=${s.dsid}`;

let sim: SimulatorHandle;
let control: ControlClient;
let dir: string;
let endpoint: IcloudEndpoint;
let store: FileSessionStore;

beforeEach(async () => {
  sim = await startTestSimulator({ assets: 1 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'reauth-latch-unit-'));
});
afterEach(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

async function login(rememberPassword: boolean): Promise<void> {
  ({ endpoint, store } = await signInToSimulator(sim, join(dir, 'session.json'), { rememberPassword }));
}

async function storedLatch() {
  const stored = await store.load();
  return parseSessionDocument(stored!.document).signInNeeded;
}

async function signInSteps(): Promise<string[]> {
  const { steps } = await control.call<{ steps: { step: string }[] }>('GET', '/accounts/steps');
  return steps.map((s) => s.step);
}

/** Opens the session and makes one CloudKit call (what the first request of a run does). */
async function firstCall(now?: () => number): Promise<void> {
  const opened = await openIcloudSession({ endpoint, store, logger, ...(now ? { now } : {}) });
  const response = await opened.http.send({ method: 'POST', url: zonesUrl(opened), json: {} });
  await response.text();
}

describe('the reauth latch', () => {
  it('is set when a headless refresh finds no password, and the next open asks Apple nothing', async () => {
    await login(false);
    await control.advanceClock({ advanceDays: 31 });
    await expect(firstCall()).rejects.toThrow(SessionExpiredError);
    const latch = await storedLatch();
    expect(latch?.reason).toMatch(/no password is remembered/);

    await control.resetStats();
    const reopened = openIcloudSession({ endpoint, store, logger });
    await expect(reopened).rejects.toThrow(SignInLatchedError);
    await expect(reopened).rejects.toMatchObject({ since: latch!.since, action: 'icloud-s3 login' });
    expect((await control.stats()).total).toBe(0);
  });

  it('skips SRP once the trust has probably expired: no sign-in attempt, no code pushed', async () => {
    await login(true);
    await control.advanceClock({ advanceDays: 61 });
    await control.call('DELETE', '/accounts/steps');
    await expect(firstCall(() => Date.now() + 61 * DAY)).rejects.toThrow(SessionExpiredError);
    const steps = await signInSteps();
    expect(steps).not.toContain('signin-init');
    expect(steps).not.toContain('push-trigger');
    expect((await storedLatch())?.reason).toMatch(/trust .* expired/);
  });

  it('is set when SRP ends at two-factor (trust not estimated), with no code requested', async () => {
    await login(true);
    // Our estimate says the trust is fresh, Apple says it expired: one SRP, answered 409.
    await control.advanceClock({ advanceDays: 61 });
    await control.call('DELETE', '/accounts/steps');
    await expect(firstCall()).rejects.toThrow(/two-factor/);
    const steps = await signInSteps();
    expect(steps.filter((s) => s === 'signin-init')).toHaveLength(1);
    expect(steps).not.toContain('push-trigger');
    expect(await storedLatch()).toBeDefined();
  });

  it('is not set when Apple only throttles sign-in', async () => {
    await login(true);
    await control.advanceClock({ advanceDays: 31 });
    await control.injectFault({ endpoint: 'signin/init', status: 503, count: 1 });
    await expect(firstCall()).rejects.not.toThrow(SessionExpiredError);
    expect(await storedLatch()).toBeUndefined();
  });

  it('is lifted by login, and the next run talks to Apple again', async () => {
    await login(false);
    await control.advanceClock({ advanceDays: 31 });
    await expect(firstCall()).rejects.toThrow(SessionExpiredError);
    expect(await storedLatch()).toBeDefined();

    await login(false);
    expect(await storedLatch()).toBeUndefined();
    expect(JSON.parse((await store.load())!.document)).not.toHaveProperty('signInNeeded');
    await expect(firstCall()).resolves.toBeUndefined();
  });

  it('makes login sign in afresh even while the stored web session still answers', async () => {
    await login(false);
    const appleId = sim.appleId;
    expect(await (await beginLogin({ endpoint, store, appleId, logger })).checkStored()).toBeDefined();

    const stored = (await store.load())!;
    const document = parseSessionDocument(stored.document);
    await store.save(
      serializeSessionDocument({
        ...document,
        signInNeeded: { since: Date.now(), reason: 'wrong password' },
      }),
      stored.revision,
    );
    expect(await (await beginLogin({ endpoint, store, appleId, logger })).checkStored()).toBeUndefined();
  });

  it('is not set by a single transient "no auth method found": the request is tried again first', async () => {
    await login(true);
    await control.injectFault({ endpoint: 'changes/database', mode: 'no-auth-method-401', count: 1 });
    await control.resetStats();

    await firstCall();

    expect(await storedLatch()).toBeUndefined();
    expect((await control.stats()).requests['changes/database']).toBe(2);
  });

  it('is set with the security-key message when CloudKit says "no auth method found" again', async () => {
    await login(true);
    await control.injectFault({ endpoint: 'changes/database', mode: 'no-auth-method-401', count: 5 });

    await expect(firstCall()).rejects.toThrow(/security key/i);

    expect((await storedLatch())?.reason).toMatch(/security key/i);
  });
});
