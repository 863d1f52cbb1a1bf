/**
 * A video longer than one worker invocation moves (docs/deploy.md, "Very large videos"): the
 * invocation's deadline arrives mid-transfer, and the next invocation goes on from the parts the
 * first one stored, to one object, byte-exact, its manifest entry's MD5 and SHA-256 the bytes'.
 * Over the local servers with the real adapters (dynalite for the checkpoint on the key claim,
 * s3rver for the multipart upload and its ListParts). On main, each try started over: the deadline
 * aborted the upload and nothing was kept, so the video could never be archived.
 */
import { createHash } from 'node:crypto';
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

async function setUp() {
  const dynamodb = new DynamoDBClient(local.aws.clientConfig.dynamodb);
  const s3 = new S3Client(local.aws.clientConfig.s3);
  /** Told when S3 has answered an upload's part 1 (an invocation's end, in one case below). */
  let partStored: () => void = () => undefined;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      // Once its answer has reached the store (a part whose answer an abort cut off is not counted).
      // Part 1: parts complete in any order, and only an unbroken run from part 1 is kept.
      const { PartNumber } = args.input as { PartNumber?: number };
      if (context.commandName === 'UploadPartCommand' && PartNumber === 1) setTimeout(() => partStored(), 50);
      return result;
    },
    { step: 'initialize', name: 'partStored' },
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
  /**
   * One worker invocation: its own store, and a deadline that arrives once its download has served
   * `moves` bytes (the most one invocation moves), or never: first the pause, then, two parts'
   * worth of reading later, the end of the invocation (`signal`, which aborts whatever still runs).
   */
  const invocation = (
    moves = Number.POSITIVE_INFINITY,
    options: { readonly noPause?: boolean; readonly state?: DynamoDbSyncStateStore } = {},
  ) => {
    const pause = new AbortController();
    const deadline = new AbortController();
    // Without the pause: the end comes once a part is stored, the next still in flight.
    partStored = () => {
      if (options.noPause === true) deadline.abort(new Error('the invocation is about to time out'));
    };
    cdn.onServed = (served) => {
      if (served >= moves && options.noPause !== true) pause.abort();
      if (served >= moves + 2 * PART && options.noPause !== true)
        deadline.abort(new Error('the invocation is about to time out'));
    };
    const deps: ArchiveDeps = {
      state: options.state ?? state,
      objects: new S3ObjectStore({ client: s3, bucket, partSize: PART, queueSize: 2 }),
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
  const openUploads = async () =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
  return { state, bytes, cdn, invocation, openUploads, dynamodb, tableName };
}

const hex = (algorithm: string, bytes: Buffer) => createHash(algorithm).update(bytes).digest('hex');

describe('a video longer than one invocation moves', () => {
  it('is archived by the next invocations from the parts the earlier ones stored, byte-exact', async () => {
    const { state, bytes, cdn, invocation, openUploads } = await setUp();

    // Each invocation moves a little over two parts of the video's six: the first stops.
    await expect(invocation(2 * PART + 1)).rejects.toMatchObject({ name: 'TransferPausedError' });
    expect(await openUploads()).toBe(1);
    // The next ones go on until it is whole (each delivery a redelivery of the same message).
    let result: Awaited<ReturnType<typeof invocation>> | undefined;
    for (let delivery = 2; result === undefined && delivery <= 5; delivery++) {
      result = await invocation(2 * PART + 1).catch((error: unknown) => {
        expect(error).toMatchObject({ name: 'TransferPausedError' });
        return undefined;
      });
    }

    expect(result?.archived).toBe(1);
    const entry = await state.getEntry({ zone: video().zone, assetRecordName: video().assetRecordName });
    expect(entry?.status).toBe('archived');
    expect(entry?.versions[0]).toMatchObject({
      size: SIZE,
      md5: hex('md5', bytes),
      sha256: hex('sha256', bytes),
    });
    // Each invocation went on where the last stopped, at a part's end: less than the video twice.
    expect(cdn.offsets.length).toBeGreaterThanOrEqual(3);
    expect(cdn.offsets[0]).toBe(0);
    for (const [at, offset] of cdn.offsets.entries()) {
      expect(offset % PART).toBe(0);
      if (at > 0) expect(offset).toBeGreaterThan(cdn.offsets[at - 1] ?? 0);
    }
    expect(cdn.served).toBeLessThan(2 * SIZE);
    expect(await openUploads()).toBe(0);
    // The checkpoint went with the upload.
    expect(await state.getTransferCheckpoint(entry?.versions[0]?.key ?? '')).toBeUndefined();
  });

  it('keeps what a delivery stored when its end comes without the pause, and dies before its entry', async () => {
    const { state, bytes, cdn, invocation, openUploads } = await setUp();
    // The invocation's end with no pause before it (a pause that came too late): the parts
    // acknowledged by then stay behind a checkpoint.
    await expect(invocation(2 * PART + 1, { noPause: true })).rejects.toMatchObject({ name: 'AbortError' });
    const kept = cdn.served;
    // The next one completes the object and dies before the manifest entry is written.
    const dying = new Proxy(state, {
      get(target, name) {
        if (name === 'putEntries' || name === 'putEntry')
          return async () => {
            throw new Error('the invocation died');
          };
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(invocation(Number.POSITIVE_INFINITY, { state: dying })).rejects.toThrow(
      'the invocation died',
    );
    expect(cdn.offsets[1]).toBeGreaterThan(0);
    expect(await openUploads()).toBe(0);
    // The last adopts the object it finished: one object, no download.
    const result = await invocation();
    expect(result.archived).toBe(1);
    expect(cdn.offsets).toHaveLength(2);
    expect(cdn.served - kept).toBe(SIZE - (cdn.offsets[1] ?? 0));
    const entry = await state.getEntry({ zone: video().zone, assetRecordName: video().assetRecordName });
    expect(entry?.versions[0]).toMatchObject({ md5: hex('md5', bytes), sha256: hex('sha256', bytes) });
  });

  it('reads past the stored bytes unhashed when the CDN ignores the range (200, the whole file)', async () => {
    const { state, bytes, cdn, invocation, openUploads } = await setUp();
    await expect(invocation(3 * PART + 1)).rejects.toMatchObject({ name: 'TransferPausedError' });
    cdn.ignoreRanges = true;
    const result = await invocation();
    expect(result.archived).toBe(1);
    const entry = await state.getEntry({ zone: video().zone, assetRecordName: video().assetRecordName });
    expect(entry?.versions[0]).toMatchObject({ md5: hex('md5', bytes), sha256: hex('sha256', bytes) });
    expect(await openUploads()).toBe(0);
  });

  it('fails as before when an invocation moved nothing it could keep, and completes later', async () => {
    const { state, bytes, invocation } = await setUp();
    // The deadline arrives before a single part is stored: nothing to keep.
    await expect(invocation(0)).rejects.toMatchObject({ name: 'TransferPausedError' });
    const result = await invocation();
    expect(result.archived).toBe(1);
    const entry = await state.getEntry({ zone: video().zone, assetRecordName: video().assetRecordName });
    expect(entry?.versions[0]).toMatchObject({ sha256: hex('sha256', bytes) });
  });
});
