/**
 * What the handler tests plug into the handlers: a logger that keeps its lines, iCloud adapters
 * over a fake CDN (bytes or a failure per URL), SQS events built from work messages, and a
 * Lambda context with a chosen amount of time left.
 */
import { Readable } from 'node:stream';
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { IcloudHttp } from '#adapters/icloud/http/types.ts';
import { RequestCounter } from '#adapters/icloud/request-counter.ts';
import type { OpenedIcloudSession } from '#adapters/icloud/session/open-session.ts';
import type { IcloudAdapters } from '#compose/icloud-adapters.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkItem } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { AssetSource } from '#ports/asset-source.ts';
import type { MediaDownload, MediaDownloader } from '#ports/media-download.ts';

/** A Powertools logger that keeps every line it would have printed. */
export class RecordingLogger extends Logger {
  readonly lines: Record<string, unknown>[] = [];
  constructor() {
    super({ serviceName: 'test', logLevel: 'DEBUG' });
  }
  protected override printLog(_level: number, log: LogItem): void {
    log.prepareForPrint();
    this.lines.push(JSON.parse(JSON.stringify(log.getAttributes())) as Record<string, unknown>);
  }
  messages(): string[] {
    return this.lines.map((l) => String(l['message']));
  }
}

/** The CDN: each URL serves bytes, or fails with the error its entry makes. */
export class ScriptedCdn implements MediaDownloader {
  readonly files = new Map<string, Buffer | (() => Error) | (() => Readable)>();
  readonly opened: string[] = [];
  async open(url: string, options: { readonly signal?: AbortSignal }): Promise<MediaDownload> {
    this.opened.push(url);
    const file = this.files.get(url);
    if (file === undefined) throw new Error(`no file at ${url}`);
    if (Buffer.isBuffer(file)) return { body: Readable.from([file]), contentLength: file.length };
    const made = file();
    if (made instanceof Error) throw made;
    options.signal?.addEventListener('abort', () => made.destroy(options.signal?.reason), { once: true });
    return { body: made };
  }
}

/** iCloud adapters over `cdn` whose session counts its saves; no request ever reaches Apple. */
export function fakeIcloud(
  cdn: MediaDownloader,
  source: Partial<AssetSource> = {},
  options: { readonly storedAt?: number } = {},
) {
  let saves = 0;
  const http: IcloudHttp = {
    send: async () => {
      throw new Error('the handler tests make no request to Apple');
    },
  };
  const session: OpenedIcloudSession = {
    http,
    ckdatabasewsUrl: () => 'https://p42-ckdatabasews.icloud.com:443',
    dsid: '1',
    clientId: 'auth-test',
    storedAt: options.storedAt ?? Date.now(),
    save: async () => {
      saves += 1;
    },
  };
  const adapters: IcloudAdapters = {
    session,
    source: source as AssetSource,
    downloader: cdn,
    requests: new RequestCounter(http),
  };
  return { adapters, saves: () => saves };
}

export const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };

/** A photo whose one original lives at `https://cdn.test/<name>` with `size` bytes. */
export function photoAsset(name: string, size: number): Asset {
  return {
    zone: ZONE,
    assetRecordName: `asset-${name}`,
    masterRecordName: `master-${name}`,
    assetChangeTag: 'a1',
    masterChangeTag: 'm1',
    fileName: `${name}.JPG`,
    fileNameSource: 'filenameEnc',
    mediaType: 'photo',
    captureTime: 1_700_000_000_000,
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    subtypes: [],
    versions: [
      {
        kind: 'original',
        resourceField: 'resOriginalRes',
        size,
        fileChecksum: `checksum-${name}`,
        uti: 'public.jpeg',
        downloadUrl: `https://cdn.test/${name}`,
      },
    ],
  };
}

/** JPEG-looking bytes (not an error page) of `size`. */
export function jpegBytes(size: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(size, seed);
  bytes[0] = 0xff;
  bytes[1] = 0xd8;
  return bytes;
}

let nextId = 0;

/** An SQS record carrying `body` (a work message, or anything else). */
export function sqsRecord(body: string): SQSRecord {
  nextId += 1;
  return {
    messageId: `message-${nextId}`,
    receiptHandle: `receipt-${nextId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:work',
    awsRegion: 'us-east-1',
  };
}

export function workBody(items: readonly WorkItem[], issuedAt: number): string {
  return JSON.stringify({ v: WORK_MESSAGE_VERSION, runId: 'run-1', issuedAt, items });
}

export function sqsEvent(records: readonly SQSRecord[]): SQSEvent {
  return { Records: [...records] };
}

/** A Lambda context whose remaining time is whatever `remainingMs` says at each call. */
export function lambdaContext(remainingMs: () => number, requestId = 'request-1'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    getRemainingTimeInMillis: remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
