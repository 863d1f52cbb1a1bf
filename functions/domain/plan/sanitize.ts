/**
 * Makes one path segment (a folder or file name) safe everywhere an archived photo travels:
 * S3 itself, rclone, and the NAS behind it (ext4/btrfs on Linux, SMB shares, Windows NTFS,
 * macOS APFS). Non-ASCII is kept: S3 keys are UTF-8, rclone copies UTF-8 names unchanged, and
 * every NAS file system in use stores them. Stripping it (the icloudpd/kei default) turns
 * `IMG_中文_7409.JPG` into `IMG__7409.JPG` and loses what the person named the file.
 */
import { graphemes } from './graphemes.ts';

/**
 * Most bytes a file or folder name of ours may have. ext4, btrfs, ZFS, APFS and NTFS allow 255,
 * but the tools between the bucket and the disk add to names: rclone writes `<name>.<hash>.partial`
 * while copying, S3-on-disk servers (s3rver, the local runtime) append `._S3rver_metadata.json`.
 * 200 leaves 55 bytes for them, and keeps every name within the 255.
 */
export const MAX_SEGMENT_BYTES = 200;

/** What replaces every character we cannot keep. ASCII, legal everywhere, visible. */
export const REPLACEMENT = '_';

/**
 * Characters Windows/SMB forbid in names (`<>:"/\|?*`), C0 and C1 control characters, DEL,
 * and the bidirectional overrides/isolates that make a name display differently from its bytes
 * (`IMG_1234\u202EGPJ.exe` shows as `IMG_1234exe.JPG`).
 */
const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Invisible characters that make two names look identical while their keys differ: zero-width
 * space, non-joiner and joiner (U+200B..U+200D), word joiner (U+2060) and the byte order mark
 * (U+FEFF). Stripped, not replaced: there is nothing to see. A joiner between two pictographs
 * (`👩🏽‍💻`, `👨‍👩‍👧`) is part of an emoji sequence and kept.
 */
const ZERO_WIDTH =
  /[\u200b\u200c\u2060\ufeff]|(?<!\p{Extended_Pictographic}|\p{Emoji_Modifier}|\ufe0f)\u200d|\u200d(?!\p{Extended_Pictographic})/gu;

/** A UTF-16 surrogate without its partner: not encodable as UTF-8, so S3 would reject the key. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;

/** `text` with every lone surrogate replaced by `replacement` (what ES2024 `toWellFormed` does). */
export function replaceLoneSurrogates(text: string, replacement: string): string {
  return text.replace(LONE_SURROGATE, replacement);
}

/**
 * Windows device names, reserved with any extension and in any case; `¹²³` count as digits there.
 * `CONIN$` and `CONOUT$` (the console's input and output) are devices too.
 */
const RESERVED_STEM = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/iu;

/** A file extension we keep apart when shortening: 1-10 ASCII letters or digits after the last dot. */
const EXTENSION = /\.([A-Za-z0-9]{1,10})$/u;

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8 (what S3 and the file systems count). */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/**
 * The longest prefix of `text` that fits `maxBytes` of UTF-8, cut between grapheme clusters so
 * an emoji sequence or a letter with its combining accent is never split (a split leaves a
 * broken glyph, or a lone combining mark that NFC would then fold differently).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const segment of graphemes(text)) {
    const size = utf8Length(segment);
    if (used + size > maxBytes) break;
    out += segment;
    used += size;
  }
  return out;
}

/**
 * Splits `name` into stem and extension (without the dot). Only a short alphanumeric tail
 * counts as an extension, so `a.` + 300 characters is all stem and can still be shortened.
 */
export function splitExtension(name: string): { readonly stem: string; readonly extension: string } {
  const match = EXTENSION.exec(name);
  if (!match || match.index === 0) return { stem: name, extension: '' };
  return { stem: name.slice(0, match.index), extension: match[1] ?? '' };
}

/** True when Windows would treat `name` as a device (`CON`, `aux.jpg`, `Com1.tar.gz`, `LPT¹ .txt`). */
export function isReservedWindowsName(name: string): boolean {
  const firstPart = name.split('.')[0] ?? '';
  return RESERVED_STEM.test(firstPart.replace(/[ ]+$/u, ''));
}

/**
 * Returns `raw` as a safe path segment, or `''` when nothing usable is left (the caller then
 * supplies an id-based name). Deterministic and idempotent. The result:
 * - is NFC (rclone compares names after NFC; macOS hands us NFD);
 * - has no forbidden or control character, no lone surrogate (each becomes `_`);
 * - has no zero-width character outside an emoji sequence (each is dropped);
 * - has no leading or trailing whitespace and no trailing dot (Windows drops them silently,
 *   so two keys would land on one file);
 * - does not start with a dot (no hidden files on the NAS, no `.`/`..`);
 * - is not a Windows device name (prefixed with `_`, as kei does);
 * - is at most `MAX_SEGMENT_BYTES` UTF-8 bytes, shortened inside the stem so the extension survives.
 *
 * `keepZeroWidth` is for names built on an already archived one (an edit beside its original),
 * which must keep the name it was archived under, even from before zero-width characters were
 * dropped.
 */
export function sanitizeSegment(raw: string, options: { readonly keepZeroWidth?: boolean } = {}): string {
  const visible = replaceLoneSurrogates(raw, REPLACEMENT);
  let name = (options.keepZeroWidth ? visible : visible.replace(ZERO_WIDTH, ''))
    .normalize('NFC')
    .replace(FORBIDDEN, REPLACEMENT);
  name = trimEnds(name);
  if (name === '') return '';
  if (name.startsWith('.')) name = REPLACEMENT + name.slice(1);
  if (isReservedWindowsName(name)) name = REPLACEMENT + name;
  return fitSegment(name);
}

/**
 * The safe name `stem + suffix + tail` (`tail`: an extension with its dot, or nothing), with `stem`
 * cut (between graphemes) so the suffix and the tail always survive `MAX_SEGMENT_BYTES`: a suffix
 * that tells two same-named things apart must never be cut away (file-name.ts builds names so).
 * Where the cap leaves the suffix whole, this is exactly `sanitizeSegment(stem + suffix + tail)`,
 * what such names always were, so no key already archived moves.
 */
export function suffixedSegment(stem: string, suffix: string, tail = ''): string {
  const end = suffix + tail;
  const whole = sanitizeSegment(stem + end);
  if (whole.endsWith(end)) return whole;
  // One byte spare for the `_` a Windows device name would get.
  const cut = truncateUtf8(stem, MAX_SEGMENT_BYTES - 1 - utf8Length(end));
  return sanitizeSegment((cut === stem ? stem : trimEnds(cut)) + end);
}

/** Cuts `name` to `MAX_SEGMENT_BYTES` inside its stem, keeping the extension, then re-trims the cut end. */
function fitSegment(name: string): string {
  if (utf8Length(name) <= MAX_SEGMENT_BYTES) return name;
  const { stem, extension } = splitExtension(name);
  const tail = extension === '' ? '' : `.${extension}`;
  const kept = trimEnds(truncateUtf8(stem, MAX_SEGMENT_BYTES - utf8Length(tail)));
  // A stem cut down to nothing (only possible for hostile input) still yields a visible name.
  return (kept === '' ? REPLACEMENT : kept) + tail;
}

/** Drops Unicode whitespace at both ends and dots at the end, until neither is left. */
function trimEnds(name: string): string {
  let previous: string;
  let current = name;
  do {
    previous = current;
    current = current.replace(/^\s+/u, '').replace(/[\s.]+$/u, '');
  } while (current !== previous);
  return current;
}
