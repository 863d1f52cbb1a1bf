/**
 * ListParts as Amazon S3 answers it (API_ListParts.html), which s3rver 3.x refuses (`405
 * MethodNotAllowed` for `GET /<bucket>/<key>?uploadId=U`): the parts an open upload holds, in
 * part-number order, each with its number, size, ETag (its MD5, quoted, s3-etags.ts) and last
 * modification; at most `max-parts` of them (S3's default and ceiling: 1,000) after
 * `part-number-marker`, with `IsTruncated` and `NextPartNumberMarker` (the last number listed) to
 * go on. An upload that is not open (never created, aborted, completed), or that belongs to
 * another key, is `404 NoSuchUpload`. A resumed upload (s3-resumable-upload.ts) checks with it
 * what S3 kept of its parts.
 *
 * Not modelled: each part's `Checksum*` (S3 lists it for an upload created with a checksum
 * algorithm; the local S3 checks a part's declared checksum but does not keep it), the initiator
 * and owner, and S3's answers to a malformed `max-parts` or `part-number-marker` (here `400
 * InvalidArgument`, naming the argument: S3's wording is not documented).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import S3Error from 's3rver/lib/models/error.js';
import { storedPart } from './atomic-s3rver-store.ts';
import { noSuchUpload } from './s3-no-such-upload.ts';

/** S3's page size when `max-parts` is absent, and the most it lists however many are asked for. */
export const MAX_PARTS_PER_PAGE = 1000;

const UPLOAD_ID = /^[0-9a-f]+$/;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A non-negative integer query argument, `fallback` when absent; `InvalidArgument` otherwise. */
function integerArgument(name: string, value: string | null, fallback: number): number {
  if (value === null) return fallback;
  if (/^[0-9]{1,10}$/.test(value)) return Number(value);
  throw new S3Error('InvalidArgument', `Argument ${name} must be an integer between 0 and 2147483647`, {
    ArgumentName: name,
    ArgumentValue: value,
  });
}

/**
 * The ListPartsResult XML for `uploadId` of `key` in `bucket`, whose uploads live under
 * `uploadsDirectory` (`<id>/key`, `<id>/<part number>`, `<id>/<part number>.md5`). Throws
 * s3rver's S3Errors (`NoSuchUpload`, `InvalidArgument`) for its error handler to write.
 */
export async function listPartsXml(
  uploadsDirectory: string,
  bucket: string,
  key: string,
  uploadId: string,
  query: URLSearchParams,
): Promise<string> {
  const maxParts = Math.min(
    MAX_PARTS_PER_PAGE,
    integerArgument('max-parts', query.get('max-parts'), MAX_PARTS_PER_PAGE),
  );
  const marker = integerArgument('part-number-marker', query.get('part-number-marker'), 0);
  if (!UPLOAD_ID.test(uploadId)) throw noSuchUpload(uploadId);
  const dir = path.join(uploadsDirectory, uploadId);
  const uploadKey = await readFile(path.join(dir, 'key'), 'utf8').catch(() => undefined);
  if (uploadKey !== key) throw noSuchUpload(uploadId);
  const numbers = (await readdir(dir))
    .filter((name) => /^[0-9]+$/.test(name))
    .map(Number)
    .filter((number) => number > marker)
    .sort((a, b) => a - b);
  const page = numbers.slice(0, maxParts);
  const truncated = numbers.length > page.length;
  const parts: string[] = [];
  for (const number of page) {
    const file = path.join(dir, String(number));
    const [stored, modified] = await Promise.all([storedPart(file), stat(file).catch(() => undefined)]);
    // A part replaced or dropped while listing is left out, as S3 lists what it holds at the time.
    if (stored === undefined || modified === undefined) continue;
    parts.push(
      `<Part><PartNumber>${number}</PartNumber><LastModified>${modified.mtime.toISOString()}</LastModified><ETag>"${stored.md5}"</ETag><Size>${stored.size}</Size></Part>`,
    );
  }
  const next = page.at(-1) ?? marker;
  return (
    `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${escapeXml(bucket)}</Bucket>` +
    `<Key>${escapeXml(key)}</Key><UploadId>${escapeXml(uploadId)}</UploadId>` +
    `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${next}</NextPartNumberMarker>` +
    `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
    `<StorageClass>STANDARD</StorageClass>${parts.join('')}</ListPartsResult>`
  );
}
