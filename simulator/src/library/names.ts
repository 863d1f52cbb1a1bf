/**
 * File and album names the generator hands out, including the hostile ones a faithful library holds:
 * collisions, Unicode normalisation forms, case-only differences, path tricks, control characters,
 * Windows reserved names, very long names (docs/protocol/records.md#filenameenc, docs/protocol/naming.md).
 */
import type { AssetKind, FilenameEncoding, ItemTypeOverride } from './model.ts';

/** `{ext}` is replaced by the kind's usual extension. */
export const HOSTILE_FILE_NAMES: readonly string[] = [
  'Café.{ext}',
  'Cafe\u0301.{ext}',
  'img_0001.{ext}',
  'IMG_0001.{ext}',
  'a/b.{ext}',
  '..',
  '../../etc/passwd.{ext}',
  'IMG\u0007\u0001_0002.{ext}',
  'CON.{ext}',
  'nul.{ext}',
  'COM1.{ext}',
  'photo. ',
  ' leading space.{ext}',
  `${'Long name '.repeat(30)}.{ext}`,
  'IMG_中文_7409.{ext}',
  '🎉 party.{ext}',
  'i/n v:a\u0000l*i?d\\p<a>t"h|.{ext}',
  '.hidden.{ext}',
  'Ω≈ç√.{ext}',
];

export const ENCODING_OVERRIDES: readonly FilenameEncoding[] = [
  'STRING',
  'missing',
  'badBase64',
  'nonUtf8',
  'empty',
];
/**
 * `filenameEnc` values Apple was never seen to send (not base64, not UTF-8): they come from a peer's
 * hand-edited fixtures. Served only under the `unrecordedFilenameEncodings` quirk; otherwise
 * such a name is served as ordinary `ENCRYPTED_BYTES`.
 */
export const UNRECORDED_ENCODINGS: ReadonlySet<FilenameEncoding> = new Set(['badBase64', 'nonUtf8']);

export const ITEM_TYPE_OVERRIDES: readonly ItemTypeOverride[] = ['missing', 'noValue', 'unknown'];

export const UNKNOWN_UTI = 'com.example.unknown-type';

export function extensionFor(kind: AssetKind, itemType: string): string {
  switch (kind) {
    case 'png':
    case 'screenshot':
      return 'PNG';
    case 'video':
    case 'slomo':
    case 'timelapse':
      return 'MOV';
    case 'raw':
      return RAW_EXTENSIONS[itemType] ?? 'DNG';
    default:
      return itemType === 'public.heic' ? 'HEIC' : 'JPG';
  }
}

export const RAW_TYPES: readonly string[] = [
  'com.canon.cr2-raw-image',
  'com.adobe.raw-image',
  'com.olympus.raw-image',
  'com.panasonic.rw2-raw-image',
  'com.canon.cr3-raw-image',
];

const RAW_EXTENSIONS: Readonly<Record<string, string>> = {
  'com.canon.cr2-raw-image': 'CR2',
  'com.adobe.raw-image': 'DNG',
  'com.olympus.raw-image': 'ORF',
  'com.panasonic.rw2-raw-image': 'RW2',
  'com.canon.cr3-raw-image': 'CR3',
};

/** Generated albums: sentinels, `/` and non-ASCII names, NFC/NFD twins, a folder with a child. */
export interface AlbumSeed {
  readonly name?: string;
  readonly recordName?: string;
  readonly albumType: number;
  readonly parent?: number;
  /** Receives generated members. */
  readonly regular: boolean;
}

export const BASE_ALBUMS: readonly AlbumSeed[] = [
  { recordName: '----Root-Folder----', albumType: 3, regular: false },
  { recordName: '----Project-Root-Folder----', albumType: 3, regular: false },
  { name: 'Holidays 2019', albumType: 0, regular: true },
  { name: 'Garage vorher/nachher', albumType: 0, regular: true },
  { name: 'Jo\u0308rg', albumType: 0, regular: true },
  { name: 'Jörg', albumType: 0, regular: true },
  { name: 'Family', albumType: 3, regular: false },
  { name: 'Kids', albumType: 0, parent: 6, regular: true },
  { name: 'Kids', albumType: 0, regular: true },
  { name: '東京 🗼', albumType: 0, regular: true },
  { name: '..', albumType: 0, regular: true },
  { name: 'CON', albumType: 0, regular: true },
];
