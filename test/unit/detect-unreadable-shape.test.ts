/**
 * A record Apple sends in a shape the mapping cannot read (a CPLAsset without `masterRef`, one
 * without any date: a new record shape) went only into the page's `problems`, which detection
 * never reads, while the zone's token moved past it: the photo was skipped without a trace (not in
 * `status`, no alarm, never tried again). Found by the limits audit (2026-12-07). Such a photo now
 * waits with the zone like a record CloudKit answered as an error entry: looked up again on the
 * existing backoff, archived once it reads, reported once (`workGivenUp`) when it never does.
 */
import { describe, expect, it } from 'vitest';
import { CloudKitAssetSource } from '#adapters/icloud/cloudkit/cloudkit-asset-source.ts';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { archiveStatus, ManifestTally } from '#domain/verify/archive-status.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { asset, master, ScriptedCloudKit } from '#test/fixtures/scripted-cloudkit.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const HOUR = 60 * 60 * 1000;

class NamesQueue implements WorkQueue {
  readonly names: string[] = [];
  async enqueue(messages: Parameters<WorkQueue['enqueue']>[0]): Promise<EnqueueReceipt> {
    for (const m of messages)
      for (const item of m.items) if (item.type === 'asset') this.names.push(item.asset.assetRecordName);
    return { requested: messages.length, sent: messages.length };
  }
}

/** A CPLAsset without a masterRef, and one without any date: shapes the mapping refuses. */
function noMasterRef(name: string): Record<string, unknown> {
  const record = asset(name, 'unused');
  const { masterRef: _, ...fields } = record['fields'] as Record<string, unknown>;
  return { ...record, fields };
}
function noDate(name: string, masterName: string): Record<string, unknown> {
  const record = asset(name, masterName);
  const { assetDate: _, ...fields } = record['fields'] as Record<string, unknown>;
  return { ...record, fields };
}

function setup() {
  const cloudKit = new ScriptedCloudKit();
  cloudKit.databaseChanges.zones.push({ zoneID: { zoneName: 'PrimarySync' } });
  const good = [master('M1', 'IMG_1.HEIC'), asset('A1', 'M1'), master('M4', 'IMG_4.HEIC'), asset('A4', 'M4')];
  const broken = [
    master('M2', 'IMG_2.HEIC'),
    noMasterRef('A2'),
    master('M3', 'IMG_3.HEIC'),
    noDate('A3', 'M3'),
  ];
  for (const record of [...good, ...broken]) cloudKit.records.set(record['recordName'] as string, record);
  // One page with two unreadable photos among good ones, then caught up.
  cloudKit.changePages.set('T0', {
    records: [...good.slice(0, 2), ...broken, ...good.slice(2)],
    syncToken: 'T1',
    moreComing: false,
  });
  cloudKit.changePages.set('T1', { records: [], syncToken: 'T1', moreComing: false });
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
  const state = new InMemorySyncStateStore();
  const queue = new NamesQueue();
  let now = 1_750_000_000_000;
  const deps: DetectDeps = {
    source: new CloudKitAssetSource({ client }),
    state,
    queue,
    now: () => now,
    remainingMs: () => 10 * 60 * 1000,
    runId: 'run',
    deletePolicy: DEFAULT_DELETE_POLICY,
  };
  return { cloudKit, state, queue, deps, advance: (ms: number) => (now += ms), now: () => now };
}

describe('a photo Apple sends in a shape detection cannot read', () => {
  it('waits with the zone, shows in status, and is archived once Apple sends it readable', async () => {
    const { cloudKit, state, queue, deps, now } = setup();
    await state.saveZone({ zone: PRIMARY, syncToken: 'T0' }, 0);

    const first = await detectChanges(deps);

    expect(first.outcome).toBe('caughtUp');
    expect(queue.names).toEqual(['A1', 'A4']);
    expect(first.zones[0]?.unreadableWaiting).toBe(2);
    const stored = await state.loadZone(PRIMARY);
    expect(stored?.syncToken).toBe('T1');
    const status = archiveStatus({
      now: now(),
      runs: [],
      databases: [],
      zones: stored ? [stored] : [],
      manifest: new ManifestTally().summary(),
      counters: { objects: 0, bytes: 0 },
    });
    expect(status.zones[0]?.unreadable).toBe(2);

    // Apple sends the date again: the next run's lookup archives that photo.
    cloudKit.records.set('A3', asset('A3', 'M3'));
    const second = await detectChanges(deps);

    expect(queue.names).toEqual(['A1', 'A4', 'A3']);
    expect(second.zones[0]?.unreadableWaiting).toBe(1);
  });

  it('is given up once, after the backoff, when it never reads (a lookup per try, not per run)', async () => {
    const { cloudKit, state, deps, advance } = setup();
    await state.saveZone({ zone: PRIMARY, syncToken: 'T0' }, 0);
    const givenUp: string[] = [];

    for (let run = 0; run < 40; run++) {
      const result = await detectChanges(deps);
      givenUp.push(...result.zones.flatMap((z) => z.unreadableGivenUp ?? []));
      advance(HOUR);
    }

    // Both stay unreadable: each is looked up 8 times in all (3 quick runs, then 1, 2, 4, 8, 8 hours apart).
    expect(givenUp.sort()).toEqual(['A2', 'A3']);
    // 8 tries over 40 runs, each a lookup of both names and one of A3's master.
    expect(cloudKit.sentTo('records/lookup').length).toBe(16);
  });
});
