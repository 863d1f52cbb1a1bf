/**
 * A video too long for one worker invocation is uploaded across invocations: the store stops at
 * `pause` after the parts in flight, hands back a checkpoint (the upload, the parts from part 1,
 * the hashes' states), and a new store (the next invocation's) continues from it to one object,
 * byte-exact, finished as every multipart put is (md5chksum, late metadata, no staging tag, no
 * open upload). A checkpoint S3 does not bear out (upload gone, a part missing or short, another
 * body) starts over from byte 0 and never completes a mix. Against the local S3 (ListParts).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import type { ResumableOpenOptions, UploadCheckpoint } from '#ports/object-store.ts';
import { readStream } from '#test/fakes/generated-stream.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
const PART = MIN_PART_SIZE;
const SIZE = 4 * PART + 12_345;
const BYTES = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 2654435761) >>> 24));
let local: LocalS3Bucket;
let client: S3Client;
/** Each UploadPart's `x-amz-checksum-crc32` ('' without one), and the ListParts sent. */
const partChecksums: string[] = [];
let listPartsSent = 0;
/** What the next metadata copy (CopyObject) meets once: a 500, or an answer naming other bytes. */
let nextCopy: 'fails' | 'other-bytes' | undefined;
/** The conditional deletes sent (a completed object's take-back), by the ETag they name. */
const deletes: string[] = [];

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'ListPartsCommand') listPartsSent++;
      if (context.commandName === 'DeleteObjectCommand')
        deletes.push((args.input as { IfMatch?: string }).IfMatch ?? '');
      const copy = context.commandName === 'CopyObjectCommand' ? nextCopy : undefined;
      if (copy !== undefined) nextCopy = undefined;
      if (copy === 'fails')
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      const result = await next(args);
      if (copy === 'other-bytes') {
        const output = result.output as { CopyObjectResult?: { ETag?: string } };
        output.CopyObjectResult = { ...output.CopyObjectResult, ETag: `"${'0'.repeat(32)}"` };
      }
      if (context.commandName === 'UploadPartCommand') {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        partChecksums.push(headers['x-amz-checksum-crc32'] ?? '');
      }
      return result;
    },
    { step: 'finalizeRequest', name: 'observe' },
  );
});
afterAll(() => local.close());

/** A new store: each invocation builds its own. ListParts pages of 2 here, to page through them. */
const store = () =>
  new S3ArchivingObjectStore({ client, bucket: BUCKET, partSize: PART, queueSize: 2, listPartsPageSize: 2 });

const options = (): ResumableOpenOptions => ({
  contentType: 'video/quicktime',
  contentLength: SIZE,
  metadata: { mtime: '1700000000' },
  lateMetadata: (digest) => ({ 'icloud-sha256': digest.sha256 }),
});

/** `BYTES` from `offset`, in 64 KiB chunks; fires `pause` once `pauseAfter` bytes were read. */
function body(offset: number, pause?: { controller: AbortController; after: number }): Readable {
  let at = offset;
  return new Readable({
    read() {
      if (pause !== undefined && at - offset >= pause.after) pause.controller.abort();
      if (at >= SIZE) return void this.push(null);
      const chunk = BYTES.subarray(at, Math.min(SIZE, at + 64 * 1024));
      at += chunk.length;
      this.push(chunk);
    },
  });
}

const hex = (algorithm: string) => createHash(algorithm).update(BYTES).digest('hex');

async function openUploads(key: string): Promise<number> {
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return (listed.Uploads ?? []).filter((upload) => upload.Key === key).length;
}

/** Transfers until `after` bytes were read in this invocation, then pauses. */
async function pausedAfter(key: string, after: number, from?: UploadCheckpoint): Promise<UploadCheckpoint> {
  const upload = await store().openResumable(key, options(), from);
  const controller = new AbortController();
  const saved: UploadCheckpoint[] = [];
  const outcome = await upload.transfer(body(upload.offset, { controller, after }), {
    pause: controller.signal,
    save: async (checkpoint) => void saved.push(checkpoint),
  });
  if (!('paused' in outcome)) throw new Error('expected a pause');
  expect(saved.at(-1)).toEqual(outcome.paused);
  return outcome.paused;
}

async function finish(key: string, from: UploadCheckpoint | undefined) {
  const upload = await store().openResumable(key, options(), from);
  const outcome = await upload.transfer(body(upload.offset), { save: async () => undefined });
  if (!('done' in outcome)) throw new Error('expected completion');
  return { upload, done: outcome.done };
}

async function expectArchived(key: string) {
  const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  expect(
    createHash('sha256')
      .update(await readStream(got.Body as Readable))
      .digest('hex'),
  ).toBe(hex('sha256'));
  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  expect(head.Metadata).toMatchObject({
    mtime: '1700000000',
    'icloud-sha256': hex('sha256'),
    md5chksum: createHash('md5').update(BYTES).digest('base64'),
  });
  const tags = await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
  expect(tags.TagSet ?? []).toEqual([]);
  expect(await openUploads(key)).toBe(0);
}

describe('a resumable upload on the local S3', () => {
  it('pauses after the parts in flight and is completed by another store from the checkpoint', async () => {
    const key = 'library/2026/12/paused.mov';
    const checkpoint = await pausedAfter(key, 2 * PART + 100);
    expect(checkpoint.parts).toBeGreaterThanOrEqual(2);
    expect(checkpoint.bytes).toBe(checkpoint.parts * PART);
    expect(checkpoint.contentLength).toBe(SIZE);
    expect(await openUploads(key)).toBe(1);
    partChecksums.length = 0;
    const { upload, done } = await finish(key, checkpoint);
    expect(upload.offset).toBe(checkpoint.bytes);
    expect(upload.restarted).toBeUndefined();
    expect(done).toMatchObject({ key, size: SIZE, md5: hex('md5'), sha256: hex('sha256'), multipart: true });
    // Every part carries its CRC32: no whole-object ETag checks a multipart object.
    expect(partChecksums.length).toBe(Math.ceil(SIZE / PART) - checkpoint.parts);
    expect(partChecksums.every((value) => value !== '')).toBe(true);
    await expectArchived(key);
  });

  it('pauses more than once, listing the parts it keeps page by page', async () => {
    const key = 'library/2026/12/three-invocations.mov';
    const first = await pausedAfter(key, PART + 1);
    const second = await pausedAfter(key, PART + 1, first);
    expect(second.parts).toBeGreaterThan(first.parts);
    expect(second.uploadId).toBe(first.uploadId);
    listPartsSent = 0;
    const { upload } = await finish(key, second);
    expect(upload.offset).toBe(second.bytes);
    expect(listPartsSent).toBe(Math.max(1, Math.ceil(second.parts / 2)));
    await expectArchived(key);
  });

  it('starts over when S3 no longer knows the upload (NoSuchUpload: the lifecycle rule aborted it)', async () => {
    const key = 'library/2026/12/aborted.mov';
    const checkpoint = await pausedAfter(key, PART + 1);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: checkpoint.uploadId }),
    );
    const { upload, done } = await finish(key, checkpoint);
    expect(upload.restarted).toBe('no-such-upload');
    expect(upload.offset).toBe(0);
    expect(done.sha256).toBe(hex('sha256'));
    await expectArchived(key);
  });

  it('starts over when a part it counts is short or missing, aborting the old upload', async () => {
    for (const damage of ['short', 'missing'] as const) {
      const key = `library/2026/12/damaged-${damage}.mov`;
      const checkpoint = await pausedAfter(key, PART + 1);
      expect(checkpoint.parts).toBeGreaterThanOrEqual(1);
      const upload = await store().openResumable(
        key,
        options(),
        damage === 'short'
          ? await (async () => {
              await client.send(
                new UploadPartCommand({
                  Bucket: BUCKET,
                  Key: key,
                  UploadId: checkpoint.uploadId,
                  PartNumber: checkpoint.parts,
                  Body: Buffer.alloc(100),
                }),
              );
              return checkpoint;
            })()
          : // A part the checkpoint counts that S3 never got.
            { ...checkpoint, parts: checkpoint.parts + 1, bytes: (checkpoint.parts + 1) * PART },
      );
      expect(upload.restarted).toBe('parts-differ');
      expect(upload.offset).toBe(0);
      const outcome = await upload.transfer(body(0), { save: async () => undefined });
      expect('done' in outcome && outcome.done.sha256).toBe(hex('sha256'));
      await expectArchived(key);
    }
  });

  it('starts over for a checkpoint of another body, or hash states it cannot load', async () => {
    const key = 'library/2026/12/other.mov';
    const checkpoint = await pausedAfter(key, PART + 1);
    const other = await store().openResumable(key, options(), { ...checkpoint, contentLength: SIZE + 1 });
    expect(other.restarted).toBe('another-body');
    expect(other.offset).toBe(0);
    await other.abort();
    // Another file of the same length at the key (Apple's fileChecksum, as the upload's bodyId).
    const named = await pausedAfter(key, PART + 1);
    const renamed = await store().openResumable(key, { ...options(), bodyId: 'another-file' }, named);
    expect(renamed.restarted).toBe('another-body');
    await renamed.abort();
    const again = await pausedAfter(key, PART + 1);
    const unreadable = await store().openResumable(key, options(), { ...again, md5State: 'AAAA' });
    expect(unreadable.restarted).toBe('state-unreadable');
    const outcome = await unreadable.transfer(body(0), { save: async () => undefined });
    expect('done' in outcome && outcome.done.md5).toBe(hex('md5'));
    await expectArchived(key);
  });

  it('keeps its parts and a checkpoint when the body fails mid-way; saves a new upload before its first part', async () => {
    const key = 'library/2026/12/dropped.mov';
    const upload = await store().openResumable(key, options(), undefined);
    const saved: UploadCheckpoint[] = [];
    const dropping = body(0);
    let read = 0;
    dropping.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > 2 * PART + 1) dropping.destroy(new Error('socket hang up'));
    });
    dropping.pause();
    await expect(
      upload.transfer(dropping, { save: async (checkpoint) => void saved.push(checkpoint) }),
    ).rejects.toThrow('socket hang up');
    expect(saved.at(-1)?.parts).toBeGreaterThanOrEqual(1);
    const { upload: resumed } = await finish(key, saved.at(-1));
    expect(resumed.offset).toBe(saved.at(-1)?.bytes);
    await expectArchived(key);

    // A new upload is saved before its first part: a delivery that dies leaves one the next continues.
    const early = await store().openResumable('library/2026/12/early.mov', options(), undefined);
    const failing = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    const first: UploadCheckpoint[] = [];
    await expect(
      early.transfer(failing, { save: async (checkpoint) => void first.push(checkpoint) }),
    ).rejects.toThrow('socket hang up');
    expect(first.map((checkpoint) => checkpoint.parts)).toEqual([0]);
    expect(await openUploads('library/2026/12/early.mov')).toBe(1);
    const { upload: continued } = await finish('library/2026/12/early.mov', first[0]);
    expect(continued.restarted).toBeUndefined();
    await expectArchived('library/2026/12/early.mov');

    // Nothing saved (the lease lost before the first save): nothing of it is left.
    const unsaved = await store().openResumable('library/2026/12/unsaved.mov', options(), undefined);
    const refusing = async () => {
      throw new Error('lost the transfer lease');
    };
    await expect(unsaved.transfer(body(0), { save: refusing })).rejects.toThrow('lost the transfer lease');
    expect(await openUploads('library/2026/12/unsaved.mov')).toBe(0);
  });

  it('saves a checkpoint of every part before the completion; one S3 no longer bears out starts over', async () => {
    const key = 'library/2026/12/completing.mov';
    const upload = await store().openResumable(key, options(), undefined);
    const saved: UploadCheckpoint[] = [];
    await upload.transfer(body(0), { save: async (checkpoint) => void saved.push(checkpoint) });
    await expectArchived(key);
    const completing = saved.at(-1);
    expect(completing).toMatchObject({
      parts: 5,
      bytes: SIZE,
      etag: expect.stringMatching(/^[0-9a-f]{32}-5$/),
    });
    // The upload is gone and the object at the key is the finished copy (another ETag): from byte 0.
    const again = await store().openResumable(key, options(), completing);
    expect(again.restarted).toBe('no-such-upload');
    expect(again.offset).toBe(0);
    await again.abort();
    // One that counts every part without being a completing one is no checkpoint of this body.
    const odd = await store().openResumable(key, options(), completing && { ...completing, parts: 4 });
    expect(odd.restarted).toBe('another-body');
    await odd.abort();
  });

  it('leaves a completed object whose finish failed staged for the next store, unless S3 stored other bytes', async () => {
    const key = 'library/2026/12/finish-failed.mov';
    const saved: UploadCheckpoint[] = [];
    const save = async (checkpoint: UploadCheckpoint) => void saved.push(checkpoint);
    nextCopy = 'fails';
    const upload = await store().openResumable(key, options(), undefined);
    await expect(upload.transfer(body(0), { save })).rejects.toMatchObject({ name: 'InternalError' });
    const staged = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(deletes).toEqual([]);
    expect(staged.Metadata?.md5chksum).toBeUndefined();
    expect(`"${saved.at(-1)?.etag}"`).toBe(staged.ETag);
    // The next store only finishes it: the body it is given is empty.
    const next = await store().openResumable(key, options(), saved.at(-1));
    expect(next.offset).toBe(SIZE);
    const outcome = await next.transfer(Readable.from([]), { save });
    expect(outcome).toMatchObject({ done: { size: SIZE, md5: hex('md5'), sha256: hex('sha256') } });
    await expectArchived(key);

    // A copy of other bytes than were hashed is taken back: the next store starts over.
    const corrupt = 'library/2026/12/finish-corrupt.mov';
    nextCopy = 'other-bytes';
    const first = await store().openResumable(corrupt, options(), undefined);
    await expect(first.transfer(body(0), { save })).rejects.toMatchObject({
      name: 'UploadDigestMismatchError',
    });
    // Taken back by the ETag the copy's answer named (here not the stored one's, so S3 refuses it).
    expect(deletes).toEqual([`"${'0'.repeat(32)}"`]);
    const over = await store().openResumable(corrupt, options(), saved.at(-1));
    expect(over.restarted).toBe('no-such-upload');
    await over.abort();
  });

  it('fails a body longer than declared, aborting its upload; one that ends short keeps its parts', async () => {
    const key = 'library/2026/12/long.mov';
    const upload = await store().openResumable(key, { ...options(), contentLength: SIZE - 10 }, undefined);
    await expect(upload.transfer(body(0), { save: async () => undefined })).rejects.toMatchObject({
      name: 'ContentLengthMismatchError',
    });
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    expect(await openUploads(key)).toBe(0);

    // Short: a connection dropped, a prefix still. The parts stay behind a checkpoint.
    const shortKey = 'library/2026/12/short.mov';
    const short = await store().openResumable(
      shortKey,
      { ...options(), contentLength: SIZE + 10 },
      undefined,
    );
    const saved: UploadCheckpoint[] = [];
    await expect(
      short.transfer(body(0), { save: async (checkpoint) => void saved.push(checkpoint) }),
    ).rejects.toMatchObject({ name: 'ContentLengthMismatchError' });
    expect(saved.at(-1)?.parts).toBe(4);
    expect(await openUploads(shortKey)).toBe(1);
  });
});
