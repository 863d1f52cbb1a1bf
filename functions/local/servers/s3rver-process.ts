/**
 * Child-process entry that serves s3rver on 127.0.0.1, started by `startS3Server` with
 * `--openssl-legacy-provider`: s3rver encrypts ListObjectsV2 continuation tokens with DES, which
 * OpenSSL 3 only offers through the legacy provider. A child keeps that
 * flag out of the parent process.
 *
 * s3rver lacks AbortMultipartUpload and ListMultipartUploads; this wrapper adds both over its
 * own upload directory, so aborted uploads do not pile up on disk and tests can prove none dangle.
 * Its CompleteMultipartUpload is replaced by one that checks the request as S3 does
 * (`s3-complete-multipart.ts`). Object Lock (a bucket's default retention, and the refusal of
 * uploads without a digest it brings) is `s3-object-lock.ts`'s: its controllers wrapped, and
 * `GET`/`PUT ?object-lock` answered here. CopyObject checks its source conditions and applies
 * `TaggingDirective` (`s3-copy-object.ts`), and an object's tags come from `x-amz-tagging` as on
 * S3 (`s3-object-tagging.ts`, `s3-object-tagging-requests.ts`). UploadPartCopy, which s3rver
 * refuses, is answered as S3 does (`s3-upload-part-copy.ts`). A write to a key over 1,024 bytes
 * is refused (`s3-key-length.ts`).
 *
 * Crash safety: before serving, the data directory is made self-consistent
 * (`repair-local-s3.ts`), and every write goes through `atomic-s3rver-store.ts`. When the parent
 * dies (the IPC channel disconnects), sends `'stop'`, or a signal asks the child to end, it stops
 * accepting requests, lets the writes under way finish (a request whose client is gone fails
 * fast and leaves only a temporary file), and only then exits: it never dies mid-write on its
 * own account, and a SIGKILL mid-write leaves the old object or the new one, never half of one.
 *
 * Protocol: argv[2] is the data directory. The child sends `{ starting: true }` every second while
 * it starts and `{ port, repairs }` over IPC once listening, and exits when the parent disconnects or sends `'stop'`.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import S3rver from 's3rver';
import bucketController from 's3rver/lib/controllers/bucket.js';
import objectController from 's3rver/lib/controllers/object.js';
import { makeWritesAtomic, type S3rverFilesystemStore } from './atomic-s3rver-store.ts';
import { repairLocalS3Store, S3RVER_NO_REPAIR } from './repair-local-s3.ts';
import { checkCompleteMultipartUpload } from './s3-complete-multipart.ts';
import { checkCopyObject, type S3rverCopyContext } from './s3-copy-object.ts';
import { checkDeleteObject, type S3rverDeleteContext } from './s3-delete-object.ts';
import { keyTooLongError } from './s3-key-length.ts';
import { listPartsXml } from './s3-list-parts.ts';
import { noSuchUpload } from './s3-no-such-upload.ts';
import {
  enforceObjectLock,
  ObjectLockConfigurations,
  objectLockRequest,
  type S3rverBucketWrites,
  type S3rverObjectUploads,
} from './s3-object-lock.ts';
import { keepObjectTags, type S3rverTaggingControllers } from './s3-object-tagging-requests.ts';
import { uploadPartCopy } from './s3-upload-part-copy.ts';
import { dropRequestLog, rememberBucketConfigs, type S3rverConfigStore } from './s3rver-request-work.ts';

const directory = process.argv[2];
/** A bucket to have before listening (made if missing), when the parent names one. */
const bucket = process.argv[3];
if (directory === undefined || process.send === undefined) {
  throw new Error('s3rver-process needs a data directory and an IPC channel');
}

/** How long in-flight requests may take to finish once the child is asked to stop. */
const STOP_GRACE_MS = 3_000;
/**
 * The child exits by then whatever is still running: a write that hangs must not keep an orphan
 * alive, and exiting mid-write is safe (it leaves a temporary file, removed on the next start).
 */
const STOP_LIMIT_MS = 10_000;

// "Still starting", every second until listening: the parent waits as long as these come.
process.send({ starting: true });
const startingBeat = setInterval(() => process.send?.({ starting: true }), 1_000);
// `local serve` only reads, and a `sync` may be writing the folder: its partial files are not debris.
const repairs = process.env[S3RVER_NO_REPAIR] === '1' ? [] : await repairLocalS3Store(directory);
const s3rver = new S3rver({ directory, silent: true, allowMismatchedSignatures: true });
const writes = makeWritesAtomic(s3rver.store as unknown as S3rverFilesystemStore);
// CompleteMultipartUpload refuses what S3 refuses (s3-complete-multipart.ts).
checkCompleteMultipartUpload(objectController);
// CopyObject's conditions and TaggingDirective (s3-copy-object.ts); tags kept with the object
// from x-amz-tagging, checked as S3 does (s3-object-tagging.ts, s3-object-tagging-requests.ts).
checkCopyObject(objectController as unknown as { putObjectCopy: (ctx: S3rverCopyContext) => Promise<void> });
keepObjectTags(objectController as unknown as S3rverTaggingControllers);
// DeleteObject's If-Match (s3-delete-object.ts).
checkDeleteObject(
  objectController as unknown as { deleteObject: (ctx: S3rverDeleteContext) => Promise<void> },
);
// Object Lock: a bucket's default retention, and uploads without a digest refused (s3-object-lock.ts).
const objectLock = new ObjectLockConfigurations(s3rver.store);
enforceObjectLock(
  objectController as unknown as S3rverObjectUploads,
  bucketController as unknown as S3rverBucketWrites,
  objectLock,
);
// Per-request work the local runtime does not need (s3rver-request-work.ts); before `callback()`,
// which composes the middleware.
dropRequestLog(s3rver.middleware);
// UploadPartCopy, which s3rver's router refuses: answered just before it (s3-upload-part-copy.ts).
// (The type lists what dropRequestLog reads of a middleware; Koa's are functions.)
s3rver.middleware.splice(
  s3rver.middleware.length - 1,
  0,
  uploadPartCopy(writes.copyPart) as { name?: string },
);
rememberBucketConfigs(s3rver.store as unknown as S3rverConfigStore);
const handle = s3rver.callback();
if (bucket !== undefined) await s3rver.store.putBucket(bucket);

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function uploadsDirectory(bucket: string): string {
  return s3rver.store.getResourcePath(bucket, undefined, 'uploads');
}

function sendXml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/xml' });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

/** S3's 404 for an upload that does not exist, as `noSuchUpload` (s3-no-such-upload.ts) writes it. */
function sendNoSuchUpload(response: ServerResponse, uploadId: string): void {
  const error = noSuchUpload(uploadId) as Error & { code: string };
  sendXml(
    response,
    404,
    `<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message><UploadId>${escapeXml(uploadId)}</UploadId></Error>`,
  );
}

async function abortMultipartUpload(
  response: ServerResponse,
  bucket: string,
  uploadId: string,
): Promise<void> {
  if (!/^[0-9a-f]+$/.test(uploadId)) {
    sendNoSuchUpload(response, uploadId);
    return;
  }
  const dir = path.join(uploadsDirectory(bucket), uploadId);
  const existed = await readdir(dir).then(
    () => true,
    () => false,
  );
  if (!existed) {
    // As S3 for some hours after a completion: the abort of a completed upload succeeds (and the object stays).
    if (writes.completedRecently(bucket, uploadId)) {
      response.writeHead(204);
      response.end();
      return;
    }
    sendNoSuchUpload(response, uploadId);
    return;
  }
  await rm(dir, { recursive: true, force: true });
  response.writeHead(204);
  response.end();
}

/** `GET`/`PUT /<bucket>?object-lock`, which s3rver's router refuses (s3-object-lock.ts). */
async function objectLockConfiguration(
  request: IncomingMessage,
  response: ServerResponse,
  bucket: string,
  method: 'GET' | 'PUT',
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if ((await s3rver.store.getBucket(bucket)) == null) {
    sendXml(
      response,
      404,
      `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>${escapeXml(bucket)}</BucketName></Error>`,
    );
    return;
  }
  const answer = await objectLockRequest(objectLock, method, bucket, Buffer.concat(chunks).toString('utf8'));
  if (answer.xml === '') {
    response.writeHead(answer.status);
    response.end();
  } else sendXml(response, answer.status, answer.xml);
}

async function listMultipartUploads(response: ServerResponse, bucket: string): Promise<void> {
  const dir = uploadsDirectory(bucket);
  const ids = await readdir(dir).catch(() => [] as string[]);
  const uploads = await Promise.all(
    ids.map(async (id) => {
      const key = await readFile(path.join(dir, id, 'key'), 'utf8').catch(() => undefined);
      return key === undefined
        ? ''
        : `<Upload><Key>${escapeXml(key)}</Key><UploadId>${id}</UploadId></Upload>`;
    }),
  );
  sendXml(
    response,
    200,
    `<ListMultipartUploadsResult><Bucket>${escapeXml(bucket)}</Bucket><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`,
  );
}

/** ListParts, which s3rver's router refuses (s3-list-parts.ts): its S3Errors written as S3 writes them. */
async function listParts(
  response: ServerResponse,
  bucket: string,
  key: string,
  uploadId: string,
  query: URLSearchParams,
): Promise<void> {
  try {
    sendXml(response, 200, await listPartsXml(uploadsDirectory(bucket), bucket, key, uploadId, query));
  } catch (error) {
    const refusal = error as Error & { code?: string; status?: number; detail?: Record<string, string> };
    if (refusal.code === undefined || refusal.status === undefined) throw error;
    const detail = Object.entries(refusal.detail ?? {})
      .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
      .join('');
    sendXml(
      response,
      refusal.status,
      `<Error><Code>${refusal.code}</Code><Message>${escapeXml(refusal.message)}</Message>${detail}</Error>`,
    );
  }
}

/** The key a path's segments after the bucket name, as S3 decodes it; as sent when it is not valid percent-encoding. */
function objectKeyOf(segments: readonly string[]): string {
  const raw = segments.slice(2).join('/');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function route(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  // ['', bucket, ...key segments]; a bucket URL may end in '/'.
  const segments = url.pathname.replace(/^(\/[^/]+)\/$/, '$1').split('/');
  const bucket = decodeURIComponent(segments[1] ?? '');
  const uploadId = url.searchParams.get('uploadId');
  // A write to a key S3 would refuse for its length is refused as S3 does (s3-key-length.ts).
  if ((request.method === 'PUT' || request.method === 'POST') && segments.length > 2) {
    const refusal = keyTooLongError(objectKeyOf(segments));
    if (refusal !== undefined) {
      request.resume();
      sendXml(response, 400, refusal);
      return;
    }
  }
  let extra: Promise<void> | undefined;
  // Whether the request's body is dropped here: `PUT ?object-lock` reads its own.
  let dropBody = true;
  if (
    (request.method === 'GET' || request.method === 'PUT') &&
    url.searchParams.has('object-lock') &&
    segments.length === 2
  ) {
    extra = objectLockConfiguration(request, response, bucket, request.method);
    dropBody = false;
  } else if (request.method === 'DELETE' && uploadId !== null && segments.length > 2) {
    extra = abortMultipartUpload(response, bucket, uploadId);
  } else if (request.method === 'GET' && url.searchParams.has('uploads') && segments.length === 2) {
    extra = listMultipartUploads(response, bucket);
  } else if (request.method === 'GET' && uploadId !== null && segments.length > 2) {
    extra = listParts(response, bucket, objectKeyOf(segments), uploadId, url.searchParams);
  }
  if (extra === undefined) {
    handle(request, response);
    return;
  }
  if (dropBody) request.resume();
  extra.catch(() => {
    if (!response.headersSent) sendXml(response, 500, '<Error><Code>InternalError</Code></Error>');
    else response.destroy();
  });
}

const server = createServer(route);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('s3rver did not bind a TCP port');
  clearInterval(startingBeat);
  process.send?.({ port: address.port, repairs });
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
  setTimeout(() => process.exit(0), STOP_LIMIT_MS).unref();
  void closed
    .then(() => writes.inFlight())
    .finally(() => {
      clearTimeout(grace);
      process.exit(0);
    });
}
process.on('message', (message) => {
  if (message === 'stop') stop();
});
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
