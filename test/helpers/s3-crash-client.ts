/**
 * A stand-in for the `sync` process in crash tests: starts the local S3 on a data directory,
 * archives a first version of a key, then starts overwriting it with a body that stalls part
 * way, and waits to be killed. Prints `{ endpoint, childPid }` as one JSON line once the stalled
 * PUT has started. The PUT runs here, not in the test, so the broken connection a kill leaves
 * behind is this process's to suffer.
 *
 * Usage: s3-crash-client <data dir> <bucket> <key> <first size> <second size> <stall after>
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { startS3Server } from '#local/servers/s3-server.ts';
import { generatedStream } from '#test/fakes/generated-stream.ts';

const [directory, bucket, key, firstSize, secondSize, stallAfter] = process.argv.slice(2);
if (directory === undefined || bucket === undefined || key === undefined) {
  throw new Error(
    'usage: s3-crash-client <data dir> <bucket> <key> <first size> <second size> <stall after>',
  );
}
const server = await startS3Server({ directory });
const client = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  endpoint: server.endpoint,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  maxAttempts: 1,
});
await client.send(new CreateBucketCommand({ Bucket: bucket }));
const size = Number(firstSize);
await new S3ObjectStore({ client, bucket }).putStream(key, generatedStream(size).stream, {
  contentType: 'video/quicktime',
  contentLength: size,
  metadata: mtimeMetadata(0),
});
const second = Number(secondSize);
client
  .send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: generatedStream(second, { stallAfter: Number(stallAfter) }).stream,
      ContentLength: second,
    }),
  )
  .catch(() => undefined);
process.on('uncaughtException', () => undefined);
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, childPid: server.pid })}\n`);
setInterval(() => undefined, 60_000);
