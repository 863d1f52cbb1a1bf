/**
 * A session stored by a release from before Shared Albums (before 2a17005, 2026-12-06) has no
 * `sharedstreamsUrl`, and its cookies keep it working, so no refresh comes to fill it in. The
 * detector's listing asks Apple's account for it once (`accountLogin`), stores the session with
 * it and lists; without the caller's leave (`lookUpService`) it asks nothing, and a question that
 * fails or finds no service answers `none` for the caller to remember.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IcloudEndpoint, resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { type OpenedIcloudSession, openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import { SharedStreamsClient } from '#adapters/icloud/sharedstreams/sharedstreams-client.ts';
import { SharedStreamsSource } from '#adapters/icloud/sharedstreams/sharedstreams-source.ts';
import type { SessionStore } from '#ports/session-store.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let endpoint: IcloudEndpoint;
let dir: string;
let file: string;
let store: SessionStore;
let serviceUrl: unknown;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 2, seed: 5 });
  endpoint = await resolveEndpoint(sim.controlUrl);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-sharedstreams-missing-'));
  file = join(dir, 'session.json');
  ({ store } = await signInToSimulator(sim, file));
  serviceUrl = JSON.parse(await readFile(file, 'utf8')).sharedstreamsUrl;
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The session file as the older release stored it: without the field it did not know. */
async function storedWithoutService(): Promise<void> {
  const { sharedstreamsUrl: _, ...older } = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify(older));
}

async function opened(): Promise<{ session: OpenedIcloudSession; requests: string[] }> {
  const requests: string[] = [];
  const session = await openIcloudSession({
    endpoint,
    store,
    logger,
    onRequest: (url) => requests.push(new URL(url).pathname.split('/').pop() ?? ''),
  });
  return { session, requests };
}

function sourceOn(session: OpenedIcloudSession, lookUp?: () => Promise<void>): SharedStreamsSource {
  const client = new SharedStreamsClient({
    http: session.http,
    baseUrl: () => session.sharedstreamsUrl?.(),
    dsid: session.dsid,
    clientId: session.clientId,
    retry: { sleep: async () => undefined },
  });
  return new SharedStreamsSource(client, lookUp);
}

const known = { albums: [], askEveryDatabase: true };

describe('a session stored without the Shared Albums service', () => {
  it('asks the account once, stores what it learns, and lists', async () => {
    expect(serviceUrl).toEqual(expect.any(String));
    await storedWithoutService();
    const { session, requests } = await opened();
    const listed = await sourceOn(session, () => session.lookUpAccount!()).listAlbums({
      ...known,
      lookUpService: true,
    });
    expect({ available: listed.available, serviceLookup: listed.serviceLookup }).toEqual({
      available: true,
      serviceLookup: 'found',
    });
    expect(requests).toEqual(['accountLogin', 'webgetalbumslist']);
    expect(JSON.parse(await readFile(file, 'utf8')).sharedstreamsUrl).toBe(serviceUrl);
  });

  it("asks nothing without the caller's leave", async () => {
    await storedWithoutService();
    const { session, requests } = await opened();
    const listed = await sourceOn(session, () => session.lookUpAccount!()).listAlbums(known);
    expect(listed).toEqual({ available: false, albums: [] });
    expect(requests).toEqual([]);
  });

  it('answers `none` when the account lists no service, or the question fails', async () => {
    await storedWithoutService();
    const { session, requests } = await opened();
    // The account's answer lists no service (the simulator's flag, conformance SA-1).
    await controlClient(sim).setFlags({ sharedStreams: false });
    const nothingLearnt = await sourceOn(session, () => session.lookUpAccount!())
      .listAlbums({ ...known, lookUpService: true })
      .finally(() => controlClient(sim).setFlags({ sharedStreams: true }));
    expect(requests).toEqual(['accountLogin']);
    const failed = await sourceOn(session, async () => {
      throw new Error('HTTP 503');
    }).listAlbums({ ...known, lookUpService: true });
    expect([nothingLearnt, failed]).toEqual([
      { available: false, albums: [], serviceLookup: 'none', accountAsked: true },
      { available: false, albums: [], serviceLookup: 'none', accountAsked: true },
    ]);
  });

  it('stores what it learnt on a session another invocation saved meanwhile, and the run saves on', async () => {
    await storedWithoutService();
    const { session } = await opened();
    // A worker stores its rotated cookies (same sign-in) after this run read the session.
    const theirs = { ...JSON.parse(await readFile(file, 'utf8')), updatedAt: Date.now() + 1 };
    await writeFile(file, JSON.stringify(theirs));
    const listed = await sourceOn(session, () => session.lookUpAccount!()).listAlbums({
      ...known,
      lookUpService: true,
    });
    expect(listed.serviceLookup).toBe('found');
    // Re-read and merged: their session with the service, not a ConflictError swallowed.
    expect(JSON.parse(await readFile(file, 'utf8')).sharedstreamsUrl).toBe(serviceUrl);
    // The run's last save goes on from the merged revision instead of failing again.
    await expect(session.save()).resolves.toBeUndefined();
  });

  it('leaves a newer sign-in stored meanwhile alone', async () => {
    await storedWithoutService();
    const { session } = await opened();
    const theirs = { ...JSON.parse(await readFile(file, 'utf8')), sessionToken: 'a-newer-sign-in' };
    await writeFile(file, JSON.stringify(theirs));
    await session.lookUpAccount!();
    expect(JSON.parse(await readFile(file, 'utf8')).sessionToken).toBe('a-newer-sign-in');
  });
});
