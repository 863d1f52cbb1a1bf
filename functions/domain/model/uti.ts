/**
 * What a resource's UTI (`res…FileType`, docs/protocol/records.md#item-type) means: photo or video, the file extension
 * its object gets and the `Content-Type` it is served with. The one UTI table: record mapping
 * (adapters) and planning (domain) both read it.
 *
 * Extensions are upper-case, as icloudpd and kei write them and as the iPhone names its files
 * (`IMG_0001.HEIC`, `IMG_0001.MOV`). Nikon NRW is `NRW`: the peers' `NRF` is a typo they keep
 * for compatibility, and our date layout is not icloudpd's anyway.
 */
import type { MediaType } from './asset.ts';

interface UtiInfo {
  readonly extension: string;
  /** Undefined for a type that is neither (a PDF): the record's other clues decide. */
  readonly mediaType: MediaType | undefined;
  readonly contentType: string;
  /** Lower-case extensions a file of this type is commonly named with. */
  readonly aliases: readonly string[];
}

const info = (
  extension: string,
  mediaType: MediaType | undefined,
  contentType: string,
  ...aliases: string[]
): UtiInfo => ({
  extension,
  mediaType,
  contentType,
  aliases: [extension.toLowerCase(), ...aliases],
});

const UTIS: Readonly<Record<string, UtiInfo>> = {
  'public.jpeg': info('JPG', 'photo', 'image/jpeg', 'jpeg', 'jpe'),
  'public.heic': info('HEIC', 'photo', 'image/heic'),
  'public.heif': info('HEIF', 'photo', 'image/heif', 'hif'),
  'public.png': info('PNG', 'photo', 'image/png'),
  'public.tiff': info('TIFF', 'photo', 'image/tiff', 'tif'),
  'com.compuserve.gif': info('GIF', 'photo', 'image/gif'),
  'com.microsoft.bmp': info('BMP', 'photo', 'image/bmp'),
  'org.webmproject.webp': info('WEBP', 'photo', 'image/webp'),
  'public.avif': info('AVIF', 'photo', 'image/avif'),
  'public.jpeg-xl': info('JXL', 'photo', 'image/jxl'),
  'com.adobe.raw-image': info('DNG', 'photo', 'image/x-adobe-dng'),
  'com.canon.cr2-raw-image': info('CR2', 'photo', 'image/x-canon-cr2'),
  'com.canon.crw-raw-image': info('CRW', 'photo', 'image/x-canon-crw'),
  'com.canon.cr3-raw-image': info('CR3', 'photo', 'image/x-canon-cr3'),
  'com.sony.arw-raw-image': info('ARW', 'photo', 'image/x-sony-arw'),
  'com.fuji.raw-image': info('RAF', 'photo', 'image/x-fuji-raf'),
  'com.panasonic.rw2-raw-image': info('RW2', 'photo', 'image/x-panasonic-rw2'),
  'com.nikon.nrw-raw-image': info('NRW', 'photo', 'image/x-nikon-nrw', 'nrf'),
  'com.nikon.raw-image': info('NEF', 'photo', 'image/x-nikon-nef'),
  'com.pentax.raw-image': info('PEF', 'photo', 'image/x-pentax-pef'),
  'com.olympus.raw-image': info('ORF', 'photo', 'image/x-olympus-orf'),
  'com.olympus.or-raw-image': info('ORF', 'photo', 'image/x-olympus-orf'),
  'com.apple.quicktime-movie': info('MOV', 'video', 'video/quicktime', 'qt'),
  'public.mpeg-4': info('MP4', 'video', 'video/mp4'),
  'com.apple.m4v-video': info('M4V', 'video', 'video/x-m4v'),
  'public.3gpp': info('3GP', 'video', 'video/3gpp'),
  'public.avi': info('AVI', 'video', 'video/x-msvideo'),
  'public.mpeg': info('MPG', 'video', 'video/mpeg', 'mpeg'),
  'com.adobe.pdf': info('PDF', undefined, 'application/pdf'),
};

/** Served when the UTI is unknown: browsers download it rather than guess. */
export const UNKNOWN_CONTENT_TYPE = 'application/octet-stream';

/** The upper-case extension for `uti` (`public.heic` -> `HEIC`), or undefined when unknown. */
export function extensionForUti(uti: string | undefined): string | undefined {
  return uti === undefined ? undefined : UTIS[uti]?.extension;
}

/** The MIME type for `uti`, `application/octet-stream` when unknown. */
export function contentTypeForUti(uti: string | undefined): string {
  return (uti === undefined ? undefined : UTIS[uti]?.contentType) ?? UNKNOWN_CONTENT_TYPE;
}

/** True when a file named with `extension` (any case, no dot) is of type `uti` (`jpeg` is `public.jpeg`). */
export function extensionMatchesUti(extension: string, uti: string | undefined): boolean {
  if (uti === undefined || extension === '') return false;
  return UTIS[uti]?.aliases.includes(extension.toLowerCase()) ?? false;
}

/** Photo or video for a known UTI; undefined for an unknown one. */
export function mediaTypeOfUti(uti: string | undefined): MediaType | undefined {
  return uti === undefined ? undefined : UTIS[uti]?.mediaType;
}

/** True for camera RAW types (icloudpd's rule: the UTI mentions `raw`, in any case). */
export function isRawUti(uti: string | undefined): boolean {
  return uti !== undefined && /raw/i.test(uti);
}
