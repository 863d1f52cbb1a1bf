/**
 * A zone delta of many asset-only changes (a bulk favourite, hide or date change of thousands of
 * photos: Apple sends the CPLAsset records without their CPLMasters). Each lone asset waits in the
 * changes cursor for a master that never comes, and detection saves that list in the zone's
 * checkpoint after every page. The store keeps at most MAX_CHECKPOINT_BYTES (256 KiB): past about
 * 6,700 names the save threw, and every later run resumed at the same page and threw again, so
 * detection was stuck for good (found by the limits audit, 2026-12-07). The source now settles the
 * lone assets once too many wait (their masters looked up, the photos emitted whole).
 */
import { describe, expect, it } from 'vitest';
import { CloudKitAssetSource, MAX_CARRIED_HALVES } from '#adapters/icloud/cloudkit/cloudkit-asset-source.ts';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import type { ZoneChangesCursor } from '#ports/asset-source.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { asset, master, ScriptedCloudKit } from '#test/fixtures/scripted-cloudkit.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const PAGES = 40;
const PER_PAGE = 200;

/** A CPLAsset name as Apple gives it (an upper-case UUID), and a master name (28 characters). */
const assetName = (i: number) =>
  `${i.toString(16).padStart(8, '0').toUpperCase()}-1111-4111-8111-111111111111`;
const masterName = (i: number) => `AbCdEfGhIjKlMnOpQrSt${i.toString().padStart(8, '0')}`;

/** Counts the photos enqueued, by item type, and each photo once. */
class CountingQueue implements WorkQueue {
  readonly photos = new Set<string>();
  readonly types: Record<string, number> = {};
  async enqueue(messages: Parameters<WorkQueue['enqueue']>[0]): Promise<EnqueueReceipt> {
    for (const m of messages) {
      for (const item of m.items) {
        this.types[item.type] = (this.types[item.type] ?? 0) + 1;
        if (item.type === 'asset') this.photos.add(item.asset.assetRecordName);
        if (item.type === 'assetOnly') this.photos.add(item.change.assetRecordName);
      }
    }
    return { requested: messages.length, sent: messages.length };
  }
}

/** 8,000 photos favourited at once: 40 pages of 200 lone CPLAssets, from token T0 to T40. */
function bulkFavourite(): ScriptedCloudKit {
  const cloudKit = new ScriptedCloudKit();
  cloudKit.databaseChanges.zones.push({ zoneID: { zoneName: 'PrimarySync' } });
  for (let p = 0; p < PAGES; p++) {
    const records = Array.from({ length: PER_PAGE }, (_, k) => {
      const i = p * PER_PAGE + k;
      const record = asset(assetName(i), masterName(i), { isFavorite: { value: 1, type: 'INT64' } });
      cloudKit.records.set(assetName(i), record);
      cloudKit.records.set(masterName(i), master(masterName(i), `IMG_${i}.HEIC`));
      return record;
    });
    cloudKit.changePages.set(`T${p}`, { records, syncToken: `T${p + 1}`, moreComing: p + 1 < PAGES });
  }
  // Caught up: the feed repeats its token (the fake lists the zone as changed at every run).
  cloudKit.changePages.set(`T${PAGES}`, { records: [], syncToken: `T${PAGES}`, moreComing: false });
  return cloudKit;
}

function clientOf(cloudKit: ScriptedCloudKit): CloudKitClient {
  return new CloudKitClient({
    http: cloudKit,
    ckdatabasewsUrl: () => 'https://p42-ckdatabasews.icloud.com:443',
    dsid: '12345',
    clientId: 'CLIENT',
    retry: {
      sleep: async () => {},
      policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 },
    },
  });
}

function depsOver(cloudKit: ScriptedCloudKit, state: InMemorySyncStateStore, queue: WorkQueue): DetectDeps {
  return {
    source: new CloudKitAssetSource({ client: clientOf(cloudKit) }),
    state,
    queue,
    now: () => 1_750_000_000_000,
    remainingMs: () => 10 * 60 * 1000,
    runId: 'run',
    deletePolicy: DEFAULT_DELETE_POLICY,
  };
}

async function threeRuns(deps: DetectDeps): Promise<string[]> {
  const outcomes: string[] = [];
  for (let run = 0; run < 3; run++) {
    try {
      outcomes.push((await detectChanges(deps)).outcome);
    } catch (error) {
      outcomes.push(`threw: ${(error as Error).message}`);
    }
  }
  return outcomes;
}

describe('detection of a delta of many asset-only changes', () => {
  it('follows it to its end in one run, every photo enqueued (8,000 photos favourited at once)', async () => {
    const cloudKit = bulkFavourite();
    const state = new InMemorySyncStateStore();
    // The zone was archived before: detection follows its delta from its token.
    await state.saveZone({ zone: PRIMARY, syncToken: 'T0' }, 0);
    const queue = new CountingQueue();

    const outcomes = await threeRuns(depsOver(cloudKit, state, queue));

    const stored = await state.loadZone(PRIMARY);
    expect({
      outcomes,
      token: stored?.syncToken,
      checkpoint: stored?.checkpoint,
      photos: queue.photos.size,
      // Settled three times at 2,000+ waiting (2,200 photos, 22 lookups of 100 masters each);
      // the last 1,400 are asset-only changes at the feed's end, as before.
      types: queue.types,
      lookups: cloudKit.sentTo('records/lookup').length,
    }).toEqual({
      outcomes: ['caughtUp', 'caughtUp', 'caughtUp'],
      token: `T${PAGES}`,
      checkpoint: undefined,
      photos: PAGES * PER_PAGE,
      types: { asset: 6_600, assetOnly: 1_400 },
      lookups: 66,
    });
  });

  it('gets a zone going again that an earlier version left stuck (6,000 names in its checkpoint)', async () => {
    const cloudKit = bulkFavourite();
    const state = new InMemorySyncStateStore();
    // What the earlier version saved last before the limit: the token T30 and every lone asset
    // of pages 0..29 still waiting.
    const waiting = Array.from({ length: 30 * PER_PAGE }, (_, i) => assetName(i));
    await state.saveZone(
      { zone: PRIMARY, syncToken: 'T30', checkpoint: { unpaired: { masters: [], assets: waiting } } },
      0,
    );
    const queue = new CountingQueue();

    const outcomes = await threeRuns(depsOver(cloudKit, state, queue));

    const stored = await state.loadZone(PRIMARY);
    expect({ outcomes, token: stored?.syncToken, photos: queue.photos.size }).toEqual({
      outcomes: ['caughtUp', 'caughtUp', 'caughtUp'],
      token: `T${PAGES}`,
      photos: PAGES * PER_PAGE,
    });
  });

  it('keeps the cursor small on every page and loses no photo, a master CloudKit will not serve included', async () => {
    const cloudKit = bulkFavourite();
    // Two masters answered NOT_FOUND (deleted meanwhile, or not served): their photos wait as unreadable.
    cloudKit.records.delete(masterName(7));
    cloudKit.records.delete(masterName(1_234));
    const source = new CloudKitAssetSource({ client: clientOf(cloudKit) });
    const seen = new Map<string, string>();
    let cursor: ZoneChangesCursor = { syncToken: 'T0' };
    let largest = 0;
    for (let page = 0; page < PAGES + 1; page++) {
      const answer = await source.zoneChangesPage(PRIMARY, cursor);
      for (const change of answer.changes) {
        if (change.type === 'asset') seen.set(change.asset.assetRecordName, 'asset');
        if (change.type === 'assetOnly') seen.set(change.change.assetRecordName, 'assetOnly');
      }
      for (const name of answer.unreadable ?? []) seen.set(name, 'unreadable');
      largest = Math.max(largest, JSON.stringify(answer.cursor).length);
      cursor = answer.cursor;
      if (!answer.moreComing) break;
    }

    expect(seen.size).toBe(PAGES * PER_PAGE);
    expect([seen.get(assetName(7)), seen.get(assetName(1_234)), seen.get(assetName(8))]).toEqual([
      'unreadable',
      'unreadable',
      'asset',
    ]);
    // At most MAX_CARRIED_HALVES names of ~39 bytes (78 KB), under a third of the checkpoint's 256 KiB.
    expect(largest).toBeLessThan(100_000);
    expect(MAX_CARRIED_HALVES).toBe(2_000);
  });
});
