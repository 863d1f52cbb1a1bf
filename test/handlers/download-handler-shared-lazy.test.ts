/**
 * The workers load Shared Albums' item work (app/shared-albums-work.ts, a bundle of its own beside
 * index.mjs: `LAZY_MODULES`, infra/lambda-bundle.ts) only for a message that holds a shared album:
 * a library photo's delivery, the common path, never loads it.
 */
import { describe, expect, it, vi } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { WORK_MESSAGE_VERSION, type WorkItem } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import {
  fakeIcloud,
  jpegBytes,
  lambdaContext,
  photoAsset,
  RecordingLogger,
  ScriptedCdn,
  sqsEvent,
  sqsRecord,
} from './handler-doubles.ts';

/** Whether the Shared Albums module was loaded (its first import runs this factory). */
const loaded = vi.hoisted(() => ({ sharedAlbumsWork: 0 }));
vi.mock('#app/shared-albums-work.ts', async (original) => {
  loaded.sharedAlbumsWork += 1;
  return original();
});

const NOW = 1_750_000_000_000;
const RUN_STARTED = NOW - 5_000;
const ZONE_NAME = 'SharedCollection-7B1E0000-0000-4000-8000-000000000003';

const album: SharedAlbum = {
  albumguid: ZONE_NAME,
  name: 'Lake',
  location: '',
  ctag: '1',
  ownerDsid: '_owner',
  sharingType: 'owned',
  isPublic: false,
  collection: { database: 'private', zoneName: ZONE_NAME, ownerRecordName: '_owner' },
};

function body(items: readonly WorkItem[]): string {
  return JSON.stringify({
    v: WORK_MESSAGE_VERSION,
    runId: 'run-1',
    runStartedAt: RUN_STARTED,
    issuedAt: NOW,
    items,
  });
}

describe('the download handler loads Shared Albums on their path alone', () => {
  it('archives a library photo without loading the Shared Albums module, and loads it for a shared album', async () => {
    const state = new InMemorySyncStateStore({ now: () => NOW });
    await state.startRun('run-1', 'detect', RUN_STARTED);
    const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
    const cdn = new ScriptedCdn();
    cdn.files.set('https://cdn.test/a', jpegBytes(64, 1));
    const source = new ListedSharedAlbumSource();
    const checksum = Buffer.from('shared-original-one').toString('base64');
    source.put(album, [
      {
        assetGuid: 'one',
        masterRecordName: checksum,
        fingerprint: checksum,
        changeTag: 'a1',
        fileName: 'one.JPG',
        captureDate: Date.UTC(2026, 6, 1, 12),
        rendition: {
          field: 'resOriginalRes',
          downloadUrl: 'https://cdn.test/one?size=32',
          fileChecksum: checksum,
          size: 32,
          uti: 'public.jpeg',
        },
        likeCount: 0,
      },
    ]);
    const library = fakeIcloud(cdn);
    const albums = fakeIcloud(new ByteServingDownloader());
    let icloud = library.adapters;
    const handler = createDownloadHandler({
      decode: parseWorkMessage,
      archive: {
        state,
        objects,
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: 'keep',
        now: () => NOW,
      },
      icloud: async () => ({ ...icloud, sharedAlbums: source }),
      logger: new RecordingLogger(),
      metrics: new CollectedMetrics(),
      reserveMs: 1_000,
      sharedAlbums: {
        state: new InMemorySharedAlbumStateStore(),
        deletePolicy: { mode: 'keep', maxDeleteFraction: 0.05, maxDeleteCount: 1000 },
        comments: false,
      },
    });

    const photo = sqsRecord(body([{ type: 'asset', asset: photoAsset('a', 64) }]));
    expect(
      (
        await handler(
          sqsEvent([photo]),
          lambdaContext(() => 60_000),
        )
      ).batchItemFailures,
    ).toEqual([]);
    expect(objects.keys().filter((key) => key.endsWith('.JPG'))).toHaveLength(1);
    expect(loaded.sharedAlbumsWork).toBe(0);

    icloud = albums.adapters;
    const shared = sqsRecord(body([{ type: 'sharedAlbum', album }]));
    expect(
      (
        await handler(
          sqsEvent([shared]),
          lambdaContext(() => 60_000),
        )
      ).batchItemFailures,
    ).toEqual([]);
    expect(
      objects.keys().filter((key) => key.startsWith('shared-albums/Lake/') && key.endsWith('.JPG')),
    ).toHaveLength(1);
    expect(loaded.sharedAlbumsWork).toBe(1);
  });
});
