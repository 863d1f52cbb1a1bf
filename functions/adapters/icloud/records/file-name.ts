/**
 * The file name of a photo: its master's `filenameEnc`, or an id-based fallback when Apple's is
 * unusable (docs/protocol/records.md#filenameenc, docs/protocol/naming.md#fallback-names). A bad name never aborts anything.
 */
import { readEncryptedText, type UnreadableTextReason } from './encrypted-text.ts';
import type { RawFields } from './field-values.ts';

export type FileNameResult =
  | { readonly fileName: string; readonly source: 'filenameEnc' }
  | { readonly fileName: string; readonly source: 'fallback'; readonly reason: UnreadableTextReason };

/**
 * icloudpd's fallback (docs/protocol/naming.md#fallback-names): the master record name with every non-alphanumeric character
 * replaced by `_`, cut to 12 characters, plus the extension of the item's UTI (or `unknown`).
 * `AY6c+BsE0jjaXx9t…` with `public.jpeg` becomes `AY6c_BsE0jja.JPG`.
 */
export function fallbackFileName(masterRecordName: string, extension: string | undefined): string {
  const stem = masterRecordName.replace(/[^0-9A-Za-z]/g, '_').slice(0, 12) || 'unnamed';
  return `${stem}.${extension ?? 'unknown'}`;
}

/**
 * Decodes `filenameEnc` (NFC, otherwise unsanitised: the key layout sanitises). Missing, empty,
 * badly padded base64, non-UTF-8 bytes and unsupported types all yield the fallback name.
 */
export function fileNameOf(
  masterRecordName: string,
  masterFields: RawFields,
  fallbackExtension: string | undefined,
): FileNameResult {
  const decoded = readEncryptedText(masterFields, 'filenameEnc');
  if (decoded.ok) return { fileName: decoded.text, source: 'filenameEnc' };
  return {
    fileName: fallbackFileName(masterRecordName, fallbackExtension),
    source: 'fallback',
    reason: decoded.reason,
  };
}
