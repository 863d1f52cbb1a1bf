/**
 * What Amazon S3 checks of a CompleteMultipartUpload request, which s3rver 3.x does not: s3rver
 * assembled whatever parts it found on disk in part-number order, ignored the ETags and sizes
 * listed, answered a part without an ETag with a 500, and its child process died on a listed
 * part it did not have. Here, each refusal is s3rver's S3Error with S3's code, status, message
 * and error-body details (as S3 sends them on the wire), and nothing is assembled or stored
 * when one is raised: the upload stays open, to be completed correctly or aborted.
 *
 * - The body must be a well-formed `<CompleteMultipartUpload>` listing at least one `<Part>`,
 *   each with a `<PartNumber>` (an integer) and an `<ETag>`: else `400 MalformedXML` (S3 answers
 *   a request without a body, or with an empty list, the same way).
 * - Part numbers strictly ascending (a number listed twice included): else `400 InvalidPartOrder`.
 * - Each listed part uploaded, with the ETag listed (quoted or not; S3 drops the quotes):
 *   else `400 InvalidPart`, naming the part and its ETag unquoted.
 * - Every part but the last at least 5 MiB: else `400 EntityTooSmall`, naming the part and its size.
 *
 * Only the parts listed make up the object; parts uploaded but not listed are dropped with the
 * upload, as on S3. The upload itself (`404 NoSuchUpload`) and the assembly are the atomic
 * store's (`atomic-s3rver-store.ts`), which calls `refuseListedPart` for each part, and
 * `refuseInvalidPartNumber` for UploadPart's part number (1 to 10,000, else `400 InvalidArgument`).
 */
import type { IncomingMessage } from 'node:http';
import xmlParser from 'fast-xml-parser';
import S3Error from 's3rver/lib/models/error.js';
import { noSuchUpload } from './s3-no-such-upload.ts';

/** The smallest part S3 takes for any part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** A part as the request lists it, its ETag without quotes. */
export interface ListedPart {
  readonly number: number;
  readonly etag: string;
}

/** A part as the upload holds it. */
export interface StoredPart {
  readonly size: number;
  /** Hex MD5 of its bytes: the ETag UploadPart answered, unquoted. */
  readonly md5: string;
}

/** The part numbers S3 takes. */
const MAX_PART_NUMBER = 10_000;

/**
 * Throws `InvalidArgument` (naming the argument, as S3's body does) unless UploadPart's
 * `partNumber` is an integer from 1 to 10,000; s3rver stored a part under any number.
 */
export function refuseInvalidPartNumber(partNumber: number | string): void {
  const text = String(partNumber);
  if (/^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_PART_NUMBER) return;
  throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
    ArgumentName: 'partNumber',
    ArgumentValue: text,
  });
}

function malformedXml(): Error {
  return new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
}

/** Text of an XML element, its entity and character references resolved. */
function decodeXmlText(text: string): string {
  const named: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return named[name] ?? whole;
  });
}

/** The parts `xml` lists, in its order; throws `MalformedXML` when it is no valid part list. */
export function listedParts(xml: string): ListedPart[] {
  if (xml.trim() === '' || xmlParser.validate(xml) !== true) throw malformedXml();
  const document = xmlParser.parse(xml, {
    parseNodeValue: false,
    ignoreNameSpace: true,
    tagValueProcessor: (value) => decodeXmlText(value),
  }) as Record<string, unknown>;
  const root = document.CompleteMultipartUpload;
  if (root === null || typeof root !== 'object') throw malformedXml();
  const parts = (root as { Part?: unknown }).Part;
  const list = parts === undefined ? [] : Array.isArray(parts) ? parts : [parts];
  if (list.length === 0) throw malformedXml();
  return list.map((part: unknown) => {
    const { PartNumber, ETag } = (part ?? {}) as { PartNumber?: unknown; ETag?: unknown };
    if (typeof PartNumber !== 'string' || !/^[0-9]{1,9}$/.test(PartNumber) || typeof ETag !== 'string')
      throw malformedXml();
    return { number: Number(PartNumber), etag: ETag.replaceAll('"', '') };
  });
}

/** Throws `InvalidPartOrder` unless the part numbers strictly ascend. */
export function refuseUnorderedParts(parts: readonly ListedPart[], uploadId: string): void {
  for (let at = 1; at < parts.length; at++) {
    if (parts[at]!.number <= parts[at - 1]!.number)
      throw new S3Error(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        { UploadId: uploadId },
      );
  }
}

/**
 * Throws `InvalidPart` when `stored` (the upload's part under `listed.number`) is missing or is
 * not the part listed, `EntityTooSmall` when it is not the `last` and under 5 MiB.
 */
export function refuseListedPart(
  listed: ListedPart,
  stored: StoredPart | undefined,
  last: boolean,
  uploadId: string,
): void {
  if (stored === undefined || stored.md5 !== listed.etag)
    throw new S3Error(
      'InvalidPart',
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      { UploadId: uploadId, PartNumber: String(listed.number), ETag: listed.etag },
    );
  if (!last && stored.size < MIN_PART_BYTES)
    throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
      ProposedSize: String(stored.size),
      MinSizeAllowed: String(MIN_PART_BYTES),
      PartNumber: String(listed.number),
      ETag: listed.etag,
    });
}

/** The part of s3rver's Koa context its CompleteMultipartUpload controller uses. */
export interface CompleteMultipartContext {
  readonly req: IncomingMessage;
  readonly params: { readonly bucket: string; readonly key: string };
  readonly query: { readonly uploadId?: unknown };
  readonly href: string;
  readonly store: {
    putObjectMultipart(
      bucket: string,
      uploadId: string,
      parts: ListedPart[],
    ): Promise<{ size: number; etag: string }>;
  };
  body: unknown;
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Replaces s3rver's CompleteMultipartUpload controller (`objectController`, the module its
 * router calls at each request) with one that checks the request as S3 does before the store
 * assembles the parts.
 */
export function checkCompleteMultipartUpload(objectController: {
  completeMultipartUpload: (ctx: CompleteMultipartContext) => Promise<void>;
}): void {
  objectController.completeMultipartUpload = async (ctx) => {
    const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : '';
    const parts = listedParts(await readText(ctx.req));
    refuseUnorderedParts(parts, uploadId);
    if (uploadId === '') throw noSuchUpload(uploadId);
    const { etag } = await ctx.store.putObjectMultipart(ctx.params.bucket, uploadId, parts);
    ctx.body = {
      CompleteMultipartUploadResult: {
        Location: ctx.href.split('?')[0],
        Bucket: ctx.params.bucket,
        Key: ctx.params.key,
        ETag: JSON.stringify(etag),
      },
    };
  };
}
