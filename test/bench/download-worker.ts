/**
 * Child process of the archive benchmarks: one process per measurement, so the RSS it reports is
 * the download worker's own (the simulator, s3rver, DynamoDB and SQS run in other processes).
 *
 * Modes:
 * - `pipeline`: the real download handler (`createDownloadHandler`, as the Lambda builds it)
 *   invoked with SQS events: CDN -> integrity check -> S3ObjectStore (lib-storage) -> local S3,
 *   manifest in the local DynamoDB. Concurrent events play concurrent Lambda invocations.
 * - `raw-get`: a plain `http.get` of the same CDN URLs, drained to nowhere.
 * - `raw-fetch`: the same with `fetch` (the HTTP client the pipeline uses), drained.
 * - `raw-s3`: `http.get` piped straight into a lib-storage `Upload` with the same part size,
 *   queue size, client settings (`ARCHIVE_S3_CLIENT_CONFIG`) and signing (`UNSIGNED-PAYLOAD`, as
 *   `S3ObjectStore`): the transfer without integrity check, manifest or metadata copy.
 * - `raw-s3-copy`: `raw-s3` followed by the same-key `CopyObject` (metadata REPLACE) that
 *   `S3ObjectStore` makes after a multipart upload: isolates what that copy costs on this S3.
 *
 * Warm-up (`warmUpUrls`, `warmUpMessages`): CPU per GB is a steady-state figure, so a job may
 * first send a few files through the same path, uncounted: what happens once per process (tsx
 * compiling each module at its first import, the first session open, the first connections to
 * the CDN, S3 and DynamoDB, V8 compiling the hot functions) is then outside the measured window.
 * Both paths are warmed the same way (one file of the same size), so neither is flattered: the
 * handler's one-time cost is larger, but a Lambda pays it once per container, not per GB.
 *
 * The integrity floor (`raw-s3` with `hashFloor`): after its measured window, the worker hashes
 * the bytes it uploaded again, MD5 and SHA-256 as `MeteredStream` does, chunk by chunk in the
 * sizes the socket delivered them, and reports that CPU apart (`hashCpuMs`). Raw upload + hashes
 * is what any handler that checks integrity of every byte costs at least.
 */

import { createHash, randomFillSync } from 'node:crypto';
import { get, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import type { Context, SQSEvent } from 'aws-lambda';
import { signWithUnsignedPayload } from '#adapters/aws/s3-unsigned-payload.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { ARCHIVE_S3_CLIENT_CONFIG } from '#compose/archive-s3-client.ts';
import { buildAwsAdapters } from '#compose/aws-adapters.ts';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { createLambdaContext } from '#local/lambda-context.ts';
import { type LocalAwsEndpoints, localAwsClientConfig } from '#local/servers/client-config.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { quietNodeVersionWarning } from '#shared/quiet-node-warning.ts';
import { isChildJob, reportProgress, serveChildJob } from './support/child-job.ts';
import { type RssFigures, withRssSampling } from './support/rss-sampler.ts';

export interface AwsTarget {
  readonly endpoints: LocalAwsEndpoints;
  readonly bucket: string;
  readonly table: string;
  readonly queueUrl: string;
}

export interface UploadShape {
  readonly partSize: number;
  readonly queueSize: number;
}

export type DownloadJob =
  | {
      readonly mode: 'pipeline';
      readonly controlUrl: string;
      readonly sessionFile: string;
      readonly aws: AwsTarget;
      readonly upload: UploadShape;
      /** SQS message bodies (work messages); each is one handler invocation, all run at once. */
      readonly messages: readonly string[];
      /**
       * All the messages as the records of one SQS event instead: one invocation, one batch, so
       * its items share the batch's item slots as in a Lambda fed `BatchSize` messages at once.
       */
      readonly oneBatch?: boolean;
      /** Sent through the handler one after another before the measured window, not counted. */
      readonly warmUpMessages?: readonly string[];
    }
  | {
      readonly mode: 'raw-get' | 'raw-fetch';
      readonly urls: readonly string[];
      readonly streams: number;
      readonly warmUpUrls?: readonly string[];
    }
  | {
      readonly mode: 'raw-s3' | 'raw-s3-copy';
      readonly urls: readonly string[];
      readonly streams: number;
      readonly aws: AwsTarget;
      readonly upload: UploadShape;
      /** Fetched and uploaded one after another before the measured window, not counted. */
      readonly warmUpUrls?: readonly string[];
      /** Also measure MD5 + SHA-256 of the uploaded bytes after the window (`hashCpuMs`). */
      readonly hashFloor?: boolean;
    };

export interface DownloadJobResult {
  readonly bytes: number;
  /** Wall time of the transfers alone (clients and adapters were built before). */
  readonly ms: number;
  readonly rss: RssFigures;
  /** CPU time (user + system) this process spent on the transfers, milliseconds. */
  readonly cpuMs: number;
  /** The measured window on the monotonic clock, microseconds (a CPU profile's timestamps). */
  readonly windowUs: { readonly start: number; readonly end: number };
  /** Bytes moved by the warm-up, before the window (not in `bytes`). */
  readonly warmUpBytes?: number;
  /** `hashFloor`: CPU of MD5 + SHA-256 over `bytes` in the chunks the socket delivered, ms. */
  readonly hashCpuMs?: number;
  /** Pipeline mode: assets archived and items that failed (batch failures or permanent ones). */
  readonly archived?: number;
  readonly failed?: number;
}

/** What a job that ran out of time had moved: sent to the parent every second. */
export interface DownloadProgress {
  readonly bytes: number;
  readonly ms: number;
}

/** CLOCK_MONOTONIC in microseconds: the clock of V8's CPU profile timestamps. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Runs `work` while reporting `bytes()` to the parent every second; returns its wall and CPU time. */
async function measured<T>(bytes: () => number, work: () => Promise<T>) {
  const start = monotonicUs();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const timer = setInterval(
    () => reportProgress({ bytes: bytes(), ms: performance.now() - started } satisfies DownloadProgress),
    1000,
  );
  try {
    const { rss } = await withRssSampling(work);
    const cpu = process.cpuUsage(cpuBefore);
    return {
      ms: performance.now() - started,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rss,
      windowUs: { start, end: monotonicUs() },
    };
  } finally {
    clearInterval(timer);
  }
}

/** Runs `work` over `items` with at most `streams` at a time. */
async function inParallel<T>(items: readonly T[], streams: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, streams) }, worker));
}

function httpGet(url: string, agent: HttpAgent): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`CDN answered ${res.statusCode}`));
        return;
      }
      resolve(res);
    }).on('error', reject);
  });
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
}

async function runRaw(job: Exclude<DownloadJob, { mode: 'pipeline' }>) {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: job.streams });
  const toS3 = job.mode === 'raw-s3' || job.mode === 'raw-s3-copy' ? job : undefined;
  // The archive's client settings, as the handler's (no Expect: 100-continue, so parts go out on
  // kept-alive connections), and signed as the handler's uploads are (S3ObjectStore): no SHA-256
  // of every part for SigV4. Without either the baseline pays what the handler does not, and
  // flatters the handler.
  const s3 = toS3
    ? new S3Client({ ...localAwsClientConfig(toS3.aws.endpoints).s3, ...ARCHIVE_S3_CLIENT_CONFIG })
    : undefined;
  if (s3 !== undefined) signWithUnsignedPayload(s3);
  let bytes = 0;
  let warmUpBytes = 0;
  let warming = false;
  const add = (n: number) => {
    if (warming) warmUpBytes += n;
    else bytes += n;
  };
  // The sizes of the chunks the socket delivered, per file, for the hash floor.
  const chunkSizes: number[][] = [];
  let n = 0;
  const fetchOne = async (url: string) => {
    if (job.mode === 'raw-fetch') {
      const res = await fetch(url);
      if (res.status !== 200 || res.body === null) throw new Error(`CDN answered ${res.status}`);
      const drained = await drain(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>));
      add(drained);
      return;
    }
    const res = await httpGet(url, agent);
    if (job.mode === 'raw-get') {
      // Not `bytes += await ...`: that reads `bytes` before the await and loses parallel adds.
      const drained = await drain(res);
      add(drained);
      return;
    }
    if (s3 === undefined || toS3 === undefined) throw new Error('no S3 client for raw-s3');
    // Counted in a pass-through stage; the stored size is checked after the upload.
    let counted = 0;
    const sizes: number[] | undefined = toS3.hashFloor && !warming ? [] : undefined;
    if (sizes !== undefined) chunkSizes.push(sizes);
    const body = res.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          counted += chunk.length;
          sizes?.push(chunk.length);
          done(null, chunk);
        },
      }),
    );
    const key = `bench-raw/${process.pid}-${n++}`;
    await new Upload({
      client: s3,
      partSize: toS3.upload.partSize,
      queueSize: toS3.upload.queueSize,
      leavePartsOnError: false,
      params: { Bucket: toS3.aws.bucket, Key: key, Body: body },
    }).done();
    if (job.mode === 'raw-s3-copy') {
      await s3.send(
        new CopyObjectCommand({
          Bucket: toS3.aws.bucket,
          Key: key,
          CopySource: `${toS3.aws.bucket}/${key}`,
          MetadataDirective: 'REPLACE',
          Metadata: { 'bench-copy': '1' },
        }),
      );
    }
    const stored = await s3.send(new HeadObjectCommand({ Bucket: toS3.aws.bucket, Key: key }));
    if (stored.ContentLength !== counted)
      throw new Error(`stored ${stored.ContentLength} of ${counted} bytes`);
    add(counted);
  };
  warming = true;
  for (const url of job.warmUpUrls ?? []) await fetchOne(url);
  warming = false;
  const { ms, cpuMs, rss, windowUs } = await measured(
    () => bytes,
    () => inParallel(job.urls, job.streams, fetchOne),
  );
  agent.destroy();
  s3?.destroy();
  const hashCpuMs = chunkSizes.length > 0 ? hashCpuOf(chunkSizes) : undefined;
  return {
    bytes,
    ms,
    cpuMs,
    rss,
    windowUs,
    ...(job.warmUpUrls ? { warmUpBytes } : {}),
    ...(hashCpuMs === undefined ? {} : { hashCpuMs }),
  };
}

/**
 * CPU milliseconds of MD5 + SHA-256 (one pair per file, digested at its end, as `MeteredStream`)
 * over chunks of the given sizes. The data walks a 16 MiB random buffer rather than one chunk
 * over and over, so it comes from memory as streamed bytes do; the hashes' cost does not depend
 * on the bytes' values.
 */
function hashCpuOf(files: readonly (readonly number[])[]): number {
  const source = randomFillSync(Buffer.allocUnsafe(16 * 1024 * 1024));
  let offset = 0;
  const before = process.cpuUsage();
  for (const sizes of files) {
    const md5 = createHash('md5');
    const sha256 = createHash('sha256');
    for (const size of sizes) {
      if (size > source.length) throw new RangeError(`a chunk of ${size} bytes`);
      if (offset + size > source.length) offset = 0;
      const chunk = source.subarray(offset, offset + size);
      offset += size;
      md5.update(chunk);
      sha256.update(chunk);
    }
    md5.digest('hex');
    sha256.digest('hex');
  }
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1000;
}

function sqsRecord(body: string, index: number, queueArn: string): SQSEvent['Records'][number] {
  const now = String(Date.now());
  return {
    messageId: `bench-${index}`,
    receiptHandle: `bench-${index}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

function sqsEvent(body: string, index: number, queueArn: string): SQSEvent {
  return { Records: [sqsRecord(body, index, queueArn)] };
}

async function runPipeline(job: Extract<DownloadJob, { mode: 'pipeline' }>): Promise<DownloadJobResult> {
  const config = localAwsClientConfig(job.aws.endpoints);
  const clients = {
    // The local server's address and keys under Lambda's settings (compose/lambda.ts).
    s3: new S3Client({ ...config.s3, ...ARCHIVE_S3_CLIENT_CONFIG }),
    dynamodb: new DynamoDBClient(config.dynamodb),
    sqs: new SQSClient(config.sqs),
  };
  const aws = buildAwsAdapters(clients, {
    bucket: job.aws.bucket,
    table: job.aws.table,
    queueUrl: job.aws.queueUrl,
    partSizeMiB: job.upload.partSize / (1024 * 1024),
    queueSize: job.upload.queueSize,
  });
  const logger = createLogger({ level: 'SILENT' });
  const endpoint = await resolveEndpoint(job.controlUrl);
  const store = new FileSessionStore(job.sessionFile);
  const results: MessageResult[] = [];
  const warmUpResults: MessageResult[] = [];
  let warming = false;
  const handler = createDownloadHandler({
    decode: parseWorkMessage,
    archive: {
      state: aws.state,
      objects: aws.objects,
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: DEFAULT_DELETE_POLICY.mode,
      now: Date.now,
    },
    icloud: () => openIcloudAdapters({ endpoint, store, logger }),
    logger,
    metrics: new CollectedMetrics(),
    reserveMs: 30_000,
    onMessage: (result) => (warming ? warmUpResults : results).push(result),
  });
  const context = (): Context => createLambdaContext('download-assets', 15 * 60 * 1000);
  let batchFailures = 0;
  const archivedBytes = () => results.reduce((sum, r) => sum + r.bytesArchived, 0);
  warming = true;
  for (const [i, body] of (job.warmUpMessages ?? []).entries()) {
    const response = await handler(
      sqsEvent(body, -1 - i, 'arn:aws:sqs:us-east-1:000000000000:bench'),
      context(),
    );
    batchFailures += response.batchItemFailures.length;
  }
  warming = false;
  const warmUpBytes = warmUpResults.reduce((sum, r) => sum + r.bytesArchived, 0);
  const queueArn = 'arn:aws:sqs:us-east-1:000000000000:bench';
  const events: SQSEvent[] = job.oneBatch
    ? [{ Records: job.messages.map((body, i) => sqsRecord(body, i, queueArn)) }]
    : job.messages.map((body, i) => sqsEvent(body, i, queueArn));
  const { ms, cpuMs, rss, windowUs } = await measured(archivedBytes, () =>
    Promise.all(
      events.map(async (event) => {
        const response = await handler(event, context());
        batchFailures += response.batchItemFailures.length;
      }),
    ),
  );
  for (const client of Object.values(clients)) client.destroy();
  return {
    bytes: archivedBytes(),
    ms,
    cpuMs,
    rss,
    windowUs,
    ...(job.warmUpMessages ? { warmUpBytes } : {}),
    archived: results.reduce((sum, r) => sum + r.archived, 0),
    failed: batchFailures + [...warmUpResults, ...results].reduce((sum, r) => sum + r.failed, 0),
  };
}

if (isChildJob()) {
  quietNodeVersionWarning();
  serveChildJob<DownloadJob, DownloadJobResult>((job) =>
    job.mode === 'pipeline' ? runPipeline(job) : runRaw(job),
  );
}
