/**
 * A resumed delivery whose CDN answer is not the rest of the file must cost the delivery, not the
 * parts S3 holds: a 200 error page (docs/protocol/cdn.md, "Download errors": an HTML/JSON page, or
 * kei's 17-byte body) is judged as a download from byte 0 is and fails it, and a 206 that ends short
 * (a connection dropped) fails it too; either way the parts and the checkpoint stay, and the next
 * delivery goes on from the checkpoint. (Audit 13 found the error page skipped as the stored prefix
 * of a whole file, the body ending short, and the length mismatch aborting the multipart upload.)
 */
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { MediaDownloader } from '#ports/media-download.ts';
import { RangeServingDownloader } from '#test/fakes/range-serving-downloader.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';
import { longVideo, PART } from '#test/helpers/long-video.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

const { asset: VIDEO, size: SIZE, url: URL } = longVideo('long-video', 5);
const video = (): Asset => VIDEO;

/** How the CDN answers the second delivery's range. */
const ANSWERS = {
  'a 200 error page': { error: 'UnexpectedResponseError' },
  'a 206 that ends short': { error: 'ContentLengthMismatchError' },
} as const;

describe('a resumed delivery whose CDN answer is not the rest of the file', () => {
  it.each(Object.entries(ANSWERS))(
    '%s keeps the stored parts: the next delivery goes on from its checkpoint',
    async (answer, { error }) => {
      const dynamodb = new DynamoDBClient(local.aws.clientConfig.dynamodb);
      const s3 = new S3Client(local.aws.clientConfig.s3);
      const tableName = await local.createTable();
      const bucket = await local.createBucket();
      const state = new DynamoDbSyncStateStore({ client: DynamoDBDocumentClient.from(dynamodb), tableName });
      const bytes = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 2654435761) >>> 24));
      const cdn = new RangeServingDownloader();
      cdn.files.set(URL, bytes);
      let wrongOnce = false;
      const downloader: MediaDownloader = {
        open: async (url, options) => {
          if (!wrongOnce) return cdn.open(url, options);
          wrongOnce = false;
          const offset = options.offset ?? 0;
          cdn.offsets.push(offset);
          if (answer === 'a 206 that ends short') {
            const some = bytes.subarray(offset, offset + PART + 1000);
            return { body: Readable.from([some]), contentLength: SIZE - offset, startsAt: offset };
          }
          const page = Buffer.from('<html><body>Service Unavailable</body></html>');
          return { body: Readable.from([page]), contentLength: page.length, startsAt: 0 };
        },
      };
      const message: WorkMessage = {
        v: WORK_MESSAGE_VERSION,
        runId: 'run-1',
        issuedAt: Date.now(),
        items: [{ type: 'asset', asset: video() }],
      };
      const invocation = (moves: number) => {
        const pause = new AbortController();
        cdn.onServed = (served) => {
          if (served >= moves) pause.abort();
        };
        const deps: ArchiveDeps = {
          state,
          objects: new S3ObjectStore({ client: s3, bucket, partSize: PART, queueSize: 2 }),
          downloader,
          refresh: async () => ({ assets: [] }),
          versionPolicy: DEFAULT_VERSION_POLICY,
          deletePolicy: 'keep',
          now: () => Date.now(),
          resumableFromBytes: 2 * PART,
          pause: pause.signal,
        };
        return processWorkMessage(deps, message);
      };

      // Delivery 1 stores three or four parts of six and pauses.
      await expect(invocation(4 * PART + 1)).rejects.toMatchObject({ name: 'TransferPausedError' });
      expect(cdn.served).toBeGreaterThanOrEqual(4 * PART);
      // Delivery 2: the CDN's answer to the range is not the rest of the file.
      wrongOnce = true;
      await expect(invocation(Number.POSITIVE_INFINITY)).rejects.toMatchObject({ name: error });
      const stored = cdn.offsets[1] ?? 0;
      expect(stored).toBeGreaterThanOrEqual(3 * PART);
      // The short 206 may add a part: the checkpoint says where to go on (never before `stored`).
      const { Uploads: open } = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(open).toHaveLength(1);
      const checkpoint = await state.getTransferCheckpoint(open?.[0]?.Key ?? '');
      expect(checkpoint?.bytes).toBeGreaterThanOrEqual(stored);
      const resumeAt = checkpoint?.bytes ?? 0;
      // Delivery 3 should go on from the parts S3 still held.
      const servedBefore = cdn.served;
      const result = await invocation(Number.POSITIVE_INFINITY);
      expect(result.archived).toBe(1);
      expect(cdn.offsets.at(-1)).toBe(resumeAt);
      expect(cdn.served - servedBefore).toBe(SIZE - resumeAt);
    },
  );
});
