/**
 * Uniform Type Identifiers: photo or video, and the file extension a resource gets (spec §4.4).
 * Extensions are upper-case like icloudpd's and kei's, so names stay compatible with their archives
 * (including kei's `NRF` for `com.nikon.nrw-raw-image`, kept for the same reason).
 */
import type { MediaType } from '#domain/model/asset.ts';

interface UtiInfo {
  readonly extension: string;
  readonly mediaType: MediaType;
}

const UTIS: Readonly<Record<string, UtiInfo>> = {
  'public.jpeg': { extension: 'JPG', mediaType: 'photo' },
  'public.heic': { extension: 'HEIC', mediaType: 'photo' },
  'public.heif': { extension: 'HEIF', mediaType: 'photo' },
  'public.png': { extension: 'PNG', mediaType: 'photo' },
  'public.tiff': { extension: 'TIFF', mediaType: 'photo' },
  'com.compuserve.gif': { extension: 'GIF', mediaType: 'photo' },
  'com.microsoft.bmp': { extension: 'BMP', mediaType: 'photo' },
  'public.avif': { extension: 'AVIF', mediaType: 'photo' },
  'public.jpeg-xl': { extension: 'JXL', mediaType: 'photo' },
  'org.webmproject.webp': { extension: 'WEBP', mediaType: 'photo' },
  'com.adobe.raw-image': { extension: 'DNG', mediaType: 'photo' },
  'com.canon.cr2-raw-image': { extension: 'CR2', mediaType: 'photo' },
  'com.canon.crw-raw-image': { extension: 'CRW', mediaType: 'photo' },
  'com.canon.cr3-raw-image': { extension: 'CR3', mediaType: 'photo' },
  'com.sony.arw-raw-image': { extension: 'ARW', mediaType: 'photo' },
  'com.fuji.raw-image': { extension: 'RAF', mediaType: 'photo' },
  'com.panasonic.rw2-raw-image': { extension: 'RW2', mediaType: 'photo' },
  'com.nikon.nrw-raw-image': { extension: 'NRF', mediaType: 'photo' },
  'com.nikon.raw-image': { extension: 'NEF', mediaType: 'photo' },
  'com.pentax.raw-image': { extension: 'PEF', mediaType: 'photo' },
  'com.olympus.raw-image': { extension: 'ORF', mediaType: 'photo' },
  'com.olympus.or-raw-image': { extension: 'ORF', mediaType: 'photo' },
  'com.apple.quicktime-movie': { extension: 'MOV', mediaType: 'video' },
  'public.mpeg-4': { extension: 'MP4', mediaType: 'video' },
  'com.apple.m4v-video': { extension: 'M4V', mediaType: 'video' },
  'public.3gpp': { extension: '3GP', mediaType: 'video' },
  'public.avi': { extension: 'AVI', mediaType: 'video' },
  'public.mpeg': { extension: 'MPG', mediaType: 'video' },
};

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

/** The upper-case extension for a UTI, or undefined when the UTI is not in the table. */
export function extensionForUti(uti: string | undefined): string | undefined {
  return uti === undefined ? undefined : UTIS[uti]?.extension;
}

/** Photo or video for a known UTI; undefined for an unknown one. */
export function mediaTypeOfUti(uti: string | undefined): MediaType | undefined {
  return uti === undefined ? undefined : UTIS[uti]?.mediaType;
}

/** True for RAW image UTIs (icloudpd's rule: the UTI mentions `raw`). */
export function isRawUti(uti: string | undefined): boolean {
  return uti !== undefined && /raw/i.test(uti);
}

/** The extension of a file name, lower-case and without the dot, when it has one. */
export function fileExtensionOf(fileName: string): string | undefined {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0 || dot === fileName.length - 1) return undefined;
  return fileName.slice(dot + 1).toLowerCase();
}

/**
 * Decides photo or video (spec §4.4): the master's `itemType` when known; otherwise the original
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
