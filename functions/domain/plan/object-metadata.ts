/**
 * What each archived object carries in S3: the `Content-Type`, rclone's `mtime` and
 * `md5chksum`, and the iCloud facts that identify it.
 *
 * Only facts that never change go here. S3 metadata can only be changed by copying the
 * object, which changes its Last-Modified (and, for multipart objects, its ETag), so rclone
 * would copy it to the NAS again; a photo favourited ten times would be copied ten times.
 * Favourite, hidden, albums, trash state and captions live in the manifest instead.
 *
 * Every value is printable ASCII (HTTP headers are; Node refuses anything else) and the
 * whole set stays under S3's 2 KB user-metadata limit: free text is percent-encoded UTF-8
 * (RFC 3986, decode with `decodeURIComponent`) and every value has a byte cap.
 */
import type { Asset, AssetVersion, VersionKind } from '#domain/model/asset.ts';
import { contentTypeForUti } from '#domain/model/uti.ts';
import { graphemes } from './graphemes.ts';
import { localCaptureDate, usableOffsetSeconds } from './object-key.ts';
import type { PlannedVersion } from './plan-versions.ts';
import { replaceLoneSurrogates } from './sanitize.ts';

/** S3's limit: the UTF-8 bytes of every user-metadata key and value, summed. */
export const S3_USER_METADATA_LIMIT_BYTES = 2048;

/** User-metadata keys (S3 stores them lower-case, sent as `x-amz-meta-<key>`). */
export const METADATA_KEYS = {
  /** Capture time for rclone (`X-Amz-Meta-Mtime`), seconds since the epoch, fixed-point. */
  mtime: 'mtime',
  /** Base64 of the 16-byte MD5 of the bytes, as rclone writes it for multipart uploads. */
  md5: 'md5chksum',
  /** Capture time in the photo's own zone, RFC 3339 (`Z` when the zone is unknown). */
  captured: 'icloud-captured',
  zone: 'icloud-zone',
  asset: 'icloud-asset',
  master: 'icloud-master',
  /** Apple's `fileChecksum` of this resource (an identity, not a hash of the bytes). */
  fileChecksum: 'icloud-checksum',
  version: 'icloud-version',
  uti: 'icloud-uti',
  /** Apple's file name as imported, percent-encoded UTF-8. */
  fileName: 'icloud-filename',
  /** Comma-separated keys above whose value was cut to its cap. */
  truncated: 'icloud-truncated',
} as const;

/** Byte caps per value: with the key names at most 1,679 bytes, below 2048 (asserted in tests). */
const CAPS: Readonly<Record<string, number>> = {
  [METADATA_KEYS.mtime]: 32,
  [METADATA_KEYS.md5]: 24,
  [METADATA_KEYS.captured]: 32,
  [METADATA_KEYS.zone]: 128,
  [METADATA_KEYS.asset]: 96,
  [METADATA_KEYS.master]: 96,
  [METADATA_KEYS.fileChecksum]: 96,
  [METADATA_KEYS.version]: 16,
  [METADATA_KEYS.uti]: 96,
  [METADATA_KEYS.fileName]: 768,
  [METADATA_KEYS.truncated]: 160,
};

/** What the archive step sends with the object. */
export interface ObjectMetadata {
  readonly contentType: string;
  /** User metadata, keys without the `x-amz-meta-` prefix. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Range where rclone can represent the time (Go's int64 nanoseconds: years 1678-2262). */
const MAX_RCLONE_MS = 9_223_372_036_854;

/**
 * rclone's `mtime` format: seconds since the epoch as a fixed-point decimal, trailing zeros
 * of the fraction dropped, no exponent, sign before the magnitude (`1720999800.25`,
 * `-0.5`): exactly what rclone's own writer produces, so its parser reads it to the
 * millisecond. Undefined when rclone could not represent the time (it then uses the upload time).
 */
export function formatRcloneMtime(epochMs: number): string | undefined {
  if (!Number.isSafeInteger(epochMs) || Math.abs(epochMs) > MAX_RCLONE_MS) return undefined;
  if (epochMs < 0) return `-${formatRcloneMtime(-epochMs)}`;
  const seconds = Math.floor(epochMs / 1000);
  const fraction = String(epochMs % 1000)
    .padStart(3, '0')
    .replace(/0+$/u, '');
  return fraction === '' ? String(seconds) : `${seconds}.${fraction}`;
}

/** `{ mtime }` for `epochMs` in rclone's format, or nothing when rclone could not represent it. */
export function mtimeMetadata(epochMs: number): Readonly<Record<string, string>> {
  const mtime = formatRcloneMtime(epochMs);
  return mtime === undefined ? {} : { [METADATA_KEYS.mtime]: mtime };
}

/**
 * RFC 3339 capture time in the photo's own zone (`2024-07-14T23:30:00.000-08:00`), or in UTC
 * with `Z` when the offset is unknown. RFC 3339 offsets are whole minutes, so an offset with
 * seconds (historic local mean time) is rounded. Undefined when the time is unusable.
 */
export function formatCaptureTime(captureTime: number, timeZoneOffsetSeconds?: number): string | undefined {
  const exact = usableOffsetSeconds(timeZoneOffsetSeconds);
  const offset = exact === undefined ? 0 : Math.round(exact / 60) * 60;
  if (localCaptureDate(captureTime, offset) === undefined) return undefined;
  const local = new Date(captureTime + offset * 1000).toISOString().slice(0, -1);
  if (exact === undefined) return `${local}Z`;
  const minutes = Math.abs(offset) / 60;
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${local}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}

/**
 * Percent-encodes everything outside printable ASCII, and `%` itself, so the value is a legal
 * header and `decodeURIComponent` gives the original back. `IMG_0001.HEIC` stays readable.
 */
export function encodeHeaderValue(value: string): string {
  return replaceLoneSurrogates(value, '\uFFFD').replace(/[^\x20-\x24\x26-\x7e]+/gu, (run: string) =>
    encodeURIComponent(run),
  );
}

/** The encoded value, cut to `cap` bytes between grapheme clusters (never inside an escape). */
function encodeCapped(value: string, cap: number): { readonly text: string; readonly cut: boolean } {
  const whole = encodeHeaderValue(value);
  if (whole.length <= cap) return { text: whole, cut: false };
  let text = '';
  for (const segment of graphemes(value)) {
    const encoded = encodeHeaderValue(segment);
    if (text.length + encoded.length > cap) break;
    text += encoded;
  }
  return { text, cut: true };
}

export interface MetadataInput {
  readonly asset: Pick<
    Asset,
    'zone' | 'assetRecordName' | 'masterRecordName' | 'captureTime' | 'timeZoneOffsetSeconds' | 'fileName'
  >;
  readonly kind: VersionKind;
  readonly version: Pick<AssetVersion, 'fileChecksum' | 'uti'>;
  /**
   * Base64 of the content's MD5, when the archive step knows it (it computes it while
   * streaming and sets it with a copy, or before a single PUT). Omitted otherwise.
   */
  readonly md5Base64?: string;
}

/**
 * The `Content-Type` and user metadata of one archived object. Deterministic; every value
 * printable ASCII; the total under `S3_USER_METADATA_LIMIT_BYTES` whatever the input.
 *
 * @throws RangeError when `md5Base64` is not the base64 of 16 bytes (a wrong value would make
 *   rclone reject every download of the object).
 */
export function buildObjectMetadata(input: MetadataInput): ObjectMetadata {
  const { asset, version } = input;
  const raw: Array<[string, string | undefined]> = [
    [METADATA_KEYS.mtime, formatRcloneMtime(asset.captureTime)],
    [METADATA_KEYS.md5, input.md5Base64 === undefined ? undefined : checkedMd5(input.md5Base64)],
    [METADATA_KEYS.captured, formatCaptureTime(asset.captureTime, asset.timeZoneOffsetSeconds)],
    [METADATA_KEYS.zone, asset.zone.zoneName],
    [METADATA_KEYS.asset, asset.assetRecordName],
    [METADATA_KEYS.master, asset.masterRecordName],
    [METADATA_KEYS.fileChecksum, version.fileChecksum],
    [METADATA_KEYS.version, input.kind],
    [METADATA_KEYS.uti, version.uti],
    [METADATA_KEYS.fileName, asset.fileName],
  ];
  const metadata: Record<string, string> = {};
  const truncated: string[] = [];
  for (const [key, value] of raw) {
    if (value === undefined || value === '') continue;
    const { text, cut } = encodeCapped(value, CAPS[key] ?? 0);
    if (cut) truncated.push(key);
    metadata[key] = text;
  }
  if (truncated.length > 0) metadata[METADATA_KEYS.truncated] = truncated.join(',');
  return { contentType: contentTypeForUti(version.uti), metadata };
}

/** Bytes S3 counts for `metadata`: UTF-8 of every key and value. */
export function userMetadataBytes(metadata: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const [key, value] of Object.entries(metadata)) {
    total += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  return total;
}

function checkedMd5(value: string): string {
  if (!/^[A-Za-z0-9+/]{22}==$/u.test(value)) {
    throw new RangeError('md5chksum must be the base64 of a 16-byte MD5 digest');
  }
  return value;
}

/** Convenience for the pipeline: metadata of one planned version of a full asset. */
export function metadataForPlanned(
  asset: Asset,
  planned: PlannedVersion,
  md5Base64?: string,
): ObjectMetadata {
  return buildObjectMetadata({
    asset,
    kind: planned.kind,
    version: planned.version,
    ...(md5Base64 === undefined ? {} : { md5Base64 }),
  });
}
