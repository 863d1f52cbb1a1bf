/**
 * Photo or video for a record (docs/protocol/records.md#item-type), from its UTIs (the table is `domain/model/uti.ts`),
 * else its file name's extension, else `dataClassType`.
 */
import type { MediaType } from '#domain/model/asset.ts';
import { mediaTypeOfUti } from '#domain/model/uti.ts';

/** File-name extensions (lower-case, no dot) that mean a still image when the UTI is unknown. */
const PHOTO_EXTENSIONS = new Set([
  'heic',
  'heif',
  'png',
  'jpg',
  'jpeg',
  'webp',
  'gif',
  'tif',
  'tiff',
  'bmp',
  'avif',
  'jxl',
  'dng',
  'cr2',
  'cr3',
  'crw',
  'arw',
  'raf',
  'rw2',
  'nef',
  'nrw',
  'pef',
  'orf',
]);

/** The extension of a file name, lower-case and without the dot, when it has one. */
export function fileExtensionOf(fileName: string): string | undefined {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0 || dot === fileName.length - 1) return undefined;
  return fileName.slice(dot + 1).toLowerCase();
}

/**
 * Decides photo or video (docs/protocol/records.md#item-type): the master's `itemType` when known; otherwise the original
 * resource's UTI; otherwise the file name's extension; otherwise `dataClassType` (1 photo, 2 video,
 * present on every recorded master); otherwise video, as both peers default.
 */
export function decideMediaType(input: {
  readonly itemType?: string;
  readonly originalUti?: string;
  readonly fileName?: string;
  readonly dataClassType?: number;
}): MediaType {
  const byUti = mediaTypeOfUti(input.itemType) ?? mediaTypeOfUti(input.originalUti);
  if (byUti) return byUti;
  const extension = input.fileName === undefined ? undefined : fileExtensionOf(input.fileName);
  if (extension !== undefined && PHOTO_EXTENSIONS.has(extension)) return 'photo';
  if (input.dataClassType === 1) return 'photo';
  return 'video';
}
