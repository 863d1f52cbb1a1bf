/**
 * Decoding of `*Enc` text fields (`filenameEnc`, `albumNameEnc`, ...), docs/protocol/records.md#filenameenc.
 *
 * `ENCRYPTED_BYTES` (or no stated type, kei's default) is standard base64 with padding of UTF-8
 * bytes; `STRING` is the text itself. Anything that does not decode cleanly (bad padding, characters
 * outside the alphabet, bytes that are not UTF-8, another type) is reported as unreadable rather
 * than guessed at: Node's base64 decoder silently skips bad characters, so it is never trusted alone.
 */
import { fieldType, fieldValue, type RawFields } from './field-values.ts';

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Why an encrypted text field could not be read. */
export type UnreadableTextReason = 'missing' | 'empty' | 'badBase64' | 'notUtf8' | 'unsupportedType';

export type DecodedText =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: UnreadableTextReason };

/** Decodes a standard, padded base64 string to UTF-8 text, strictly. */
export function decodeBase64Utf8(value: string): DecodedText {
  if (value === '') return { ok: false, reason: 'empty' };
  if (!STANDARD_BASE64.test(value)) return { ok: false, reason: 'badBase64' };
  try {
    return { ok: true, text: utf8.decode(Buffer.from(value, 'base64')) };
  } catch {
    return { ok: false, reason: 'notUtf8' };
  }
}

/** Reads text field `name` according to its declared type; the result is NFC-normalised. */
export function readEncryptedText(fields: RawFields, name: string): DecodedText {
  const value = fieldValue(fields, name);
  if (value === undefined) return { ok: false, reason: 'missing' };
  if (typeof value !== 'string') return { ok: false, reason: 'unsupportedType' };
  const type = fieldType(fields, name);
  let decoded: DecodedText;
  if (type === 'STRING') decoded = value === '' ? { ok: false, reason: 'empty' } : { ok: true, text: value };
  else if (type === undefined || type === 'ENCRYPTED_BYTES' || type === 'BYTES')
    decoded = decodeBase64Utf8(value);
  else decoded = { ok: false, reason: 'unsupportedType' };
  if (!decoded.ok) return decoded;
  const text = decoded.text.normalize('NFC');
  return text.trim() === '' ? { ok: false, reason: 'empty' } : { ok: true, text };
}
