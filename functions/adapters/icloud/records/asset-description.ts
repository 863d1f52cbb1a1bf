/**
 * Title, caption, keywords, location and duration of a CPLAsset (docs/protocol/records.md#cplasset,
 * docs/protocol/records.md#location). Each is optional and read on its own: an unreadable field is
 * left out, it never makes the asset unreadable.
 */
import type { AssetDescription, AssetLocation } from '#domain/model/asset.ts';
import { readBinaryPlist } from './bplist.ts';
import { readEncryptedText } from './encrypted-text.ts';
import { fieldValue, type RawFields, readInteger, readNumber } from './field-values.ts';

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of a base64 `*Enc` field, when it is one. */
function encryptedBytes(fields: RawFields, name: string): Buffer | undefined {
  const value = fieldValue(fields, name);
  if (typeof value !== 'string' || value === '' || !STANDARD_BASE64.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}

function text(fields: RawFields, name: string): string | undefined {
  const decoded = readEncryptedText(fields, name);
  return decoded.ok ? decoded.text : undefined;
}

const finite = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** `locationEnc` (a plist dictionary: `lat`, `lon` or `lng`, `alt`), else `locationLatitude`/`locationLongitude`. */
export function readLocation(fields: RawFields): AssetLocation | undefined {
  const bytes = encryptedBytes(fields, 'locationEnc');
  const plist = bytes === undefined ? undefined : readBinaryPlist(bytes);
  let latitude: number | undefined;
  let longitude: number | undefined;
  let altitude: number | undefined;
  if (plist !== undefined && typeof plist === 'object' && !Array.isArray(plist)) {
    const dict = plist as Readonly<Record<string, unknown>>;
    latitude = finite(dict['lat']);
    longitude = finite(dict['lon']) ?? finite(dict['lng']);
    altitude = finite(dict['alt']);
  }
  latitude ??= readNumber(fields, 'locationLatitude');
  longitude ??= readNumber(fields, 'locationLongitude');
  if (latitude === undefined || longitude === undefined) return undefined;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return undefined;
  // 0,0 is what a record without a fix carries in some peers' data: not a place anyone was.
  if (latitude === 0 && longitude === 0) return undefined;
  return altitude === undefined ? { latitude, longitude } : { latitude, longitude, altitude };
}

/** `keywordsEnc`: a plist array of strings (recorded empty as `bplist00 a0`). */
export function readKeywords(fields: RawFields): string[] | undefined {
  const bytes = encryptedBytes(fields, 'keywordsEnc');
  const plist = bytes === undefined ? undefined : readBinaryPlist(bytes);
  if (!Array.isArray(plist)) return undefined;
  const keywords = plist
    .filter((k): k is string => typeof k === 'string')
    .map((k) => k.normalize('NFC').trim())
    .filter((k) => k !== '');
  return keywords.length > 0 ? keywords : undefined;
}

/** Everything the asset record describes; `original` gives the pixel size when known. */
export function readAssetDescription(
  fields: RawFields,
  original?: { readonly width?: number; readonly height?: number },
): AssetDescription | undefined {
  const durationMs = readInteger(fields, 'duration');
  const keywords = readKeywords(fields);
  const location = readLocation(fields);
  const parts: Record<string, unknown> = {
    title: text(fields, 'captionEnc'),
    caption: text(fields, 'extendedDescEnc'),
    keywords,
    location,
    width: original?.width,
    height: original?.height,
    durationMs: durationMs !== undefined && durationMs > 0 ? durationMs : undefined,
    timeZoneName: text(fields, 'timeZoneNameEnc'),
  };
  const present = Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined));
  return Object.keys(present).length === 0 ? undefined : (present as AssetDescription);
}
