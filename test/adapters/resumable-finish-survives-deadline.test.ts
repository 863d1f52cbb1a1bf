/**
 * Audit 13 (resumable upload of long videos, finding 48): the last delivery of a resumable video
 * reads its last bytes, completes the multipart upload and then rewrites the object (the metadata
 * copy: UploadPartCopy over 5 GiB, CopyObject below). The pause (`PAUSE_LEAD_MS`) is only looked at
 * while reading, so when the invocation's end comes during that copy, the completed object is taken
 * back, the checkpoint still names the upload S3 completed (`NoSuchUpload` on the next ListParts),
 * and the next delivery downloads the whole video again from byte 0: every part the earlier
 * deliveries stored is lost. Expected: the next delivery finishes the completed object (or resumes
 * near the end), not a second download of the whole file.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { MIN_PART_SIZE, S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { RangeServingDownloader } from '#test/fakes/range-serving-downloader.ts';
import { photoAsset } from '#test/handlers/handler-doubles.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

const PART = MIN_PART_SIZE;
const SIZE = 5 * PART + 4321;
const URL = 'https://cdn.test/long-video';

function video(): Asset {
  const asset = photoAsset('long-video', SIZE);
  const [version] = asset.versions;
  if (version === undefined) throw new Error('no version');
  return {
    ...asset,
    mediaType: 'video',
    fileName: 'long-video.MOV',
    versions: [{ ...version, uti: 'com.apple.quicktime-movie', downloadUrl: URL }],
  };
}

describe('audit13: the invocation ends during the metadata copy of a completed resumable upload', () => {
  it('the next delivery does not download the whole video again', async () => {
    const dynamodb = new DynamoDBClient(local.aws.clientConfig.dynamodb);
    const s3 = new S3Client(local.aws.clientConfig.s3);
    let onCopy: () => void = () => undefined;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        // The rewrite after the completion: the invocation's end arrives as it starts.
        if (context.commandName === 'UploadPartCopyCommand' || context.commandName === 'CopyObjectCommand')
          onCopy();
        return next(args);
      },
      { step: 'initialize', name: 'copyStarts' },
    );
    const tableName = await local.createTable();
    const bucket = await local.createBucket();
    const state = new DynamoDbSyncStateStore({ client: DynamoDBDocumentClient.from(dynamodb), tableName });
    const bytes = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 2654435761) >>> 24));
    const cdn = new RangeServingDownloader();
    cdn.files.set(URL, bytes);
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'run-1',
      issuedAt: Date.now(),
      items: [{ type: 'asset', asset: video() }],
    };
    const invocation = (moves: number, endAtCopy: boolean) => {
      const pause = new AbortController();
      const deadline = new AbortController();
      cdn.onServed = (served) => {
        if (served >= moves) pause.abort();
      };
      onCopy = () => {
        if (endAtCopy) deadline.abort(new Error('the invocation is about to time out'));
      };
      const deps: ArchiveDeps = {
        state,
        // A small copy limit: the rewrite is the multipart copy a video over 5 GiB gets.
        objects: new S3ObjectStore({
          client: s3,
          bucket,
          partSize: PART,
          queueSize: 2,
          maxCopyBytes: 2 * PART,
        }),
        downloader: cdn,
        refresh: async () => ({ assets: [] }),
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: 'keep',
        now: () => Date.now(),
        signal: deadline.signal,
        resumableFromBytes: 2 * PART,
        pause: pause.signal,
      };
      return processWorkMessage(deps, message);
    };

    // Delivery 1 stores a little over three parts and pauses.
    await expect(invocation(3 * PART + 1, false)).rejects.toMatchObject({ name: 'TransferPausedError' });
    const resumedAt = cdn.offsets.length;
    // Delivery 2 reads the rest, completes the upload, and its end comes during the copy.
    await expect(invocation(Number.POSITIVE_INFINITY, true)).rejects.toMatchObject({ name: 'AbortError' });
    expect(cdn.offsets[resumedAt]).toBeGreaterThan(0);
    const servedBefore = cdn.served;
    // Delivery 3 has time enough.
    const result = await invocation(Number.POSITIVE_INFINITY, false);
    expect(result.archived).toBe(1);
    // It should not fetch the video from byte 0 again.
    expect(cdn.offsets.at(-1)).toBeGreaterThan(0);
    expect(cdn.served - servedBefore).toBeLessThan(SIZE);
  });
});
