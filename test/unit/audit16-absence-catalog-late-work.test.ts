/**
 * AUDIT16 (absence) scratch. Claim: a photo whose work message finishes more than
 * JOURNAL_RETENTION_MS (7 days) after detection journalled it is archived but never gets a catalog
 * record: the fold that finds its item expired with no manifest entry drops the item (neither
 * settled nor carried, catalog-fold.ts `decide`) and deletes the journal object, and the worker
 * that archives it later writes no journal item, so no later fold ever records it.
 * Two absence paths reach it inside the 14 days docs/deploy.md calls safe:
 *  - a sign-in latch of 7-14 days: no fold runs while latched (finding 101), the first run after the
 *    login redrives the parked work and folds at its end, before the workers are done with it;
 *  - a dead letter given up (WorkGivenUp) and sent back by hand as deploy.md says, > 7 days on.
 * The setup below is copied from catalog-fold-waits-for-older-change.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { foldCatalog, journalingQueue, readText } from '#app/catalog-upkeep.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { decodeShard, shardKey, shardOf } from '#domain/catalog/catalog-shard.ts';
import { WORK_MESSAGE_VERSION, type WorkItem, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { jpegBytes, photoAsset, RecordingLogger, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

/** A photo served by the CDN, not archived yet, and the bucket, manifest and journalling queue around it. */
function setUp(options: { readonly albumsFromStore?: readonly string[] } = {}) {
  let now = 1_750_000_000_000;
  const clock = () => now;
  const state = new InMemorySyncStateStore({ now: clock });
  const objects = new InMemoryObjectStore({ now: clock, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const queue = journalingQueue(new InMemoryWorkQueue(), objects, clock);
  const archive: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: clock,
  };
  const catalog = {
    state,
    objects,
    logger: new RecordingLogger(),
    now: clock,
    // As in AWS and the local runtime: the photo's albums come from the album store.
    ...(options.albumsFromStore === undefined
      ? {}
      : { albumsOfAssets: async () => () => options.albumsFromStore ?? [] }),
  };
  const asset = photoAsset('fav', 100);
  cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(100, 3));
  return {
    asset,
    /** Detection hands `items` over in one message: journalled, then enqueued. */
    enqueue: async (items: WorkItem[]): Promise<WorkMessage> => {
      const message: WorkMessage = { v: WORK_MESSAGE_VERSION, runId: 'run', issuedAt: now, items };
      await queue.enqueue([message]);
      return message;
    },
    joinAlbum: (): WorkItem => ({
      type: 'albumMembership',
      zone: asset.zone,
      assetRecordName: asset.assetRecordName,
      albumRecordName: 'album-1',
      present: true,
    }),
    work: (message: WorkMessage) => processWorkMessage(archive, message),
    fold: (owner: string) => foldCatalog(catalog, owner),
    advance: (ms: number) => {
      now += ms;
    },
    record: async () => {
      const text = (await readText(objects, shardKey(shardOf(asset)))) ?? '';
      const found = decodeShard(text).find((r) => r.asset === asset.assetRecordName);
      return { status: found?.status, favorite: found?.favorite, albums: found?.albums };
    },
  };
}

const DAY = 24 * 60 * 60 * 1000;

describe('audit16 absence: the catalog of a photo archived more than 7 days after detection', () => {
  it('records the photo once its late work is archived (a 10-day sign-in latch)', async () => {
    const { asset, enqueue, work, fold, advance, record } = setUp();

    // Detection journals and enqueues a new photo; then the session latches for 10 days: the
    // message waits in the dead-letter queue, no fold runs (finding 101).
    const message = await enqueue([{ type: 'asset', asset }]);
    advance(10 * DAY);
    // The login. The first run redrives the message and folds at its end, the worker not done yet.
    const first = await fold('run-after-login');
    await work(message);
    advance(15 * 60 * 1000);
    const second = await fold('run-next');
    advance(15 * 60 * 1000);
    await fold('run-next-2');

    console.log('audit16-absence catalog folds', JSON.stringify({ first, second }));
    expect(await record()).toEqual({ status: 'archived', favorite: false, albums: [] });
  });
});
