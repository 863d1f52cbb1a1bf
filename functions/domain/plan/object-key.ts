/**
 * Where each archived object lives in the bucket: a tree a person is happy to browse on a NAS,
 * by the day the photo was taken where it was taken, under Apple's file names.
 *
 * `library/2024/2024-07-14/IMG_0001.HEIC`. Keys are built once and never renamed: the
 * pipeline takes an archived object's key from the manifest and only asks for candidates
 * for objects not archived yet.
 */
import { createHash } from 'node:crypto';
import type { Asset } from '#domain/model/asset.ts';
import { type BaseName, versionFileName } from './file-name.ts';
import type { LiveVideoName } from './live-video-name.ts';
import type { PlannedVersion } from './plan-versions.ts';
import { splitExtension } from './sanitize.ts';

/** First segment of every photo key. */
export const LIBRARY_PREFIX = 'library';
/** The day folder of assets whose capture time cannot be placed on a calendar. */
export const UNDATED_FOLDER = 'undated';

/** The largest offset any zone has ever used is 14 h; ISO 8601 allows 18 h. Beyond that is noise. */
const MAX_OFFSET_SECONDS = 18 * 3600;
/** Latest instant JavaScript dates represent; beyond it (or NaN) the capture time is unusable. */
const MAX_DATE_MS = 8.64e15;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** The offset when it is a plausible one (finite, within ±18 h), else undefined (treated as UTC). */
export function usableOffsetSeconds(timeZoneOffsetSeconds: number | undefined): number | undefined {
  if (timeZoneOffsetSeconds === undefined || !Number.isFinite(timeZoneOffsetSeconds)) return undefined;
  return Math.abs(timeZoneOffsetSeconds) <= MAX_OFFSET_SECONDS ? timeZoneOffsetSeconds : undefined;
}

/**
 * The capture date in the photo's own time zone, `YYYY-MM-DD`: `assetDate` shifted by
 * `timeZoneOffset` (seconds east of UTC), so a photo taken at 23:30 in California files under
 * the day the person remembers, not under UTC's next day (peers use the machine's zone,
 * which on Lambda is UTC). Unknown or implausible (beyond ±18 h) offsets count as UTC.
 * Undefined when the capture time is not a real date or its year is outside 0001-9999.
 */
export function localCaptureDate(captureTime: number, timeZoneOffsetSeconds?: number): string | undefined {
  const offset = usableOffsetSeconds(timeZoneOffsetSeconds) ?? 0;
  const local = captureTime + offset * 1000;
  if (!Number.isFinite(local) || Math.abs(local) > MAX_DATE_MS) return undefined;
  const date = new Date(local);
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) return undefined;
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return `${pad(year, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
}

/** `library/2024/2024-07-14`, or `library/undated` when the capture date is unusable. */
export function dateFolderOf(captureTime: number, timeZoneOffsetSeconds?: number): string {
  const day = localCaptureDate(captureTime, timeZoneOffsetSeconds);
  if (day === undefined) return `${LIBRARY_PREFIX}/${UNDATED_FOLDER}`;
  return `${LIBRARY_PREFIX}/${day.slice(0, 4)}/${day}`;
}

/**
 * `_` + 7 base32 characters of SHA-256(masterRecordName): the same for every version of an
 * asset (so a suffixed photo's Live Photo video and edit carry the same suffix) and for its
 * copy in the Shared Library. Base32 is single-case, so suffixes stay distinct on
 * case-insensitive file systems, where 7 base64 characters would not; 35 bits make a clash
 * between two same-named photos of one day negligible. Of an `objectId`, it names one object
 * apart from the other objects of its master (`candidateKeys`' last candidate).
 */
export function identitySuffix(identity: string): string {
  const digest = createHash('sha256').update(identity, 'utf8').digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 7) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === 7) break;
  }
  return `_${out}`;
}

export interface KeyOptions {
  /** The n-th archived edit of this asset (1 for the first); see `FileNameOptions.editGeneration`. */
  readonly editGeneration?: number;
  /**
   * The archived key of the asset's original, when there is one: siblings archived later are
   * placed in its folder and named after it (an edit sits beside its original even after the
   * person changed the photo's date).
   */
  readonly anchorKey?: string;
  /** How a HEIC Live Photo's video is named (`suffix` when absent). */
  readonly liveVideoName?: LiveVideoName;
}

/** The key `planned` gets with `suffix` (an `identitySuffix`) or without one. */
function keyFor(
  asset: Asset,
  planned: PlannedVersion,
  suffix: string | undefined,
  options: KeyOptions,
): string {
  const anchor = options.anchorKey === undefined ? undefined : splitKey(options.anchorKey);
  const folder = anchor?.folder ?? dateFolderOf(asset.captureTime, asset.timeZoneOffsetSeconds);
  const fileName = versionFileName(asset, planned, {
    ...(suffix === undefined ? {} : { suffix }),
    ...(options.editGeneration === undefined ? {} : { editGeneration: options.editGeneration }),
    ...(anchor === undefined ? {} : { base: anchor.base }),
    ...(options.liveVideoName === undefined ? {} : { liveVideoName: options.liveVideoName }),
  });
  return `${folder}/${fileName}`;
}

function splitKey(key: string): { folder: string; base: BaseName } {
  const slash = key.lastIndexOf('/');
  const { stem, extension } = splitExtension(key.slice(slash + 1));
  return { folder: key.slice(0, slash), base: { stem, extension } };
}

/**
 * The keys `planned` may be archived under, in the order the claim step tries them: the plain
 * key (Apple's name), the suffixed key (Apple's name + `identitySuffix` of the master) and, last,
 * the object's own key (Apple's name + `identitySuffix` of `planned.objectId`). The claim step
 * claims `foldKey(key)` for `planned.objectId`; the first claim it wins (or already owns)
 * is the object's key forever. Claim the original first; when it lands on the suffixed key,
 * try its siblings' suffixed keys first too, so the pair stays recognisable.
 *
 * Distinct objects of one asset always get distinct candidates (see `versionFileName`), and
 * distinct masters get distinct suffixed keys (the suffix hashes the master). Assets of one
 * master (iOS Duplicates, the Shared Library copy) each with edits of their own ask for the same
 * two usual keys for their n-th edits: the third, distinct per object, is free for any number.
 */
export function candidateKeys(
  asset: Asset,
  planned: PlannedVersion,
  options: KeyOptions = {},
): readonly [plainKey: string, suffixedKey: string, ownKey: string] {
  return [
    keyFor(asset, planned, undefined, options),
    keyFor(asset, planned, identitySuffix(asset.masterRecordName), options),
    keyFor(asset, planned, identitySuffix(planned.objectId), options),
  ];
}
