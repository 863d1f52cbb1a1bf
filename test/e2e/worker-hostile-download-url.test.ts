/**
 * A records answer whose `downloadURL` points anywhere but Apple's asset CDN (here a loopback
 * server holding a secret, the simulator's `hostileDownloadUrl` quirk) archives nothing and fetches
 * nothing from that host. The refusal is no verdict on the photo: the worker asks CloudKit for a
 * fresh URL once, and when that is refused too the message fails so SQS delivers it again (then the
 * dead-letter queue and its redrives, with backoff, a cap and the WorkGivenUp alarm). Once Apple
 * serves its own URLs again, the next delivery of the same message archives the photos.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { type IcloudAdapters, openIcloudAdapters } from '#compose/icloud-adapters.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { classifyError, DownloadUrlRefusedError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createLogger } from '#shared/logger.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let adapters: IcloudAdapters;
let secretServer: Server;
const secretRequests: string[] = [];

beforeAll(async () => {
  secretServer = createServer((req, res) => {
    secretRequests.push(req.url ?? '');
    res.end('top secret');
  });
  await new Promise<void>((resolve) => secretServer.listen(0, '127.0.0.1', resolve));
  sim = await startTestSimulator({ assets: 6, seed: 10 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-hostile-url-'));
  const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  adapters = await openIcloudAdapters({ ...signedIn, logger });
});

afterAll(async () => {
  await sim?.stop();
  await new Promise((resolve) => secretServer?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function hostileAssets(port: number): Promise<Asset[]> {
  await control.quirks({ hostileDownloadUrl: `http://127.0.0.1:${port}/secret.txt` });
  const zones = await adapters.source.discoverZones();
  const primary = zones.find((z) => z.zoneName === 'PrimarySync')!;
  const page = await adapters.source.enumeratePage(primary);
  return page.changes
    .flatMap((c) => (c.type === 'asset' ? [c.asset] : []))
    .filter((a) => !a.isDeleted && a.versions.length > 0)
    .slice(0, 3);
}

function depsOver(state: InMemorySyncStateStore, objects: InMemoryObjectStore): ArchiveDeps {
  return {
    state,
    objects,
    downloader: adapters.downloader,
    refresh: (zone, keys) => adapters.source.lookupAssets(zone, keys),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => Date.now(),
  };
}

describe('a records answer naming a download URL outside Apple’s CDN', () => {
  it('fetches nothing from that host, archives nothing, and fails the message so it is delivered again', async () => {
    const { port } = secretServer.address() as AddressInfo;
    const assets = await hostileAssets(port);
    expect(assets.length).toBeGreaterThan(0);
    const state = new InMemorySyncStateStore();
    const objects = new InMemoryObjectStore({ partSize: MIN_PART_SIZE });
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'hostile-url',
      issuedAt: Date.now(),
      items: assets.map((asset) => ({ type: 'asset' as const, asset })),
    };

    const error = await processWorkMessage(depsOver(state, objects), message).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DownloadUrlRefusedError);
    expect(classifyError(error)).toBe('retryable');
    expect((error as Error).message).toMatch(/not a download URL of Apple's asset CDN/);
    for (const asset of assets) expect((await state.getEntry(asset))?.status).not.toBe('archived');
    expect(objects.keys()).toHaveLength(0);
    expect(secretRequests).toEqual([]);
  });

  it('archives the photos on the next delivery of the same message once Apple serves its own URLs again', async () => {
    const { port } = secretServer.address() as AddressInfo;
    const assets = await hostileAssets(port);
    const state = new InMemorySyncStateStore();
    const objects = new InMemoryObjectStore({ partSize: MIN_PART_SIZE });
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'hostile-url-then-good',
      issuedAt: Date.now(),
      items: assets.map((asset) => ({ type: 'asset' as const, asset })),
    };
    await processWorkMessage(depsOver(state, objects), message).catch(() => undefined);
    await control.quirks({ hostileDownloadUrl: null });

    // The redelivered message still names the refused URLs: the worker re-resolves them.
    const result = await processWorkMessage(depsOver(state, objects), message);

    expect(result).toMatchObject({ archived: assets.length, failed: 0 });
    for (const asset of assets) expect((await state.getEntry(asset))?.status).toBe('archived');
    expect(secretRequests).toEqual([]);
  });
});
