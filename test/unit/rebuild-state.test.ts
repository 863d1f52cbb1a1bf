/**
 * The state rebuilt from the bucket alone over fakes with real semantics: catalog records become
 * manifest entries with their flags and albums, objects the catalog does not list yet come from
 * their own metadata, and entries the store already has are kept. Nothing is downloaded.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { foldCatalog, journalingQueue } from '#app/catalog-upkeep.ts';
import { rebuildState } from '#app/rebuild-state.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkItem } from '#domain/model/work.ts';
import { objectIdOf } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { SseKmsObjectStore } from '#test/fakes/sse-kms-object-store.ts';
import { jpegBytes, photoAsset, RecordingLogger, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const NOW = 1_750_000_000_000;

function setUp() {
  const state = new InMemorySyncStateStore({ now: () => NOW });
  const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const archive: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => NOW,
  };
  const queue = journalingQueue(new InMemoryWorkQueue(), objects, () => NOW);
  const catalog = { state, objects, logger: new RecordingLogger(), now: () => NOW };
  const deliver = async (items: WorkItem[]) => {
    const message = { v: WORK_MESSAGE_VERSION, runId: 'run', issuedAt: NOW, items } as const;
    await queue.enqueue([message]);
    await processWorkMessage(archive, message);
  };
  const serve = (asset: Asset) =>
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(asset.versions[0]?.size ?? 0, 5));
  return { state, objects, cdn, catalog, deliver, serve };
}

describe('rebuilding the state from the bucket', () => {
  it('writes the catalog’s entries with their flags and albums, and what the catalog lacks from object metadata', async () => {
    const { state, objects, catalog, deliver, serve, cdn } = setUp();
    const folded = { ...photoAsset('folded', 100), isFavorite: true };
    const late = photoAsset('late', 120);
    serve(folded);
    serve(late);
    await deliver([{ type: 'asset', asset: folded }]);
    await deliver([
      {
        type: 'albumMembership',
        zone: folded.zone,
        assetRecordName: folded.assetRecordName,
        albumRecordName: 'album-1',
        present: true,
      },
    ]);
    await foldCatalog(catalog, 'test');
    // Archived after the last fold: only its object (and its metadata) knows it.
    await deliver([{ type: 'asset', asset: late }]);
    const before = [await state.getEntry(folded), await state.getEntry(late)];
    const downloads = cdn.opened.length;

    const fresh = new InMemorySyncStateStore({ now: () => NOW });
    const result = await rebuildState({ state: fresh, objects, logger: new RecordingLogger() });

    expect(result).toMatchObject({
      catalogRecords: 1,
      objectsFromMetadata: 1,
      objectsUnknown: [],
      entriesWritten: 2,
      claimConflicts: [],
    });
    expect(await fresh.getEntry(folded)).toMatchObject({
      status: 'archived',
      flags: { isFavorite: true, isHidden: false, isDeleted: false },
      albums: ['album-1'],
      versions: before[0]?.versions.map(({ archivedAt: _a, ...v }) => expect.objectContaining(v)),
    });
    expect((await fresh.getEntry(late))?.versions).toEqual([
      expect.objectContaining({
        kind: 'original',
        key: before[1]?.versions[0]?.key,
        sha256: before[1]?.versions[0]?.sha256,
        md5: before[1]?.versions[0]?.md5,
      }),
    ]);
    expect(await fresh.getCounters()).toEqual(await state.getCounters());
    expect(cdn.opened.length).toBe(downloads);
    // Each object's key recorded, for another asset of its master whose date differs.
    for (const asset of [folded, late]) {
      const version = (await fresh.getEntry(asset))?.versions[0];
      const objectId = objectIdOf(asset.masterRecordName, 'original', version?.fileChecksum ?? '');
      expect(await fresh.recordedKey(objectId)).toBe(version?.key);
    }
  });

  it('takes no MD5 from an ETag under SSE-KMS, where it is none (an object without md5chksum)', async () => {
    // An object without `md5chksum` (another tool wrote it) in an SSE-KMS bucket: its 32-hex
    // ETag is not its MD5.
    class WithoutMd5Chksum extends SseKmsObjectStore {
      override async head(key: string) {
        const head = await super.head(key);
        if (head === undefined) return undefined;
        const { md5Base64: _md5, metadata, ...rest } = head;
        const { md5chksum: _dropped, ...others } = metadata;
        return { ...rest, metadata: others };
      }
    }
    const objects = new WithoutMd5Chksum({ now: () => NOW, partSize: MIN_PART_SIZE });
    const { objects: source, deliver, serve } = setUp();
    const asset = photoAsset('kms', 100);
    serve(asset);
    await deliver([{ type: 'asset', asset }]);
    for await (const listed of source.list('library/')) {
      const read = await source.getStream(listed.key);
      if (read === undefined) continue;
      await objects.putStream(listed.key, read.body, {
        contentType: read.head.contentType ?? 'image/jpeg',
        contentLength: read.head.size,
        metadata: read.head.metadata,
      });
    }

    const fresh = new InMemorySyncStateStore({ now: () => NOW });
    const result = await rebuildState({ state: fresh, objects, logger: new RecordingLogger() });

    expect(result.objectsFromMetadata).toBe(0);
    expect(result.objectsUnknown).toHaveLength(1);
    expect(await fresh.getEntry(asset)).toBeUndefined();
  });

  it('keeps the entries the store already has', async () => {
    const { state, objects, catalog, deliver, serve } = setUp();
    const asset = photoAsset('kept', 100);
    serve(asset);
    await deliver([{ type: 'asset', asset }]);
    await foldCatalog(catalog, 'test');
    const entry = await state.getEntry(asset);

    const result = await rebuildState({ state, objects, logger: new RecordingLogger() });

    expect(result).toMatchObject({ entriesWritten: 0, entriesKept: 1 });
    expect(await state.getEntry(asset)).toEqual(entry);
  });
});
