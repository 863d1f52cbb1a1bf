/**
 * Amazon S3's Object Lock, as much of it as the archive meets (docs/deploy.md, `objectLockMode`),
 * which s3rver 3.x lacks: a bucket created with `x-amz-bucket-object-lock-enabled: true` has
 * Object Lock, `PUT ?object-lock` gives it a default retention and `GET ?object-lock` says it
 * back; on a bucket with a default retention (or for a PutObject naming a retention or legal hold
 * itself) a PutObject or UploadPart whose request has neither `Content-MD5` nor an
 * `x-amz-checksum-<algorithm>` header is refused before its body is stored, with S3's
 * `400 InvalidRequest` and its message for that operation ("… for Put Object requests …", "… for
 * Put Part requests …"). A checksum sent only as an aws-chunked trailer does not count (S3 refuses
 * such parts too, as reported publicly; the local S3 does not read trailers anyway). CopyObject and
 * CompleteMultipartUpload carry no body and are not refused. UploadPart answers the
 * `x-amz-checksum-*` it was sent (checked against the body by `s3-checksum-headers.ts`), as S3
 * does, so lib-storage lists each part's checksum in CompleteMultipartUpload.
 *
 * The configuration is kept beside the bucket in `._S3rver_object-lock.json` (so it survives a
 * restart; s3rver lists only `._S3rver_object` files, and the start-up repair leaves it alone),
 * written atomically, and remembered in memory per bucket (this child is the only writer).
 *
 * Not modelled: versioning (S3 turns it on with Object Lock; s3rver keeps one version per key),
 * retention itself (a locked version cannot be deleted or overwritten before its date; here
 * DeleteObject removes the object, where S3 adds a delete marker and keeps the version), legal
 * holds, per-object retention (`?retention`, `?legal-hold`), retention named at
 * CreateMultipartUpload, the `Bucket is missing Object Lock Configuration` refusal of lock headers
 * on a bucket without Object Lock, and enabling Object Lock on an existing bucket (S3 requires
 * versioning for that, which s3rver has not: refused with `409 InvalidBucketState`).
 */
import fs from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream/promises';
import xmlParser from 'fast-xml-parser';
import S3Error from 's3rver/lib/models/error.js';
import { writeFileAtomic } from './atomic-s3rver-store.ts';

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface DefaultRetention {
  readonly mode: RetentionMode;
  readonly days?: number;
  readonly years?: number;
}

/** A bucket's Object Lock: enabled, with or without a default retention. */
export interface ObjectLockConfiguration {
  readonly enabled: true;
  readonly defaultRetention?: DefaultRetention;
}

/** The headers that carry a digest S3 accepts for a locked upload. */
const DIGEST_HEADERS = [
  'content-md5',
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-crc64nvme',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
] as const;

const CHECKSUM_HEADERS = DIGEST_HEADERS.slice(1);

/** A PutObject's own Object Lock parameters. */
const LOCK_HEADERS = [
  'x-amz-object-lock-mode',
  'x-amz-object-lock-retain-until-date',
  'x-amz-object-lock-legal-hold',
] as const;

/** S3's names of the two operations in its refusal. */
export type LockedUpload = 'Put Object' | 'Put Part';

type Headers = Readonly<Record<string, unknown>>;

/**
 * Throws S3's `InvalidRequest` when an upload to a bucket with `config` needs a digest (a default
 * retention, or a PutObject naming its own retention or legal hold) and its headers carry none.
 */
export function refuseUploadWithoutDigest(
  operation: LockedUpload,
  config: ObjectLockConfiguration | undefined,
  headers: Headers,
): void {
  const locked =
    config?.defaultRetention !== undefined ||
    (operation === 'Put Object' && LOCK_HEADERS.some((name) => headers[name] !== undefined));
  if (!locked || DIGEST_HEADERS.some((name) => headers[name] !== undefined)) return;
  throw new S3Error(
    'InvalidRequest',
    `Content-MD5 OR x-amz-checksum- HTTP header is required for ${operation} requests with Object Lock parameters`,
  );
}

function malformedXml(): Error {
  return new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
}

/** A retention period: a positive integer, else S3's `InvalidArgument`. */
function period(text: unknown): number {
  if (typeof text !== 'string') throw malformedXml();
  const value = Number(text);
  if (!/^-?[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1)
    throw new S3Error('InvalidArgument', 'Default retention period must be a positive integer value.', {
      ArgumentName: 'ObjectLockConfiguration',
      ArgumentValue: text,
    });
  return value;
}

/** The configuration a `PUT ?object-lock` body gives; throws S3's refusal of a body it would refuse. */
export function parseObjectLockConfiguration(xml: string): ObjectLockConfiguration {
  if (xml.trim() === '' || xmlParser.validate(xml) !== true) throw malformedXml();
  const document = xmlParser.parse(xml, { parseNodeValue: false, ignoreNameSpace: true }) as Record<
    string,
    unknown
  >;
  const root = document.ObjectLockConfiguration as Record<string, unknown> | undefined;
  if (root === null || typeof root !== 'object' || root.ObjectLockEnabled !== 'Enabled') throw malformedXml();
  if (root.Rule === undefined) return { enabled: true };
  const retention = (root.Rule as { DefaultRetention?: unknown } | null)?.DefaultRetention as
    | Record<string, unknown>
    | undefined;
  if (retention === null || typeof retention !== 'object') throw malformedXml();
  const { Mode, Days, Years } = retention;
  if ((Mode !== 'GOVERNANCE' && Mode !== 'COMPLIANCE') || (Days === undefined) === (Years === undefined))
    throw malformedXml();
  return {
    enabled: true,
    defaultRetention: {
      mode: Mode,
      ...(Days !== undefined ? { days: period(Days) } : { years: period(Years) }),
    },
  };
}

/** The `GET ?object-lock` answer's body for `config`. */
export function objectLockConfigurationXml(config: ObjectLockConfiguration): string {
  const retention = config.defaultRetention;
  const rule =
    retention === undefined
      ? ''
      : `<Rule><DefaultRetention><Mode>${retention.mode}</Mode>${
          retention.days !== undefined
            ? `<Days>${retention.days}</Days>`
            : `<Years>${retention.years}</Years>`
        }</DefaultRetention></Rule>`;
  return `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}</ObjectLockConfiguration>`;
}

/** Where s3rver's store keeps a bucket's files (its `getResourcePath`). */
interface ResourcePaths {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

/** Each bucket's Object Lock configuration, on disk beside the bucket and remembered once read. */
export class ObjectLockConfigurations {
  private readonly known = new Map<string, Promise<ObjectLockConfiguration | undefined>>();

  constructor(private readonly store: ResourcePaths) {}

  private file(bucket: string): string {
    return this.store.getResourcePath(bucket, undefined, 'object-lock.json');
  }

  get(bucket: string): Promise<ObjectLockConfiguration | undefined> {
    let reading = this.known.get(bucket);
    if (reading === undefined) {
      reading = fs.readFile(this.file(bucket), 'utf8').then(
        (text) => JSON.parse(text) as ObjectLockConfiguration,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined;
          throw error;
        },
      );
      this.known.set(bucket, reading);
      reading.catch(() => this.known.delete(bucket));
    }
    return reading;
  }

  async put(bucket: string, config: ObjectLockConfiguration): Promise<void> {
    this.known.delete(bucket);
    await writeFileAtomic(this.file(bucket), JSON.stringify(config));
    this.known.set(bucket, Promise.resolve(config));
  }

  /** Forgets what was read of `bucket` (created or deleted: its files changed under s3rver). */
  forget(bucket: string): void {
    this.known.delete(bucket);
  }
}

/** The part of s3rver's Koa context the wrapped controllers use. */
export interface S3rverUploadContext {
  readonly req: IncomingMessage;
  readonly headers: Headers;
  readonly params: { readonly bucket: string };
  set(name: string, value: string): void;
}

/** s3rver's controllers this module wraps (its router calls them through their module objects). */
export interface S3rverObjectUploads {
  putObject(ctx: S3rverUploadContext): Promise<void>;
  uploadPart(ctx: S3rverUploadContext): Promise<void>;
}
export interface S3rverBucketWrites {
  putBucket(ctx: S3rverUploadContext): Promise<void>;
  deleteBucket(ctx: S3rverUploadContext): Promise<void>;
}

/** Reads and drops a request's body, so a client still sending reads the refusal, not a broken pipe. */
async function drain(request: IncomingMessage): Promise<void> {
  request.resume();
  await finished(request).catch(() => undefined);
}

/**
 * Wraps s3rver's CreateBucket (records Object Lock when the request enables it), DeleteBucket
 * (forgets it), PutObject and UploadPart (refused without a digest on a locked bucket; the
 * checksum a request sent is answered back).
 */
export function enforceObjectLock(
  objects: S3rverObjectUploads,
  buckets: S3rverBucketWrites,
  configs: ObjectLockConfigurations,
): void {
  const guard =
    (operation: LockedUpload, store: (ctx: S3rverUploadContext) => Promise<void>) =>
    async (ctx: S3rverUploadContext): Promise<void> => {
      try {
        refuseUploadWithoutDigest(operation, await configs.get(ctx.params.bucket), ctx.headers);
      } catch (error) {
        await drain(ctx.req);
        throw error;
      }
      await store(ctx);
      for (const name of CHECKSUM_HEADERS) {
        const value = ctx.headers[name];
        if (typeof value === 'string') ctx.set(name, value);
      }
    };
  objects.putObject = guard('Put Object', objects.putObject.bind(objects));
  objects.uploadPart = guard('Put Part', objects.uploadPart.bind(objects));

  const createBucket = buckets.putBucket.bind(buckets);
  buckets.putBucket = async (ctx) => {
    configs.forget(ctx.params.bucket);
    await createBucket(ctx);
    const enabled = ctx.headers['x-amz-bucket-object-lock-enabled'];
    if (typeof enabled === 'string' && enabled.toLowerCase() === 'true')
      await configs.put(ctx.params.bucket, { enabled: true });
  };
  const deleteBucket = buckets.deleteBucket.bind(buckets);
  buckets.deleteBucket = async (ctx) => {
    try {
      await deleteBucket(ctx);
    } finally {
      configs.forget(ctx.params.bucket);
    }
  };
}

/**
 * The answer to `GET` or `PUT /<bucket>?object-lock`, which s3rver's router refuses: the status
 * and XML body (empty for a PUT that succeeded). `body` is the PUT's request body.
 */
export async function objectLockRequest(
  configs: ObjectLockConfigurations,
  method: 'GET' | 'PUT',
  bucket: string,
  body: string,
): Promise<{ status: number; xml: string }> {
  const current = await configs.get(bucket);
  if (method === 'GET') {
    if (current === undefined)
      return errorAnswer(
        404,
        'ObjectLockConfigurationNotFoundError',
        'Object Lock configuration does not exist for this bucket',
        { BucketName: bucket },
      );
    return { status: 200, xml: objectLockConfigurationXml(current) };
  }
  let config: ObjectLockConfiguration;
  try {
    config = parseObjectLockConfiguration(body);
  } catch (error) {
    if (!(error instanceof S3Error)) throw error;
    return errorAnswer(error.status, error.code, error.message, error.detail);
  }
  if (current === undefined)
    return errorAnswer(
      409,
      'InvalidBucketState',
      "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
      { BucketName: bucket },
    );
  await configs.put(bucket, config);
  return { status: 200, xml: '' };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorAnswer(
  status: number,
  code: string,
  message: string,
  detail: Readonly<Record<string, string>>,
): { status: number; xml: string } {
  const details = Object.entries(detail)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return {
    status,
    xml: `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${details}</Error>`,
  };
}
