/**
 * A sharedstreams request meeting an expired web session (SA-3: the same cookies authorise
 * CloudKit and sharedstreams, and their expiry answers 401) refreshes it headlessly (accountLogin,
 * or SRP with the remembered password) and is sent again, as a CloudKit request does. Before, the
 * client turned the 401 into `SessionExpiredError` (`reauth`): in the download worker a Shared
 * Album message stopped the batch and raised `ReauthRequired` though no person was needed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IcloudEndpoint, resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import { SharedStreamsClient } from '#adapters/icloud/sharedstreams/sharedstreams-client.ts';
import { SharedStreamsSource } from '#adapters/icloud/sharedstreams/sharedstreams-source.ts';
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
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-sharedstreams-expiry-'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sharedstreams on an expired web session', () => {
  it('refreshes the session as a CloudKit request does, instead of asking a person to sign in', async () => {
    const { store } = await signInToSimulator(sim, join(dir, 'session.json'), { rememberPassword: true });
    // The web session expires (the simulator's 30 days); the stored password refreshes it headlessly.
    await control.advanceClock({ advanceDays: 31 });
    const session = await openIcloudSession({ endpoint, store, logger });
    const source = new SharedStreamsSource(
      new SharedStreamsClient({
        http: session.http,
        baseUrl: () => session.sharedstreamsUrl?.(),
        dsid: session.dsid,
        clientId: session.clientId,
        retry: { sleep: async () => undefined },
      }),
    );
    const listed = await source.listAlbums().then(
      (list) => ({ ok: true as const, available: list.available }),
      (error: unknown) => ({ ok: false as const, error: String(error), class: classifyError(error) }),
    );
    expect(listed).toEqual({ ok: true, available: true });
  });
});
