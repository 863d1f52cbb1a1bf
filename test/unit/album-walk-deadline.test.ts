/**
 * An album walk that cannot finish within one invocation (a big library, many albums, an album
 * longer than what one invocation reads, a short timeout). The walk checked the deadline only
 * between albums, and while it is under way the zone's token waits in the walk's checkpoint (the
 * delta is not followed): an album whose members took longer than the rest of an invocation had
 * the invocation killed at its timeout every run, at the same album, and the zone's photo
 * detection stopped for good. The walk now stops within an album at the deadline and goes on from
 * there on the next run.
 */
import { describe, expect, it } from 'vitest';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import type { Album } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
/** Each request to Apple takes a second; an invocation has 30 and stops taking new work at 10 left. */
const INVOCATION_MS = 30_000;
const RESERVE_MS = 10_000;
const album = (recordName: string, name: string): Album => ({
  zone: ZONE,
  recordName,
  name,
  albumType: 0,
  isDeleted: false,
});

class CollectingQueue implements WorkQueue {
  readonly sent: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.sent.push(...messages);
    return { requested: messages.length, sent: messages.length };
  }
}

class InvocationKilled extends Error {}

describe('an album walk longer than one invocation', () => {
  it('goes on where it stopped, so the walk ends and the photo delta is followed again', async () => {
    const source = new LibraryAssetSource({ pageSize: 10 });
    const zone = source.addZone(ZONE, 40);
    for (let i = 0; i < 30; i += 1)
      zone.albums.push({
        album: album(`S${i}`, `Tag ${i}`),
        members: [{ assetRecordName: zone.library[i % 40]!.assetRecordName, position: 0 }],
      });
    // 200 members: 20 contents pages, more than an invocation has left after the small albums.
    zone.albums.push({
      album: album('BIG', 'Alles'),
      members: Array.from({ length: 200 }, (_, i) => ({
        assetRecordName: zone.library[i % 40]!.assetRecordName,
        position: i,
      })),
    });
    const state = new InMemorySyncStateStore();
    const queue = new CollectingQueue();
    let started = 0;
    const remainingMs = () => INVOCATION_MS - (source.calls.length - started) * 1_000;
    // The Lambda runtime ends an invocation at its timeout, whatever it was doing.
    const members = source.albumMembersPage.bind(source);
    source.albumMembersPage = async (...args) => {
      if (remainingMs() <= 0) throw new InvocationKilled('Task timed out');
      return members(...args);
    };
    const invoke = async (runId: string, withAlbums = true) => {
      started = source.calls.length;
      const deps: DetectDeps = {
        source,
        state,
        ...(withAlbums ? { albums: state } : {}),
        queue,
        now: () => 1_000,
        remainingMs,
        reserveMs: RESERVE_MS,
        runId,
        deletePolicy: DEFAULT_DELETE_POLICY,
      };
      try {
        return (await detectChanges(deps)).outcome;
      } catch (error) {
        if (!(error instanceof InvocationKilled)) throw error;
        // Its lock lapses before the next scheduled run.
        await state.releaseLock({ name: 'detect-changes', owner: runId, expiresAt: Number.MAX_SAFE_INTEGER });
        return 'killed';
      }
    };
    // Synced by a release before albums: the next runs walk the albums once.
    expect(await invoke('r0', false)).toBe('caughtUp');
    expect(await invoke('r1')).toBe('continued');
    // A photo changes in iCloud while the walk is under way.
    const favourite = { ...zone.library[5]!, isFavorite: true, assetChangeTag: 'fav' };
    source.change('PrimarySync', [{ type: 'asset', asset: favourite }]);
    queue.sent.length = 0;
    const outcomes: string[] = [];
    for (let run = 2; run <= 8; run += 1) outcomes.push(await invoke(`r${run}`));
    expect(outcomes).not.toContain('killed');
    expect((await state.albumMembers({ zone: ZONE, recordName: 'BIG' })).length).toBe(40);
    expect((await state.loadZone(ZONE))?.albumsWalkedAt).toBe(1_000);
    // The zone follows its delta again, from the token captured before the walk: the run after
    // the walk brings the change made meanwhile (the database's token stayed before it too).
    expect(outcomes.slice(-3)).toEqual(['idle', 'idle', 'idle']);
    const names = queue.sent
      .flatMap((m) => m.items)
      .map((i) => (i.type === 'asset' ? i.asset.assetRecordName : ''));
    expect(names).toContain(favourite.assetRecordName);
  });
});
