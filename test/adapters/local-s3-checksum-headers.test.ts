/**
 * The local S3 checks a body against the additional checksum a plain `x-amz-checksum-*` header
 * declares, as Amazon S3 does (functions/local/servers/s3-checksum-headers.ts): a body that does
 * not match is refused with `400 BadDigest` and nothing is stored; a value that is not the
 * base64 of a checksum of the algorithm's size, or two checksum headers, with
 * `400 InvalidRequest`. CRC32, CRC32C, SHA1 and SHA256, PutObject and UploadPart, small bodies
 * (held whole) and large ones (streamed). The right values come from the SDK's own checksum code
 * (a client with `requestChecksumCalculation: 'WHEN_SUPPORTED'`), so the local S3's
 * implementation is checked against another.
 */
import { readdir } from 'node:fs/promises';
import {
  type ChecksumAlgorithm,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMP_MARK } from '#local/servers/atomic-s3rver-store.ts';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { checksumOf } from '#local/servers/s3-checksum-headers.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';
import { headStatus, readObject, s3Refusal } from '#test/helpers/s3-answers.ts';
import { expectSameBytes } from '#test/helpers/same-bytes.ts';

const BUCKET = 'archive';
let local: LocalS3Bucket;
let client: S3Client;
/** A client that computes the checksum the request names, as the SDK does against AWS. */
let computing: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
  computing = new S3Client({
    ...localS3ClientConfig(local.server.endpoint),
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    maxAttempts: 1,
  });
  computing.middlewareStack.add(
    (next) => async (args) => {
      const { headers } = args.request as { headers: Record<string, string> };
      sent = Object.fromEntries(
        Object.entries(headers).filter(([name]) => name.startsWith('x-amz-checksum-')),
      );
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'recordChecksumHeaders' },
  );
});
/** The `x-amz-checksum-*` headers of the last request `computing` sent. */
let sent: Record<string, string> = {};

/** The base64 checksum of `body` as the local S3 computes it. */
function localChecksum(algorithm: (typeof ALGORITHMS)[number], body: Buffer): string {
  const checksum = checksumOf(algorithm);
  checksum.update(body);
  return checksum.digest().toString('base64');
}
afterAll(async () => {
  computing.destroy();
  await local.close();
});

const ALGORITHMS = ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const;
const INPUT_FIELD = {
  CRC32: 'ChecksumCRC32',
  CRC32C: 'ChecksumCRC32C',
  SHA1: 'ChecksumSHA1',
  SHA256: 'ChecksumSHA256',
} as const;
const BYTES = { CRC32: 4, CRC32C: 4, SHA1: 20, SHA256: 32 } as const;

async function temporaryFiles(): Promise<string[]> {
  return (await readdir(local.dir, { recursive: true })).filter((file) => file.includes(TEMP_MARK));
}

/** A value of the right size that is not the body's checksum (the body's own, one bit flipped). */
function wrongValue(algorithm: (typeof ALGORITHMS)[number], body: Buffer): string {
  const value = Buffer.from(localChecksum(algorithm, body), 'base64');
  value[0] = value[0]! ^ 1;
  return value.toString('base64');
}

describe('the local S3 and x-amz-checksum-* on PutObject', () => {
  for (const algorithm of ALGORITHMS) {
    for (const size of [1024, 200 * 1024]) {
      it(`stores a ${size}-byte body whose ${algorithm} matches, and refuses one that does not with BadDigest`, async () => {
        const body = Buffer.alloc(size, 0x5a);
        body.write(`${algorithm}-${size}`);
        const good = `good/${algorithm}-${size}.bin`;
        const put = await computing.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: good,
            Body: body,
            ChecksumAlgorithm: algorithm as ChecksumAlgorithm,
          }),
        );
        expect(put.$metadata.httpStatusCode).toBe(200);
        // The SDK sent its checksum as a plain header (a body in memory), and it is ours.
        expect(sent).toEqual({
          [`x-amz-checksum-${algorithm.toLowerCase()}`]: localChecksum(algorithm, body),
        });
        expectSameBytes(await readObject(client, BUCKET, good), body, good);

        const bad = `bad/${algorithm}-${size}.bin`;
        const error = await s3Refusal(
          client.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: bad,
              Body: body,
              [INPUT_FIELD[algorithm]]: wrongValue(algorithm, body),
            }),
          ),
        );
        expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
          'BadDigest',
          400,
          `The ${algorithm} you specified did not match the calculated checksum.`,
        ]);
        expect(await headStatus(client, BUCKET, bad)).toBe(404);
        expect(await temporaryFiles()).toEqual([]);
      });
    }
  }

  it('refuses a value that is not the base64 of a checksum of its size with InvalidRequest, storing nothing', async () => {
    const body = Buffer.alloc(1024, 1);
    for (const algorithm of ALGORITHMS) {
      const tooShort = Buffer.alloc(BYTES[algorithm] - 1, 7).toString('base64');
      for (const [at, value] of ['not base64!', tooShort].entries()) {
        const key = `invalid/${algorithm}-${at}.bin`;
        const error = await s3Refusal(
          client.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, [INPUT_FIELD[algorithm]]: value }),
          ),
        );
        expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
          'InvalidRequest',
          400,
          `Value for x-amz-checksum-${algorithm.toLowerCase()} header is invalid.`,
        ]);
        expect(await headStatus(client, BUCKET, key)).toBe(404);
      }
    }
  });

  it('refuses two checksum headers with InvalidRequest', async () => {
    const body = Buffer.alloc(1024, 2);
    const crc32 = checksumOf('CRC32');
    crc32.update(body);
    const sha256 = checksumOf('SHA256');
    sha256.update(body);
    const error = await s3Refusal(
      client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'two-checksums.bin',
          Body: body,
          ChecksumCRC32: crc32.digest().toString('base64'),
          ChecksumSHA256: sha256.digest().toString('base64'),
        }),
      ),
    );
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['InvalidRequest', 400]);
    expect(await headStatus(client, BUCKET, 'two-checksums.bin')).toBe(404);
  });
});

describe('the local S3 and x-amz-checksum-* on UploadPart', () => {
  it('refuses a part whose checksum does not match, stores a part whose checksum does', async () => {
    const key = 'multipart.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const uploadDir = (await readdir(local.dir, { recursive: true })).find((file) =>
      file.endsWith(UploadId!),
    );
    expect(uploadDir).toBeDefined();
    for (const algorithm of ALGORITHMS) {
      for (const size of [1024, 200 * 1024]) {
        const body = Buffer.alloc(size, 3);
        const error = await s3Refusal(
          client.send(
            new UploadPartCommand({
              Bucket: BUCKET,
              Key: key,
              UploadId,
              PartNumber: 1,
              Body: body,
              [INPUT_FIELD[algorithm]]: wrongValue(algorithm, body),
            }),
          ),
        );
        expect([error.name, error.$metadata.httpStatusCode]).toEqual(['BadDigest', 400]);
        expect(await readdir(`${local.dir}/${uploadDir}`)).not.toContain('1');
        const stored = await computing.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId,
            PartNumber: 2,
            Body: body,
            ChecksumAlgorithm: algorithm as ChecksumAlgorithm,
          }),
        );
        expect(stored.$metadata.httpStatusCode).toBe(200);
        expect(sent).toEqual({
          [`x-amz-checksum-${algorithm.toLowerCase()}`]: localChecksum(algorithm, body),
        });
      }
    }
    expect(await temporaryFiles()).toEqual([]);
  });
});
