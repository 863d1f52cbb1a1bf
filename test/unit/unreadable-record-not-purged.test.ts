/**
 * A records lookup's `missing` (CloudKit answered, but in a shape the mapping cannot read: a new
 * record shape, a field gone) was taken for a purge by the reconciling rescan after a refused sync
 * token (`confirmUnseen` queued a CPLAsset tombstone, which the workers purge under `mirror`:
 * objects deleted) and reported by `verify --repair` as "iCloud no longer has this asset". CloudKit
 * answers a gone record NOT_FOUND (or as a tombstone): only that may purge. An unreadable photo is
 * kept, parked with the zone's unreadable records, and said to be unreadable.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CloudKitAssetSource } from '#adapters/icloud/cloudkit/cloudkit-asset-source.ts';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import { runRepair } from '#app/repair.ts';
import { runVerify } from '#app/verify.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import { parseZoneCheckpoint } from '#domain/detect/zone-checkpoint.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { asset, master, ScriptedCloudKit, tombstone } from '#test/fixtures/scripted-cloudkit.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 1, maxDeleteCount: 1000 };
const KEY = 'library/2023/IMG_2.HEIC';

/** Keeps the CPLAsset tombstones (what the workers purge) and the assets queued. */
class PurgeQueue implements WorkQueue {
  readonly purged: string[] = [];
  readonly assets: string[] = [];
  readonly tombstones: WorkMessage['items'][number][] = [];
  async enqueue(messages: Parameters<WorkQueue['enqueue']>[0]): Promise<EnqueueReceipt> {
    for (const m of messages)
      for (const item of m.items) {
        if (item.type === 'tombstone') this.tombstones.push(item);
        if (item.type === 'tombstone' && item.inferredType === 'CPLAsset') this.purged.push(item.recordName);
        if (item.type === 'asset') this.assets.push(item.asset.assetRecordName);
      }
    return { requested: messages.length, sent: messages.length };
  }
}

/** A CPLAsset without any date: a shape the mapping refuses (answered, not gone). */
function noDate(name: string, masterName: string): Record<string, unknown> {
  const record = asset(name, masterName);
  const { assetDate: _, ...fields } = record['fields'] as Record<string, unknown>;
  return { ...record, fields };
}

function sourceOver(cloudKit: ScriptedCloudKit): CloudKitAssetSource {
  const client = new CloudKitClient({
    http: cloudKit,
    ckdatabasewsUrl: () => 'https://p42-ckdatabasews.icloud.com:443',
    dsid: '12345',
    clientId: 'CLIENT',
    retry: {
      sleep: async () => {},
      policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 },
    },
  });
  return new CloudKitAssetSource({ client });
}

/** An archived manifest entry for `name` (master `masterName`), its one object under `key`. */
async function archived(state: InMemorySyncStateStore, name: string, masterName: string, key: string) {
  await state.putEntry(
    {
      zone: PRIMARY,
      assetRecordName: name,
      masterRecordName: masterName,
      assetChangeTag: `a-${name}`,
      status: 'archived',
      flags: { isFavorite: false, isHidden: false, isDeleted: false },
      albums: [],
      versions: [
        {
          kind: 'original',
          key,
          size: 10,
          sha256: '0'.repeat(64),
          md5: '1'.repeat(32),
          fileChecksum: masterName,
          archivedAt: 1,
        },
      ],
      deletions: [],
    },
    0,
  );
}

/**
 * A zone of three archived photos whose stored token CloudKit refuses: A1 reads, A2 comes back
 * in a shape the mapping refuses, A3 was purged (a lookup answers NOT_FOUND).
 */
async function staleZone() {
  const cloudKit = new ScriptedCloudKit();
  cloudKit.databaseChanges.zones.push({ zoneID: { zoneName: 'PrimarySync' } });
  const records = [
    master('M1', 'IMG_1.HEIC'),
    asset('A1', 'M1'),
    master('M2', 'IMG_2.HEIC'),
    noDate('A2', 'M2'),
  ];
  for (const record of records) cloudKit.records.set(record['recordName'] as string, record);
  cloudKit.queryPages.set('rank:0', { records });
  const state = new InMemorySyncStateStore();
  await archived(state, 'A1', 'M1', 'library/2023/IMG_1.HEIC');
  await archived(state, 'A2', 'M2', KEY);
  await archived(state, 'A3', 'M3', 'library/2023/IMG_3.HEIC');
  await state.adjustCounters({ objects: 3, bytes: 30 });
  await state.saveZone({ zone: PRIMARY, syncToken: 'REFUSED' }, 0);
  const queue = new PurgeQueue();
  const deps = {
    source: sourceOver(cloudKit),
    state,
    queue,
    now: () => 1_750_000_000_000,
    remainingMs: () => 10 * 60 * 1000,
    runId: 'rescan',
    deletePolicy: MIRROR,
  };
  return { cloudKit, state, queue, deps };
}

describe('a rescan after a refused token, under mirror', () => {
  it('purges the photo CloudKit answers NOT_FOUND, keeps the one it answers unreadable and parks it', async () => {
    const { state, queue, deps } = await staleZone();

    const result = await detectChanges(deps);

    expect(result.zones[0]).toMatchObject({ note: 'staleToken', caughtUp: true });
    expect(queue.purged).toEqual(['A3']);
    const zone = await state.loadZone(PRIMARY);
    expect(parseZoneCheckpoint(zone?.checkpoint).unreadable?.map((r) => r.name)).toEqual(['A2']);

    // The workers carry the queued purges out under mirror: A2's object and entry stay.
    const objects = new InMemoryObjectStore();
    for (const key of [KEY, 'library/2023/IMG_3.HEIC']) {
      const body = Buffer.from('0123456789');
      await objects.putStream(key, Readable.from([body]), { contentType: 'image/heic', contentLength: 10 });
    }
    await processWorkMessage(
      {
        state,
        objects,
        downloader: { open: async () => Promise.reject(new Error('a purge downloads nothing')) },
        refresh: async () => ({ assets: [] }),
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: 'mirror',
        now: () => 1_750_000_000_000,
      },
      {
        v: WORK_MESSAGE_VERSION,
        runId: 'rescan',
        issuedAt: 1_750_000_000_000,
        deleteMode: 'mirror',
        items: queue.tombstones,
      },
    );
    expect(objects.keys()).toEqual([KEY]);
    expect(await state.getEntry({ zone: PRIMARY, assetRecordName: 'A2' })).toMatchObject({
      status: 'archived',
    });
  });

  it('purges a photo a lookup answers as a tombstone (deleted: true)', async () => {
    const { cloudKit, queue, deps } = await staleZone();
    cloudKit.records.set('A3', tombstone('A3'));

    await detectChanges(deps);

    expect(queue.purged).toEqual(['A3']);
  });
});

describe('verify --repair of a photo whose record comes back unreadable', () => {
  it('keeps its object and entry and says the record could not be read, not that it is gone', async () => {
    const cloudKit = new ScriptedCloudKit();
    for (const record of [master('M2', 'IMG_2.HEIC'), noDate('A2', 'M2')])
      cloudKit.records.set(record['recordName'] as string, record);
    const state = new InMemorySyncStateStore();
    const objects = new InMemoryObjectStore();
    await archived(state, 'A2', 'M2', KEY);
    const body = Buffer.from('short');
    await objects.putStream(KEY, Readable.from([body]), {
      contentType: 'image/heic',
      contentLength: body.length,
    });
    const connection: IcloudConnection = {
      source: sourceOver(cloudKit),
      session: { storedAt: 0, save: async () => undefined },
      downloader: {
        open: async () => {
          throw new Error('repair downloads nothing itself');
        },
      },
      requests: { counts: () => ({}), total: () => 0 },
    };
    const { report } = await runVerify(
      { state, objects, versionPolicy: DEFAULT_VERSION_POLICY },
      { deep: false, etagsAreMd5: true },
    );

    const outcome = await runRepair(
      {
        state,
        objects,
        queue: new InMemoryWorkQueue(),
        icloud: async () => connection,
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: MIRROR,
      },
      report,
    );

    expect(outcome.unrepairable).toEqual([
      { subject: KEY, reason: expect.stringContaining('could not be read') },
    ]);
    expect(objects.keys()).toEqual([KEY]);
    expect(await state.getEntry({ zone: PRIMARY, assetRecordName: 'A2' })).toMatchObject({
      status: 'archived',
    });
  });
});
