/**
 * The download worker's SQS contract for a Shared Album item whose library twin a worker is
 * archiving: the handler hands SQS's receive count to the album's archiver, the album's record
 * is reported failed (redelivered, not dead-lettered) while the item waits, without a warning,
 * and from the delivery after the waits the item stores its own copy.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { TWIN_WAIT_DELIVERIES } from '#domain/shared-albums/library-copy.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import {
  fakeIcloud,
  lambdaContext,
  RecordingLogger,
  sqsEvent,
  sqsRecord,
  workBody,
  ZONE,
} from './handler-doubles.ts';

const NOW = 1_750_000_000_000;
const CHECKSUM = Buffer.from('library-original-0001').toString('base64');
const ZONE_NAME = 'SharedCollection-7B1E0000-0000-4000-8000-000000000001';

const album: SharedAlbum = {
  albumguid: ZONE_NAME,
  name: 'Ski',
  location: '',
  ctag: '1',
  ownerDsid: '_owner',
  sharingType: 'owned',
  isPublic: false,
  collection: { database: 'private', zoneName: ZONE_NAME, ownerRecordName: '_owner' },
};

const copy: SharedItem = {
  assetGuid: 'copy',
  masterRecordName: CHECKSUM,
  fingerprint: CHECKSUM,
  changeTag: 'a1',
  fileName: 'copy.JPG',
  captureDate: Date.UTC(2026, 6, 1, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: 'https://cdn.test/copy?size=32',
    fileChecksum: CHECKSUM,
    size: 32,
    uti: 'public.jpeg',
  },
  likeCount: 0,
};

async function setUp() {
  const state = new InMemorySyncStateStore({ now: () => NOW });
  const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
  const source = new ListedSharedAlbumSource();
  source.put(album, [copy]);
  const icloud = fakeIcloud(new ByteServingDownloader());
  const logger = new RecordingLogger();
  // A library worker has started on the photo: it is among its master's users, nothing stored yet.
  await state.addMasterUser(CHECKSUM, { zone: ZONE, assetRecordName: 'ASSET-1' });
  const handler = createDownloadHandler({
    decode: parseWorkMessage,
    archive: { state, objects, versionPolicy: DEFAULT_VERSION_POLICY, deletePolicy: 'keep', now: () => NOW },
    icloud: async () => ({ ...icloud.adapters, sharedAlbums: source }),
    logger,
    metrics: new CollectedMetrics(),
    reserveMs: 1_000,
    sharedAlbums: {
      state: new InMemorySharedAlbumStateStore(),
      deletePolicy: { mode: 'keep', maxDeleteFraction: 0.05, maxDeleteCount: 1000 },
      comments: false,
    },
  });
  const deliver = (receiveCount: number) => {
    const record = sqsRecord(workBody([{ type: 'sharedAlbum', album }], NOW));
    const delivered = {
      ...record,
      attributes: { ...record.attributes, ApproximateReceiveCount: String(receiveCount) },
    };
    return {
      record: delivered,
      run: () =>
        handler(
          sqsEvent([delivered]),
          lambdaContext(() => 60_000),
        ),
    };
  };
  return { objects, logger, deliver };
}

describe('the download handler, a Shared Album item whose library twin is being archived', () => {
  it('fails the album record while the item waits, logging no warning, and stores its own copy after the waits', async () => {
    const { objects, logger, deliver } = await setUp();
    for (let receive = 1; receive <= TWIN_WAIT_DELIVERIES; receive++) {
      const { record, run } = deliver(receive);
      expect((await run()).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    }
    expect(objects.keys().filter((k) => !k.startsWith('catalog/'))).toEqual([]);
    expect(logger.messages()).toContain('shared album waits for library originals');
    expect(logger.lines.filter((l) => l['level'] === 'WARN')).toEqual([]);

    const last = deliver(TWIN_WAIT_DELIVERIES + 1);
    expect((await last.run()).batchItemFailures).toEqual([]);
    expect(objects.keys()).toContain('shared-albums/Ski/2026-07-01/copy.JPG');
  });
});
