/**
 * CompleteMultipartUpload on the local S3 checks what Amazon S3 checks, with S3's status, code
 * and error body: a listed part never uploaded or whose ETag is not the stored part's
 * (`400 InvalidPart`; quoted and unquoted ETags both accepted), a list not in strictly ascending
 * part-number order (`400 InvalidPartOrder`), a part other than the last under 5 MiB
 * (`400 EntityTooSmall`), an empty or malformed list (`400 MalformedXML`), an upload that does
 * not exist (`404 NoSuchUpload`). A refused request assembles and stores nothing, and the upload
 * stays open: the client may complete it correctly afterwards, or abort it. s3rver alone
 * assembled whatever parts it found on disk in number order, ignored the ETags and sizes, and
 * answered a part without an ETag or a missing part with a 500.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMP_MARK } from '#local/servers/atomic-s3rver-store.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';
import { headStatus, readObject, s3Refusal } from '#test/helpers/s3-answers.ts';

const BUCKET = 'archive';
const MiB = 1024 * 1024;
let local: LocalS3Bucket;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  ({ client } = local);
});
afterAll(() => local.close());

const INVALID_PART =
  "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.";
const INVALID_PART_ORDER =
  'The list of parts was not in ascending order. Parts must be ordered by part number.';
const ENTITY_TOO_SMALL = 'Your proposed upload is smaller than the minimum allowed size';
const MALFORMED_XML =
  'The XML you provided was not well-formed or did not validate against our published schema';

/** The SDK exception `send` rejects with (a test failure when it resolves). */

interface OpenUpload {
  readonly key: string;
  readonly uploadId: string;
  /** The parts uploaded, by number: the ETag S3 answered (quoted) and the bytes. */
  readonly parts: Map<number, { readonly etag: string; readonly body: Buffer }>;
}

async function openUpload(key: string, parts: ReadonlyArray<readonly [number, number]>): Promise<OpenUpload> {
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const uploadId = created.UploadId ?? '';
  const uploaded = new Map<number, { etag: string; body: Buffer }>();
  for (const [number, size] of parts) {
    const body = Buffer.alloc(size, number);
    const answer = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: number, Body: body }),
    );
    uploaded.set(number, { etag: answer.ETag ?? '', body });
  }
  return { key, uploadId, parts: uploaded };
}

const complete = (upload: OpenUpload, parts: CompletedPart[] | undefined) =>
  client.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: upload.key,
      UploadId: upload.uploadId,
      ...(parts === undefined ? {} : { MultipartUpload: { Parts: parts } }),
    }),
  );

/** The parts as S3 answered them, in number order: what a correct completion lists. */
const listed = (upload: OpenUpload): CompletedPart[] =>
  [...upload.parts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([PartNumber, { etag }]) => ({ PartNumber, ETag: etag }));

/** Sends CompleteMultipartUpload with `body` as its (signed) request body instead of the SDK's. */
function completeWithBody(upload: OpenUpload, body: string) {
  const command = new CompleteMultipartUploadCommand({
    Bucket: BUCKET,
    Key: upload.key,
    UploadId: upload.uploadId,
    MultipartUpload: { Parts: [] },
  });
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown; headers: Record<string, string> };
      request.body = body;
      request.headers['content-length'] = String(Buffer.byteLength(body));
      return next(args);
    },
    { step: 'serialize', priority: 'low', name: 'replaceCompleteBody' },
  );
  return client.send(command);
}

const openUploadIds = async () =>
  ((await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).map(
    (upload) => upload.UploadId,
  );

/** Nothing was assembled or stored, and the upload is still open. */
async function expectRefusedCleanly(upload: OpenUpload): Promise<void> {
  expect(await headStatus(client, BUCKET, upload.key)).toBe(404);
  expect(await openUploadIds()).toContain(upload.uploadId);
  const files = await readdir(local.dir, { recursive: true });
  expect(files.filter((file) => file.includes(TEMP_MARK))).toEqual([]);
}

/** Completes `upload` correctly and checks the object is its parts, in order. */
async function expectCompletesCorrectly(upload: OpenUpload): Promise<void> {
  await complete(upload, listed(upload));
  const expected = Buffer.concat(listed(upload).map(({ PartNumber }) => upload.parts.get(PartNumber!)!.body));
  expect((await readObject(client, BUCKET, upload.key)).equals(expected)).toBe(true);
  expect(await openUploadIds()).not.toContain(upload.uploadId);
}

const unquoted = (etag: string) => etag.replaceAll('"', '');

describe('CompleteMultipartUpload on the local S3: InvalidPart', () => {
  it('refuses a listed part that was never uploaded, stores nothing, and the upload can still complete', async () => {
    const upload = await openUpload('invalid-part/missing.bin', [
      [1, 5 * MiB],
      [3, 1024],
    ]);
    const [one, three] = listed(upload);
    const neverUploaded = { PartNumber: 2, ETag: '"0123456789abcdef0123456789abcdef"' };
    const error = await s3Refusal(complete(upload, [one!, neverUploaded, three!]));
    expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
      'InvalidPart',
      400,
      INVALID_PART,
    ]);
    // S3's body names the part, its ETag unquoted, and the upload.
    expect(error).toMatchObject({
      UploadId: upload.uploadId,
      PartNumber: '2',
      ETag: '0123456789abcdef0123456789abcdef',
    });
    await expectRefusedCleanly(upload);
    await expectCompletesCorrectly(upload);
  });

  it("refuses a part listed with an ETag that is not the stored part's, quoted or not", async () => {
    const upload = await openUpload('invalid-part/etag.bin', [
      [1, 5 * MiB],
      [2, 1024],
    ]);
    const [one, two] = listed(upload);
    for (const wrong of [two!.ETag!, unquoted(two!.ETag!)]) {
      const error = await s3Refusal(complete(upload, [{ PartNumber: 1, ETag: wrong }, two!]));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['InvalidPart', 400]);
      expect(error).toMatchObject({ PartNumber: '1', ETag: unquoted(two!.ETag!) });
    }
    // A part uploaded again under its number replaces the first: the first's ETag no longer fits.
    const replaced = one!.ETag!;
    const again = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: upload.key,
        UploadId: upload.uploadId,
        PartNumber: 1,
        Body: Buffer.alloc(5 * MiB, 7),
      }),
    );
    const error = await s3Refusal(complete(upload, [{ PartNumber: 1, ETag: replaced }, two!]));
    expect(error.name).toBe('InvalidPart');
    await expectRefusedCleanly(upload);
    upload.parts.set(1, { etag: again.ETag ?? '', body: Buffer.alloc(5 * MiB, 7) });
    await expectCompletesCorrectly(upload);
  });

  it("checks a part whose kept MD5 a crash lost against the part's bytes", async () => {
    const upload = await openUpload('invalid-part/no-kept-md5.bin', [
      [1, 5 * MiB],
      [2, 1024],
    ]);
    // A kill between a part's rename and its `.md5` leaves the part without one.
    const files = await readdir(local.dir, { recursive: true });
    const kept = files.filter((file) => file.includes(upload.uploadId) && file.endsWith('.md5'));
    expect(kept.map((file) => path.basename(file)).sort()).toEqual(['1.md5', '2.md5']);
    for (const file of kept) await rm(path.join(local.dir, file));
    const [one, two] = listed(upload);
    const error = await s3Refusal(complete(upload, [one!, { ...two!, ETag: one!.ETag }]));
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['InvalidPart', 400]);
    await expectCompletesCorrectly(upload);
  });

  it('accepts the ETags unquoted, as S3 does', async () => {
    const upload = await openUpload('invalid-part/unquoted.bin', [
      [1, 5 * MiB],
      [2, 10],
    ]);
    await complete(
      upload,
      listed(upload).map((part) => ({ ...part, ETag: unquoted(part.ETag!) })),
    );
    expect((await readObject(client, BUCKET, upload.key)).length).toBe(5 * MiB + 10);
  });

  it('assembles only the parts listed: a part uploaded but not listed is left out', async () => {
    const upload = await openUpload('invalid-part/unlisted.bin', [
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, 100],
    ]);
    const [one, , three] = listed(upload);
    await complete(upload, [one!, three!]);
    const object = await readObject(client, BUCKET, upload.key);
    expect(object.equals(Buffer.concat([upload.parts.get(1)!.body, upload.parts.get(3)!.body]))).toBe(true);
  });
});

describe('CompleteMultipartUpload on the local S3: InvalidPartOrder', () => {
  it('refuses parts not in ascending order, or a part listed twice; the upload can then be aborted', async () => {
    const upload = await openUpload('order/descending.bin', [
      [1, 5 * MiB],
      [2, 1024],
    ]);
    const [one, two] = listed(upload);
    for (const parts of [
      [two!, one!],
      [one!, one!, two!],
    ]) {
      const error = await s3Refusal(complete(upload, parts));
      expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
        'InvalidPartOrder',
        400,
        INVALID_PART_ORDER,
      ]);
      expect(error).toMatchObject({ UploadId: upload.uploadId });
      await expectRefusedCleanly(upload);
    }
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: upload.key, UploadId: upload.uploadId }),
    );
    expect(await openUploadIds()).not.toContain(upload.uploadId);
    expect(await headStatus(client, BUCKET, upload.key)).toBe(404);
  });

  it('accepts part numbers with gaps, in ascending order', async () => {
    const upload = await openUpload('order/gaps.bin', [
      [2, 5 * MiB],
      [7, 5 * MiB],
      [9, 3],
    ]);
    await expectCompletesCorrectly(upload);
  });
});

describe('CompleteMultipartUpload on the local S3: EntityTooSmall', () => {
  it('refuses a part under 5 MiB that is not the last, naming it, and stores nothing', async () => {
    const upload = await openUpload('small/middle.bin', [
      [1, 5 * MiB],
      [2, 5 * MiB - 1],
      [3, 5 * MiB],
    ]);
    const error = await s3Refusal(complete(upload, listed(upload)));
    expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
      'EntityTooSmall',
      400,
      ENTITY_TOO_SMALL,
    ]);
    expect(error).toMatchObject({
      ProposedSize: String(5 * MiB - 1),
      MinSizeAllowed: String(5 * MiB),
      PartNumber: '2',
      ETag: unquoted(upload.parts.get(2)!.etag),
    });
    await expectRefusedCleanly(upload);
    // Listed without the small part, the same upload completes.
    const [one, , three] = listed(upload);
    await complete(upload, [one!, three!]);
    expect((await readObject(client, BUCKET, upload.key)).length).toBe(10 * MiB);
  });

  it('accepts a small last part, and a single small part', async () => {
    await expectCompletesCorrectly(
      await openUpload('small/last.bin', [
        [1, 5 * MiB],
        [2, 1],
      ]),
    );
    await expectCompletesCorrectly(await openUpload('small/only.bin', [[1, 1024]]));
  });
});

describe('CompleteMultipartUpload on the local S3: MalformedXML', () => {
  it('refuses an empty part list and a request without one', async () => {
    const upload = await openUpload('malformed/empty.bin', [[1, 1024]]);
    for (const parts of [[], undefined]) {
      const error = await s3Refusal(complete(upload, parts));
      expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
        'MalformedXML',
        400,
        MALFORMED_XML,
      ]);
    }
    await expectRefusedCleanly(upload);
    await expectCompletesCorrectly(upload);
  });

  it('refuses a part without its ETag or its PartNumber', async () => {
    const upload = await openUpload('malformed/fields.bin', [[1, 1024]]);
    const [one] = listed(upload);
    for (const parts of [[{ PartNumber: 1 }], [{ ETag: one!.ETag! }]]) {
      const error = await s3Refusal(complete(upload, parts));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['MalformedXML', 400]);
    }
    await expectRefusedCleanly(upload);
  });

  it('refuses a body that is not XML, or not a part list', async () => {
    const upload = await openUpload('malformed/body.bin', [[1, 1024]]);
    const etag = upload.parts.get(1)!.etag;
    for (const body of [
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>',
      'not xml at all',
      `<Something><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></Something>`,
      `<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`,
    ]) {
      const error = await s3Refusal(completeWithBody(upload, body));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['MalformedXML', 400]);
    }
    await expectRefusedCleanly(upload);
    // The same raw path with a correct list completes: the refusals above are the body's.
    await completeWithBody(
      upload,
      `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;${unquoted(etag)}&quot;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`,
    );
    expect((await readObject(client, BUCKET, upload.key)).length).toBe(1024);
  });
});

describe('CompleteMultipartUpload on the local S3: NoSuchUpload', () => {
  it('refuses an upload that was aborted or never issued with 404 NoSuchUpload', async () => {
    const aborted = await openUpload('no-such-upload/aborted.bin', [[1, 1024]]);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: aborted.key, UploadId: aborted.uploadId }),
    );
    const neverIssued: OpenUpload = { ...aborted, uploadId: '0123456789abcdef0123456789abcdef' };
    for (const upload of [aborted, neverIssued, { ...aborted, uploadId: '../escape' }]) {
      const error = await s3Refusal(complete(upload, listed(aborted)));
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['NoSuchUpload', 404]);
      expect(error).toMatchObject({ UploadId: upload.uploadId });
    }
    expect(await headStatus(client, BUCKET, aborted.key)).toBe(404);
  });
});

describe('CompleteMultipartUpload repeated after it succeeded', () => {
  // S3 answers a repeat of a completion that succeeded (the SDK retries one whose answer was
  // lost) with the same 200 for some hours, instead of NoSuchUpload; an abort of it with 204.
  it('answers the same 200 and changes nothing; the upload is no longer open to parts', async () => {
    const upload = await openUpload('repeat/same.bin', [
      [1, 5 * MiB],
      [2, 1024],
    ]);
    const first = await complete(upload, listed(upload));
    const again = await complete(upload, listed(upload));
    expect(again.ETag).toBe(first.ETag);
    expect((await readObject(client, BUCKET, upload.key)).length).toBe(5 * MiB + 1024);
    expect(await openUploadIds()).not.toContain(upload.uploadId);
    const part = await s3Refusal(
      client.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: upload.key,
          UploadId: upload.uploadId,
          PartNumber: 3,
          Body: Buffer.alloc(10),
        }),
      ),
    );
    expect([part.name, part.$metadata.httpStatusCode]).toEqual(['NoSuchUpload', 404]);
    const aborted = await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: upload.key, UploadId: upload.uploadId }),
    );
    expect(aborted.$metadata.httpStatusCode).toBe(204);
    expect((await readObject(client, BUCKET, upload.key)).length).toBe(5 * MiB + 1024);
  });

  it('refuses a repeat listing other parts with NoSuchUpload', async () => {
    const upload = await openUpload('repeat/other.bin', [
      [1, 5 * MiB],
      [2, 1024],
    ]);
    const [one, two] = listed(upload);
    await complete(upload, [one!, two!]);
    const error = await s3Refusal(complete(upload, [one!]));
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['NoSuchUpload', 404]);
    expect((await readObject(client, BUCKET, upload.key)).length).toBe(5 * MiB + 1024);
  });
});
