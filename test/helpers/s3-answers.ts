/**
 * What a local S3 answered, read the same way by the local S3's own tests: the error a request was
 * refused with, a HEAD's status, an object's bytes.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { expect } from 'vitest';

/** The S3 error `send` was refused with; fails the test when it succeeded or threw something else. */
export async function s3Refusal(
  send: Promise<unknown>,
): Promise<S3ServiceException & Record<string, unknown>> {
  const error = await send.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(S3ServiceException);
  return error as S3ServiceException & Record<string, unknown>;
}

/** A HEAD's HTTP status: 200 for an object, the refusal's (404 when there is none). */
export function headStatus(client: S3Client, bucket: string, key: string): Promise<number | undefined> {
  return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    (head) => head.$metadata.httpStatusCode,
    (error: S3ServiceException) => error.$metadata.httpStatusCode,
  );
}

/** The object's bytes. */
export async function readObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}
