/**
 * Preloaded into a process under measurement (`node --import tsx --import <this file> ...`, with
 * BENCH_REQUEST_LOG_DIR set): counts the requests that process makes, without touching the code
 * it runs, through Node's diagnostics channels. AWS SDK calls (node:http) are classified by
 * service and operation (DynamoDB and SQS by `X-Amz-Target` or `Action`, S3 by method and
 * query); iCloud calls (fetch, i.e. undici, and the CDN transport over node:http) are timed by
 * kind, to see whether downloads start before the last listing page: a download is a GET from
 * Apple's CDN (an original or a version), never a simulator control request such as the
 * endpoint discovery's `GET /__sim`, which comes before any page. The bodies of SQS sends (JSON
 * protocol, the SDK's) are parsed to measure each work item's serialized size. At exit the
 * figures go to `<dir>/<pid>.json`.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { type IcloudRequestKind, icloudRequestKind } from './icloud-request-kind.ts';

export interface ProcessRequestLog {
  /** `dynamodb:PutItem`, `s3:HeadObject`, `sqs:SendMessageBatch`, ... → requests. */
  readonly aws: Record<string, number>;
  /**
   * The same DynamoDB and S3 requests by what they touch: `dynamodb:UpdateItem key#`,
   * `dynamodb:PutItem manifest#` (the item's partition key up to its first `#`), `s3:GetObject
   * catalog/` (the object key's first segment), to see where a figure comes from.
   */
  readonly awsByItem: Record<string, number>;
  /** Serialized size (bytes of JSON) of every work item sent to SQS. */
  readonly workItemBytes: number[];
  /** Work messages sent (one SQS message each). */
  workMessages: number;
  /**
   * Milliseconds since process start of each iCloud request, by kind: `download` is a CDN GET
   * only; `other` is everything else (sign-in, setup, Shared Albums, simulator control requests).
   */
  readonly icloud: Record<IcloudRequestKind, number[]>;
}

const log: ProcessRequestLog = {
  aws: {},
  awsByItem: {},
  workItemBytes: [],
  workMessages: 0,
  icloud: { query: [], changes: [], download: [], other: [] },
};
const count = (key: string) => {
  log.aws[key] = (log.aws[key] ?? 0) + 1;
};
const countByItem = (key: string) => {
  log.awsByItem[key] = (log.awsByItem[key] ?? 0) + 1;
};

/** What a DynamoDB request body touches: the partition key's kind (`key`, `manifest`, `counters`...). */
function dynamoItemKinds(body: string): string[] {
  const kinds = new Set<string>();
  for (const match of body.matchAll(/"pk":\{"S":"([^"#]*)/g)) kinds.add(match[1] ?? '');
  // A Query names its partition in a value (`pk = :pk`).
  for (const match of body.matchAll(/":pk":\{"S":"([^"#]*)/g)) kinds.add(match[1] ?? '');
  return kinds.size === 0 ? ['?'] : [...kinds].sort();
}

function s3Operation(method: string, path: string, copySource: boolean): string {
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
  const params = new URLSearchParams(query);
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'PUT' && copySource) return params.has('partNumber') ? 'UploadPartCopy' : 'CopyObject';
  if (method === 'PUT') return params.has('partNumber') ? 'UploadPart' : 'PutObject';
  if (method === 'POST' && params.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && params.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'POST' && params.has('delete')) return 'DeleteObjects';
  if (method === 'DELETE') return params.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'GET') return params.has('list-type') || !/\/[^/]+\/./.test(path) ? 'List' : 'GetObject';
  return method;
}

/** Work items inside SQS send bodies (JSON protocol or the query protocol's form). */
function recordWorkItems(body: string): void {
  const messageBodies: string[] = [];
  if (body.startsWith('{')) {
    const parsed = JSON.parse(body) as { MessageBody?: string; Entries?: { MessageBody?: string }[] };
    if (parsed.MessageBody !== undefined) messageBodies.push(parsed.MessageBody);
    for (const entry of parsed.Entries ?? [])
      if (entry.MessageBody !== undefined) messageBodies.push(entry.MessageBody);
  } else {
    for (const [key, value] of new URLSearchParams(body))
      if (key.endsWith('MessageBody')) messageBodies.push(value);
  }
  for (const message of messageBodies) {
    log.workMessages++;
    try {
      const parsed = JSON.parse(message) as { items?: unknown[] };
      for (const item of parsed.items ?? []) log.workItemBytes.push(Buffer.byteLength(JSON.stringify(item)));
    } catch {
      // Not a work message: nothing to measure.
    }
  }
}

/**
 * The SDK hands small bodies to `end()`, before the diagnostics channel announces the request
 * (Node publishes it when the request is finished), so SQS send bodies are read here.
 */
const originalEnd = ClientRequest.prototype.end;
ClientRequest.prototype.end = function end(this: ClientRequest, ...args: unknown[]) {
  const target = String(this.getHeader('x-amz-target') ?? '');
  const chunk = args[0];
  if (target.startsWith('DynamoDB_') && (typeof chunk === 'string' || chunk instanceof Uint8Array))
    countByItem(
      `dynamodb:${target.split('.')[1]} ${dynamoItemKinds(Buffer.from(chunk).toString('utf8')).join(',')}`,
    );
  if (
    target.startsWith('AmazonSQS.SendMessage') &&
    (typeof chunk === 'string' || chunk instanceof Uint8Array)
  )
    recordWorkItems(Buffer.from(chunk).toString('utf8'));
  return (originalEnd as (...a: unknown[]) => ClientRequest).apply(this, args);
} as ClientRequest['end'];

subscribe('http.client.request.start', (message) => {
  const request = (message as { request: ClientRequest }).request;
  const target = String(request.getHeader('x-amz-target') ?? '');
  const authorization = String(request.getHeader('authorization') ?? '');
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(authorization)?.[1];
  if (target.startsWith('DynamoDB_')) count(`dynamodb:${target.split('.')[1]}`);
  else if (target.startsWith('AmazonSQS.') || service === 'sqs') {
    count(`sqs:${target.split('.')[1] ?? 'query-protocol'}`);
  } else if (target.startsWith('secretsmanager.')) count(`secretsmanager:${target.split('.')[1]}`);
  else if (service === 's3') {
    const operation = `s3:${s3Operation(request.method, request.path, request.getHeader('x-amz-copy-source') !== undefined)}`;
    count(operation);
    // Path style: /<bucket>/<first segment of the key>/...
    const segment = /^\/[^/?]+\/([^/?]+\/?)/.exec(request.path)?.[1];
    countByItem(`${operation} ${segment === undefined ? '' : decodeURIComponent(segment)}`.trim());
  } else if (authorization === '') {
    // Not signed: a request to Apple over node:http (the CDN transport), not one to AWS.
    timeIcloud(request.method, request.host, request.path);
  } else count(`other:${request.method}`);
});

function timeIcloud(method: string, host: string, path: string): void {
  log.icloud[icloudRequestKind(method, host, path)].push(Math.round(performance.now()));
}

subscribe('undici:request:create', (message) => {
  const request = (message as { request: { method: string; origin: string; path: string } }).request;
  let host = '';
  try {
    host = new URL(request.origin).hostname;
  } catch {
    // No origin to read: the path decides.
  }
  timeIcloud(request.method, host, request.path);
});

const dir = process.env['BENCH_REQUEST_LOG_DIR'];
if (dir !== undefined)
  process.on('exit', () => writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(log)));
