/**
 * The download worker's domain over the real iCloud adapters and the simulator: download URLs
 * that expired (410 after `e`, S144 in docs/protocol/simulator-contract.md#zones-records-downloads-2026) are refreshed with records/lookup, and a lookup that
 * answers an error entry inside `records` (S143 in docs/protocol/simulator-contract.md#zones-records-downloads-2026) never passes for a deletion: the old
 * record is kept (its URL used while still valid), otherwise the item is retried later.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { type IcloudAdapters, openIcloudAdapters } from '#compose/icloud-adapters.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createLogger } from '#shared/logger.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
const MINUTE = 60_000;

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let adapters: IcloudAdapters;
let primary: ZoneRef;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 12, seed: 143 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-refresh-'));
  const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  adapters = await openIcloudAdapters({ ...signedIn, logger });
  const zones = await adapters.source.discoverZones();
  primary = zones.find((z) => z.zoneName === 'PrimarySync')!;
});

afterEach(async () => {
  await control.quirks({ reset: true });
  await control.call('POST', '/cdn/quirks', { urlLifetimeSeconds: 3600 });
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Photos of the library as the detection would enqueue them now (URLs minted now). */
async function enumerate(count: number): Promise<Asset[]> {
  const page = await adapters.source.enumeratePage(primary);
  const assets = page.changes.flatMap((c) => (c.type === 'asset' ? [c.asset] : []));
  return assets.filter((a) => !a.isDeleted && a.versions.length > 0).slice(-count);
}

function worker(options: { readonly clockAheadMs?: number } = {}) {
  const now = () => Date.now() + (options.clockAheadMs ?? 0);
  // The worker's one clock, as in Lambda (Date.now for both): transfer leases expire by it.
  const state = new InMemorySyncStateStore({ now });
  const objects = new InMemoryObjectStore({ partSize: MIN_PART_SIZE });
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: adapters.downloader,
    refresh: (zone, keys) => adapters.source.lookupAssets(zone, keys),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now,
  };
  return { deps, state, objects, now };
}

const message = (assets: readonly Asset[], issuedAt = Date.now()): WorkMessage => ({
  v: WORK_MESSAGE_VERSION,
  runId: 'refresh-test',
  issuedAt,
  items: assets.map((asset) => ({ type: 'asset' as const, asset })),
});

async function requestsSince(): Promise<Record<string, number>> {
  return (await control.stats()).requests;
}

describe('download URLs past their lifetime', () => {
  it('S144: a URL answered 410 after its hour is refreshed once by records/lookup and the photo archived', async () => {
    const assets = await enumerate(2);
    await control.advanceClock({ advanceMs: 61 * MINUTE });
    await control.resetStats();
    const { deps, state } = worker();

    const result = await processWorkMessage(deps, message(assets));

    expect(result).toMatchObject({ archived: 2, failed: 0 });
    const requests = await requestsSince();
    expect(requests['records/lookup']).toBe(1);
    for (const asset of assets) expect((await state.getEntry(asset))?.status).toBe('archived');
  });

  it('S144: a shortened lifetime (1800 s) takes the same refresh path', async () => {
    await control.call('POST', '/cdn/quirks', { urlLifetimeSeconds: 1800 });
    const assets = await enumerate(1);
    await control.advanceClock({ advanceMs: 31 * MINUTE });
    await control.resetStats();
    const { deps } = worker();

    expect(await processWorkMessage(deps, message(assets))).toMatchObject({ archived: 1, failed: 0 });
    expect((await requestsSince())['records/lookup']).toBe(1);
  });
});

describe('download URLs past their own expiry (e)', () => {
  it('S144: a URL whose e has passed is refreshed by records/lookup before any download, even in a young message', async () => {
    const [asset] = await enumerate(1);
    await control.resetStats();
    // The worker's clock is past every URL's `e` (the simulated clock may already run ahead of
    // ours); the message itself was issued just now by that clock.
    const simAhead = (await control.clock()).now - Date.now();
    const { deps, now } = worker({ clockAheadMs: simAhead + 61 * MINUTE });

    expect(await processWorkMessage(deps, message([asset!], now()))).toMatchObject({ archived: 1 });

    const requests = await requestsSince();
    expect(requests['records/lookup']).toBe(1);
    expect(requests['cdn']).toBe(1);
  });
});

describe('a refresh answered by an error entry (S143)', () => {
  it('S143: keeps the old record and archives with its still-valid URL instead of skipping the photo as deleted', async () => {
    const [asset] = await enumerate(1);
    await control.quirks({ lookupErrors: [asset!.assetRecordName, asset!.masterRecordName] });
    const { deps, state, objects } = worker();

    // Enqueued 55 minutes ago by our clock: refreshed up front, but the simulator's URLs still work.
    const result = await processWorkMessage(deps, message([asset!], Date.now() - 55 * MINUTE));

    expect(result).toMatchObject({ archived: 1, failed: 0 });
    expect((await state.getEntry(asset!))?.status).toBe('archived');
    expect(objects.keys()).toHaveLength(1);
  });

  it('S143: fails the item for a retry, never as deleted, when the old URL has expired too', async () => {
    const [asset] = await enumerate(1);
    await control.quirks({ lookupErrors: [asset!.assetRecordName, asset!.masterRecordName] });
    await control.advanceClock({ advanceMs: 61 * MINUTE });
    const { deps, state, objects } = worker();

    await expect(processWorkMessage(deps, message([asset!]))).rejects.toThrow(/could not return/);

    expect(await state.getEntry(asset!)).toBeUndefined();
    expect(objects.keys()).toHaveLength(0);
    // Once lookup answers again, the retried message archives it.
    await control.quirks({ lookupErrors: [] });
    expect(await processWorkMessage(deps, message([asset!]))).toMatchObject({ archived: 1 });
  });
});
