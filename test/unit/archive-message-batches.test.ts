/**
 * A work message's state writes in batches (issue 12): the keys of its new objects claimed in one
 * all-or-nothing write before the transfers start, its entries written in one once they are done.
 * A batch refused for one item leaves that item to today's path (its own claim; re-read, merge and
 * write again) and writes the others again; every item ends archived, every object stored and
 * counted once, and "one download per object" holds for items that start late.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { keyCandidates } from '#domain/archive/message-claims.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { TRANSFER_LEASE_MS } from '#domain/archive/transfer-lease.ts';
import type { FreshKeyClaim, ManifestEntryInput } from '#domain/model/manifest.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const NOW = 1_750_000_000_000;

/** The in-memory store, counting the calls to the methods a message's writes go through. */
class CountingStore extends InMemorySyncStateStore {
  readonly calls = { putEntry: 0, putEntries: 0, claimTransfer: 0, claimFreshKeys: 0 };
  /** Runs once, just before the first batch of entries is written (a racing worker's write). */
  beforeEntries: (() => Promise<void>) | undefined;

  override async putEntry(entry: ManifestEntryInput, expectedRevision: number) {
    this.calls.putEntry++;
    return super.putEntry(entry, expectedRevision);
  }
  override async putEntries(writes: Parameters<InMemorySyncStateStore['putEntries']>[0]) {
    this.calls.putEntries++;
    const racing = this.beforeEntries;
    this.beforeEntries = undefined;
    await racing?.();
    return super.putEntries(writes);
  }
  override async claimTransfer(key: string, owner: string, holder: string, leaseMs: number) {
    this.calls.claimTransfer++;
    return super.claimTransfer(key, owner, holder, leaseMs);
  }
  override async claimFreshKeys(claims: readonly FreshKeyClaim[]) {
    this.calls.claimFreshKeys++;
    return super.claimFreshKeys(claims);
  }
}

class CountingObjects extends InMemoryObjectStore {
  heads = 0;
  override async head(key: string) {
    this.heads++;
    return super.head(key);
  }
}

function setUp(options: { itemConcurrency?: number } = {}) {
  const clock = { now: NOW };
  const state = new CountingStore({ now: () => clock.now });
  const objects = new CountingObjects({ now: () => clock.now, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => clock.now,
    sleep: async () => {},
    ...(options.itemConcurrency === undefined ? {} : { itemConcurrency: options.itemConcurrency }),
  };
  const message = (count: number): WorkMessage => ({
    v: WORK_MESSAGE_VERSION,
    runId: 'run-1',
    issuedAt: clock.now,
    items: Array.from({ length: count }, (_, i) => {
      const asset = photoAsset(`photo-${i}`, 100 + i);
      cdn.files.set(`https://cdn.test/photo-${i}`, jpegBytes(100 + i, i));
      return { type: 'asset' as const, asset };
    }),
  });
  return { clock, state, objects, cdn, deps, message };
}

/** Photo `i`'s original: the key it is archived under (its plain candidate) and its claim owner. */
function original(i: number): { readonly key: string; readonly owner: string } {
  const asset = photoAsset(`photo-${i}`, 100 + i);
  const [planned] = planVersions(asset, DEFAULT_VERSION_POLICY);
  if (planned === undefined) throw new Error('unreachable');
  return { key: keyCandidates(asset, planned, undefined)[0], owner: planned.objectId };
}
const keyOf = (i: number) => original(i).key;

describe("a work message's claims and entries, in one batch each", () => {
  it('claims the keys of its new photos in one write and writes their entries in one, with no HEAD', async () => {
    const { state, objects, cdn, deps, message } = setUp();

    const result = await processWorkMessage(deps, message(10));

    expect(result).toMatchObject({ items: 10, archived: 10, failed: 0 });
    expect(state.calls).toEqual({ putEntry: 0, putEntries: 1, claimTransfer: 0, claimFreshKeys: 1 });
    expect(objects.heads).toBe(0); // every claim fresh: nothing can be stored at its key yet
    expect(cdn.opened).toHaveLength(10);
    expect(await state.getCounters()).toEqual({ objects: 10, bytes: 10 * 100 + 45 });
    for (let i = 0; i < 10; i++) {
      const entry = await state.getEntry({
        zone: photoAsset('x', 1).zone,
        assetRecordName: `asset-photo-${i}`,
      });
      expect(entry?.versions).toEqual([expect.objectContaining({ size: 100 + i })]);
    }
  });

  it('claims a lone photo with its object’s key in one transaction, and writes its entry with its own compare-and-set', async () => {
    const { state, objects, deps, message } = setUp();

    const result = await processWorkMessage(deps, message(1));

    expect(result).toMatchObject({ items: 1, archived: 1 });
    // The claim and the item recording its object's key: one write (its own claim would need two).
    expect(state.calls).toEqual({ putEntry: 1, putEntries: 0, claimTransfer: 0, claimFreshKeys: 1 });
    expect(objects.heads).toBe(0);
  });

  it('archives every photo when another worker wrote one entry meanwhile: that one merges and writes again, the others go in a second batch', async () => {
    const { state, cdn, deps, message } = setUp();
    const work = message(5);
    const raced = work.items[2];
    if (raced?.type !== 'asset') throw new Error('unreachable');
    state.beforeEntries = async () => {
      // An album membership recorded by another message, between this one's read and its write.
      await state.putEntry(
        {
          zone: raced.asset.zone,
          assetRecordName: raced.asset.assetRecordName,
          masterRecordName: raced.asset.masterRecordName,
          assetChangeTag: '',
          status: 'pending',
          flags: { isFavorite: false, isHidden: false, isDeleted: false },
          albums: ['album-1'],
          versions: [],
          deletions: [],
        },
        0,
      );
    };

    const result = await processWorkMessage(deps, work);

    expect(result).toMatchObject({ items: 5, archived: 5, failed: 0 });
    // The batch refused for the raced entry; the four others in a second; the raced one on its own.
    expect(state.calls.putEntries).toBe(2);
    expect(state.calls.putEntry).toBe(1 + 1); // the racing write, the merged entry
    const merged = await state.getEntry(raced.asset);
    expect(merged).toMatchObject({ status: 'archived', albums: ['album-1'], revision: 2 });
    expect(merged?.versions).toEqual([expect.objectContaining({ size: 102 })]);
    expect(cdn.opened).toHaveLength(5); // the merge adopted the stored object
    expect(await state.getCounters()).toEqual({ objects: 5, bytes: 5 * 100 + 10 });
  });

  it('leaves a key claimed already to its item (a retry, a name twin) and claims the others in a second batch', async () => {
    const { state, objects, cdn, deps, message } = setUp();
    const work = message(4);
    // An earlier delivery claimed photo-1's key and died before storing; another object holds photo-3's name.
    await state.claimTransfer(keyOf(1), original(1).owner, 'dead-worker', 0); // its lease is over
    await state.claimKey(keyOf(3), 'someone-else/original');

    const result = await processWorkMessage(deps, work);

    expect(result).toMatchObject({ items: 4, archived: 4, failed: 0 });
    // The batch, refused; the two others again; photo-3's suffixed key with its object's key item.
    expect(state.calls.claimFreshKeys).toBe(3);
    expect(objects.heads).toBe(1); // photo-1's claim was not fresh: it looked for an object first
    expect(cdn.opened).toHaveLength(4);
    const keys = await Promise.all(
      [0, 1, 2, 3].map(
        async (i) =>
          (await state.getEntry({ zone: photoAsset('x', 1).zone, assetRecordName: `asset-photo-${i}` }))
            ?.versions[0]?.key,
      ),
    );
    expect(keys.slice(0, 3)).toEqual([keyOf(0), keyOf(1), keyOf(2)]);
    expect(keys[3]).not.toBe(keyOf(3)); // the suffixed name
    expect(await state.getCounters()).toMatchObject({ objects: 4 });
  });

  it('renews the lease of an item that starts late before its transfer, so no other worker can take its object', async () => {
    const { clock, state, objects, cdn, deps, message } = setUp({ itemConcurrency: 1 });
    const work = message(3);
    // Each download takes 25 s of the clock: the third starts 50 s after the claims, its
    // transfer ends past the 60 s lease the message took. A rival worker of the same object
    // asks for the lease mid-way through that transfer.
    const rival: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      cdn.files.set(`https://cdn.test/photo-${i}`, () => {
        clock.now += 25_000;
        return Readable.from([jpegBytes(100 + i, i)]);
      });
    }
    const open = cdn.open.bind(cdn);
    cdn.open = async (url, options) => {
      const opened = await open(url, options);
      if (url.endsWith('photo-2'))
        rival.push(await state.claimTransfer(keyOf(2), original(2).owner, 'rival', TRANSFER_LEASE_MS));
      return opened;
    };

    const result = await processWorkMessage(deps, work);

    expect(result).toMatchObject({ items: 3, archived: 3 });
    expect(rival).toEqual([{ claimed: true, heldBy: expect.any(String), expiresAt: expect.any(Number) }]);
    // Items two and three renewed their claims (taken 25 and 50 s before) and stayed fresh.
    expect(state.calls.claimTransfer).toBe(2 + 1);
    expect(objects.heads).toBe(0);
    expect(await state.getCounters()).toEqual({ objects: 3, bytes: 303 });
  });

  it('looks for a stored object before the transfer of an item whose claim outlived its lease', async () => {
    const { clock, state, objects, cdn, deps, message } = setUp({ itemConcurrency: 1 });
    const work = message(2);
    cdn.files.set('https://cdn.test/photo-0', () => {
      clock.now += TRANSFER_LEASE_MS + 1;
      return Readable.from([jpegBytes(100, 0)]);
    });

    const result = await processWorkMessage(deps, work);

    expect(result).toMatchObject({ items: 2, archived: 2 });
    expect(objects.heads).toBe(1); // another worker could have stored photo-1 meanwhile
    expect(await state.getCounters()).toEqual({ objects: 2, bytes: 201 });
  });
});
