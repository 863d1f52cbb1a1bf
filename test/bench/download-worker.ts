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
 *   queue size and signing (`UNSIGNED-PAYLOAD`, as `S3ObjectStore`): the transfer without
 *   integrity check, manifest or metadata copy.
 * - `raw-s3-copy`: `raw-s3` followed by the same-key `CopyObject` (metadata REPLACE) that
 *   `S3ObjectStore` makes after a multipart upload: isolates what that copy costs on this S3.
 */

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
    }
  | { readonly mode: 'raw-get' | 'raw-fetch'; readonly urls: readonly string[]; readonly streams: number }
  | {
      readonly mode: 'raw-s3' | 'raw-s3-copy';
      readonly urls: readonly string[];
      readonly streams: number;
      readonly aws: AwsTarget;
      readonly upload: UploadShape;
    };

export interface DownloadJobResult {
  readonly bytes: number;
  /** Wall time of the transfers alone (clients and adapters were built before). */
  readonly ms: number;
  readonly rss: RssFigures;
  /** CPU time (user + system) this process spent on the transfers, milliseconds. */
  readonly cpuMs: number;
  /** Pipeline mode: assets archived and items that failed (batch failures or permanent ones). */
  readonly archived?: number;
  readonly failed?: number;
}

/** What a job that ran out of time had moved: sent to the parent every second. */
export interface DownloadProgress {
  readonly bytes: number;
  readonly ms: number;
}

/** Runs `work` while reporting `bytes()` to the parent every second; returns its wall and CPU time. */
async function measured<T>(bytes: () => number, work: () => Promise<T>) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const timer = setInterval(
    () => reportProgress({ bytes: bytes(), ms: performance.now() - started } satisfies DownloadProgress),
    1000,
  );
  try {
    const { rss } = await withRssSampling(work);
    const cpu = process.cpuUsage(cpuBefore);
    return { ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, rss };
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
  const s3 = toS3 ? new S3Client(localAwsClientConfig(toS3.aws.endpoints).s3) : undefined;
  // Signed as the handler's uploads are (S3ObjectStore): no SHA-256 of every part for SigV4.
  // Without it the baseline pays a hash the handler does not, and flatters the handler.
  if (s3 !== undefined) signWithUnsignedPayload(s3);
  let bytes = 0;
  let n = 0;
  const fetchOne = async (url: string) => {
    if (job.mode === 'raw-fetch') {
      const res = await fetch(url);
      if (res.status !== 200 || res.body === null) throw new Error(`CDN answered ${res.status}`);
      const drained = await drain(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>));
      bytes += drained;
      return;
    }
    const res = await httpGet(url, agent);
    if (job.mode === 'raw-get') {
      // Not `bytes += await ...`: that reads `bytes` before the await and loses parallel adds.
      const drained = await drain(res);
      bytes += drained;
      return;
    }
    if (s3 === undefined || toS3 === undefined) throw new Error('no S3 client for raw-s3');
    // Counted in a pass-through stage; the stored size is checked after the upload.
    let counted = 0;
    const body = res.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          counted += chunk.length;
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
    bytes += counted;
  };
  const { ms, cpuMs, rss } = await measured(
    () => bytes,
    () => inParallel(job.urls, job.streams, fetchOne),
  );
  agent.destroy();
  s3?.destroy();
  return { bytes, ms, cpuMs, rss };
}

function sqsEvent(body: string, index: number, queueArn: string): SQSEvent {
  const now = String(Date.now());
  return {
    Records: [
      {
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
      },
    ],
  };
}

async function runPipeline(job: Extract<DownloadJob, { mode: 'pipeline' }>): Promise<DownloadJobResult> {
  const config = localAwsClientConfig(job.aws.endpoints);
  const clients = {
    s3: new S3Client(config.s3),
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
    onMessage: (result) => results.push(result),
  });
  const context = (): Context => createLambdaContext('download-assets', 15 * 60 * 1000);
  let batchFailures = 0;
  const archivedBytes = () => results.reduce((sum, r) => sum + r.bytesArchived, 0);
  const { ms, cpuMs, rss } = await measured(archivedBytes, () =>
    Promise.all(
      job.messages.map(async (body, i) => {
        const response = await handler(
          sqsEvent(body, i, 'arn:aws:sqs:us-east-1:000000000000:bench'),
          context(),
        );
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
    archived: results.reduce((sum, r) => sum + r.archived, 0),
    failed: batchFailures + results.reduce((sum, r) => sum + r.failed, 0),
  };
}

if (isChildJob()) {
  quietNodeVersionWarning();
  serveChildJob<DownloadJob, DownloadJobResult>((job) =>
    job.mode === 'pipeline' ? runPipeline(job) : runRaw(job),
  );
}
