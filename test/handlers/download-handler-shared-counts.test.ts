/**
 * A Shared Album's delivery that stops because iCloud needs a new sign-in still adds the items it
 * stored to the run record (`sharedItemsArchived`): its redelivery finds them done and does not
 * count them, so without it they were never counted.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { SessionExpiredError } from '#domain/errors.ts';
import { WORK_MESSAGE_VERSION } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import type { MediaDownloader } from '#ports/media-download.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { fakeIcloud, lambdaContext, RecordingLogger, sqsEvent, sqsRecord } from './handler-doubles.ts';

const NOW = 1_750_000_000_000;
const RUN_STARTED = NOW - 5_000;
const ZONE_NAME = 'SharedCollection-7B1E0000-0000-4000-8000-000000000002';

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

function item(name: string, day: number): SharedItem {
  const checksum = Buffer.from(`shared-original-${name}`).toString('base64');
  return {
    assetGuid: name,
    masterRecordName: checksum,
    fingerprint: checksum,
    changeTag: 'a1',
    fileName: `${name}.JPG`,
    captureDate: Date.UTC(2026, 6, day, 12),
    rendition: {
      field: 'resOriginalRes',
      downloadUrl: `https://cdn.test/${name}?size=32`,
      fileChecksum: checksum,
      size: 32,
      uti: 'public.jpeg',
    },
    likeCount: 0,
  };
}

describe('the download handler, a Shared Album stopped by a sign-in', () => {
  it('counts the items it stored before the sign-in was needed, once across its redelivery', async () => {
    const state = new InMemorySyncStateStore({ now: () => NOW });
    await state.startRun('run-1', 'detect', RUN_STARTED);
    let runWrites = 0;
    const addRunProgress = state.addRunProgress.bind(state);
    state.addRunProgress = async (run, progress) => {
      runWrites += 1;
      return addRunProgress(run, progress);
    };
    const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
    const source = new ListedSharedAlbumSource();
    source.put(album, [item('one', 1), item('two', 2), item('three', 3)]);
    const bytes = new ByteServingDownloader();
    let sessionEnded = true;
    const cdn: MediaDownloader = {
      open: async (url) => {
        if (sessionEnded && url.includes('/three')) throw new SessionExpiredError('sign in again');
        return bytes.open(url);
      },
    };
    const icloud = fakeIcloud(cdn);
    const sharedState = new InMemorySharedAlbumStateStore();
    const handler = () =>
      createDownloadHandler({
        decode: parseWorkMessage,
        archive: {
          state,
          objects,
          versionPolicy: DEFAULT_VERSION_POLICY,
          deletePolicy: 'keep',
          now: () => NOW,
        },
        icloud: async () => ({ ...icloud.adapters, sharedAlbums: source }),
        logger: new RecordingLogger(),
        metrics: new CollectedMetrics(),
        reserveMs: 1_000,
        sharedAlbums: {
          state: sharedState,
          deletePolicy: { mode: 'keep', maxDeleteFraction: 0.05, maxDeleteCount: 1000 },
          comments: false,
        },
      });
    const record = sqsRecord(
      JSON.stringify({
        v: WORK_MESSAGE_VERSION,
        runId: 'run-1',
        runStartedAt: RUN_STARTED,
        issuedAt: NOW,
        items: [{ type: 'sharedAlbum', album }],
      }),
    );
    const counted = async () =>
      (await state.listRuns(5)).find((r) => r.runId === 'run-1')?.counts.sharedItemsArchived ?? 0;

    const first = await handler()(
      sqsEvent([record]),
      lambdaContext(() => 60_000),
    );
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(
      objects.keys().filter((k) => k.startsWith('shared-albums/Ski/') && k.endsWith('.JPG')),
    ).toHaveLength(2);
    expect(await counted()).toBe(2);
    expect(runWrites).toBe(1);

    sessionEnded = false;
    const second = await handler()(
      sqsEvent([{ ...record, receiptHandle: 'again' }]),
      lambdaContext(() => 60_000),
    );
    expect(second.batchItemFailures).toEqual([]);
    expect(await counted()).toBe(3);
    // One write a delivery: the album's counts and the message's library counts together (issue 12).
    expect(runWrites).toBe(2);
  });
});
