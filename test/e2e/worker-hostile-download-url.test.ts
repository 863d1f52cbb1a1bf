/**
 * A records answer whose `downloadURL` points anywhere but Apple's asset CDN (here a loopback
 * server holding a secret, the simulator's `hostileDownloadUrl` quirk) archives nothing and fetches
 * nothing from that host: the item fails on its own, the batch goes on.
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
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION } from '#domain/model/work.ts';
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

describe('a records answer naming a download URL outside Apple’s CDN', () => {
  it('fetches nothing from that host, fails each such item on its own and archives nothing', async () => {
    const { port } = secretServer.address() as AddressInfo;
    await control.quirks({ hostileDownloadUrl: `http://127.0.0.1:${port}/secret.txt` });
    const zones = await adapters.source.discoverZones();
    const primary = zones.find((z) => z.zoneName === 'PrimarySync')!;
    const page = await adapters.source.enumeratePage(primary);
    const assets: Asset[] = page.changes
      .flatMap((c) => (c.type === 'asset' ? [c.asset] : []))
      .filter((a) => !a.isDeleted && a.versions.length > 0)
      .slice(0, 3);
    expect(assets.length).toBeGreaterThan(0);
    const state = new InMemorySyncStateStore();
    const objects = new InMemoryObjectStore({ partSize: MIN_PART_SIZE });
    const deps: ArchiveDeps = {
      state,
      objects,
      downloader: adapters.downloader,
      refresh: (zone, keys) => adapters.source.lookupAssets(zone, keys),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => Date.now(),
    };

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'hostile-url',
      issuedAt: Date.now(),
      items: assets.map((asset) => ({ type: 'asset' as const, asset })),
    });

    expect(result).toMatchObject({ archived: 0, failed: assets.length });
    for (const failure of result.failures)
      expect(failure.reason).toMatch(/not a download URL of Apple's asset CDN/);
    for (const asset of assets) expect((await state.getEntry(asset))?.status).toBe('failed');
    expect(objects.keys()).toHaveLength(0);
    expect(secretRequests).toEqual([]);
  });
});
