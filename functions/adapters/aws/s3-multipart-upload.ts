/**
 * A multipart upload whose parts are the body's own chunks: each part is the list of buffers that
 * arrived for it (the one chunk that straddles a part boundary is split with `subarray`, not
 * copied), sent as a stream with its length. lib-storage's `Upload` instead copies every part
 * into one fresh buffer of the part size (`Buffer.concat`): a copy of every byte and an 8 MiB
 * allocation per part, about a tenth of an upload's CPU with its garbage collection.
 *
 * Shape and guarantees are lib-storage's as `S3ObjectStore` used them: parts of exactly
 * `partSize` bytes but the last, at most `queueSize` parts in flight (the body is not read
 * further while they are: memory stays at about `queueSize + 1` parts whatever the file's size),
 * and on any failure (a part, the body, the signal) the upload is aborted, so no part is left
 * behind. A streamed body cannot be replayed by the SDK's retry, so a part is retried here, from
 * its chunks (the SDK's standard policy: 3 attempts, transient failures only).
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type RetryPolicy, retry } from '#shared/retry.ts';

/** The SDK's standard retry: 3 attempts, full-jitter backoff from 100 ms, 20 s ceiling. */
export const PART_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 20_000,
  retryAfterCapMs: 20_000,
});

export interface MultipartUploadOptions {
  readonly client: S3Client;
  /** CreateMultipartUpload's input: bucket, key, content type, metadata, tagging. */
  readonly params: CreateMultipartUploadCommandInput & { readonly Bucket: string; readonly Key: string };
  readonly body: AsyncIterable<Buffer>;
  readonly partSize: number;
  readonly queueSize: number;
  readonly signal?: AbortSignal;
  readonly retryPolicy?: RetryPolicy;
}

export interface MultipartUploadResult {
  readonly ETag?: string;
  readonly VersionId?: string;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Transient: a dropped connection (no status), S3's 5xx and throttling, its `RequestTimeout`. */
export function isTransientPartFailure(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'AbortError') return false;
  const status = statusOf(error);
  if (status === undefined) return true;
  return status >= 500 || status === 429 || name === 'RequestTimeout' || name === 'SlowDown';
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * UploadPart of a streamed body. The SDK's retry cannot replay a stream, so it gives up at once
 * and warns on the console; the retry here is the one that counts, so that warning is silenced.
 */
function uploadPartCommand(input: ConstructorParameters<typeof UploadPartCommand>[0]): UploadPartCommand {
  const command = new UploadPartCommand(input);
  command.middlewareStack.add(
    (next, context) => (args) => {
      context.logger = quiet;
      return next(args);
    },
    { step: 'initialize', name: 'icloudS3QuietStreamingRetry' },
  );
  return command;
}

/** A fresh stream over `chunks` (one per attempt: a stream is read once). */
function streamOf(chunks: readonly Buffer[]): Readable {
  return new Readable({
    read() {
      for (const chunk of chunks) this.push(chunk);
      this.push(null);
    },
  });
}

export async function uploadMultipart(options: MultipartUploadOptions): Promise<MultipartUploadResult> {
  const { client, params, partSize, queueSize, signal } = options;
  const { Bucket, Key } = params;
  const sendOptions = signal ? { abortSignal: signal } : {};
  const created = await client.send(new CreateMultipartUploadCommand(params), sendOptions);
  const UploadId = created.UploadId;
  if (UploadId === undefined) throw new Error('S3 started a multipart upload without an upload id');

  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { readonly error: unknown } | undefined;

  const sendPart = (PartNumber: number, chunks: readonly Buffer[], ContentLength: number) => {
    const sending = retry(
      () =>
        client.send(
          uploadPartCommand({ Bucket, Key, UploadId, PartNumber, ContentLength, Body: streamOf(chunks) }),
          sendOptions,
        ),
      {
        policy: options.retryPolicy ?? PART_RETRY_POLICY,
        decide: (error) => ({ retry: isTransientPartFailure(error) }),
        ...(signal ? { signal } : {}),
      },
    ).then(
      (output) => {
        parts.push({ PartNumber, ...(output.ETag === undefined ? {} : { ETag: output.ETag }) });
      },
      (error: unknown) => {
        failure ??= { error };
      },
    );
    const tracked = sending.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  try {
    let chunks: Buffer[] = [];
    let length = 0;
    let partNumber = 1;
    for await (const chunk of options.body) {
      let rest = chunk;
      while (length + rest.length >= partSize) {
        const take = partSize - length;
        chunks.push(rest.subarray(0, take));
        sendPart(partNumber++, chunks, partSize);
        chunks = [];
        length = 0;
        rest = rest.subarray(take);
        // Backpressure: the body waits while the queue is full.
        while (inFlight.size >= queueSize && failure === undefined) await Promise.race(inFlight);
        if (failure !== undefined) throw failure.error;
      }
      if (rest.length > 0) {
        chunks.push(rest);
        length += rest.length;
      }
    }
    if (length > 0 || partNumber === 1) sendPart(partNumber, chunks, length);
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure.error;
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const completed = await client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
      sendOptions,
    );
    return {
      ...(completed.ETag === undefined ? {} : { ETag: completed.ETag }),
      ...(completed.VersionId === undefined ? {} : { VersionId: completed.VersionId }),
    };
  } catch (error) {
    // Let the parts in flight settle first: a part finishing after the abort would be kept.
    await Promise.allSettled(inFlight);
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    throw error;
  }
}
