/**
 * CloudKit's bare HTTP 403 (no error code) is "throttling, rotated routing cookie, stale session,
 * rarely ADP: re-authenticate once; stop after three in a row" (docs/protocol/cloudkit.md#errors).
 * The opened session refreshes once and sends the request again; only a 403 that persists after
 * the refresh surfaces as `SessionExpiredError` (class `reauth`, a person is asked to sign in).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IcloudEndpoint, resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import type { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { classifyError } from '#domain/errors.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let endpoint: IcloudEndpoint;
let dir: string;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 2, seed: 5 });
  control = controlClient(sim);
  endpoint = await resolveEndpoint(sim.controlUrl);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-bare-403-'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A session signed in as `icloud-s3 login` does, with the password remembered (a refresh can sign in again). */
async function signedInStore(): Promise<FileSessionStore> {
  const file = join(dir, `session-${Math.random().toString(36).slice(2)}.json`);
  return (await signInToSimulator(sim, file, { rememberPassword: true })).store;
}

/** `changes/database` after `bare403s` bare 403s (or other faults): `read`, or the error's class and text. */
async function changedZonesAfter(
  bare403s: number,
  fault: Parameters<ControlClient['injectFault']>[0] = { endpoint: 'changes/database', mode: 'bare-403' },
): Promise<string> {
  const store = await signedInStore();
  await control.injectFault({ ...fault, count: bare403s });
  const adapters = await openIcloudAdapters({ endpoint, store, logger });
  return adapters.source.changedZones('private').then(
    () => 'read',
    (error: unknown) => `${classifyError(error)}: ${String(error).slice(0, 80)}`,
  );
}

describe('a bare 403 from CloudKit', () => {
  it('once: the session refreshes and the request is sent again, nobody is asked to sign in', async () => {
    expect(await changedZonesAfter(1)).toBe('read');
  });

  it('again after the refresh: surfaces as a sign-in needed, as before', async () => {
    expect(await changedZonesAfter(2)).toBe(
      'reauth: SessionExpiredError: CloudKit answered HTTP 403 to changes/database: ',
    );
  });

  it('with an error code (ACCESS_DENIED, web access off): an answer, not refreshed', async () => {
    const accessDenied = {
      endpoint: 'changes/database',
      status: 403,
      body: {
        uuid: 'u1',
        serverErrorCode: 'ACCESS_DENIED',
        reason: 'private db access disabled for this account',
      },
    };
    // Refreshed and sent again, the request would read (the fault fires once).
    expect(await changedZonesAfter(1, accessDenied)).toMatch(
      /^reauth: AccountConditionError: CloudKit answered ACCESS_DENIED/,
    );
  });
});
