/**
 * Where Shared Albums land in the bucket (docs/archive-layout.md, "Shared albums"):
 * `shared-albums/<Album>/<YYYY-MM-DD>/<file name>`, every segment made safe by `sanitizeSegment`
 * (album and file names come from other people and may be anything). Album names are not unique:
 * the second album of a name gets the album's identity suffix; so does the second file of a name
 * on one day. A long name is cut to make room for the suffix, never the suffix itself.
 */
import { identitySuffix, localCaptureDate, UNDATED_FOLDER } from '../plan/object-key.ts';
import { sanitizeSegment, splitExtension, suffixedSegment } from '../plan/sanitize.ts';

export const SHARED_ALBUMS_PREFIX = 'shared-albums';
/** The folder of an album whose name sanitises to nothing. */
export const UNTITLED_ALBUM = 'Untitled album';

/** The album's folder name; `suffixed` for the second album of the same name. */
export function albumFolder(name: string, albumguid: string, suffixed: boolean): string {
  const base = sanitizeSegment(name) || UNTITLED_ALBUM;
  return suffixed ? suffixedSegment(base, identitySuffix(albumguid)) : base;
}

/** `shared-albums/<folder>/<day>/<name>`; `suffixed` puts the item's identity before the extension. */
export function sharedItemKey(
  folder: string,
  item: { readonly assetGuid: string; readonly fileName: string; readonly captureDate?: number },
  suffixed: boolean,
): string {
  const day = item.captureDate === undefined ? undefined : localCaptureDate(item.captureDate);
  const safe = sanitizeSegment(item.fileName) || 'unnamed';
  let name = safe;
  if (suffixed) {
    const { stem, extension } = splitExtension(safe);
    name = suffixedSegment(stem, identitySuffix(item.assetGuid), extension ? `.${extension}` : '');
  }
  return `${SHARED_ALBUMS_PREFIX}/${folder}/${day ?? UNDATED_FOLDER}/${name}`;
}

/** The claim that makes one stored object serve every identical item (same Apple checksum). */
export function checksumClaim(fileChecksum: string): string {
  return `shared-checksum#${Buffer.from(fileChecksum, 'base64').toString('hex')}`;
}

/** Who claims a shared item's key: the item (the object stored there is its own while the claim names it). */
export function sharedClaimant(albumguid: string, assetGuid: string): string {
  return `shared:${albumguid}/${assetGuid}`;
}
