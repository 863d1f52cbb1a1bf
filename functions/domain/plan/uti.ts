/**
 * What a resource's UTI (`res…FileType`, spec §4.4) means for the archive: the file extension
 * its object gets and the `Content-Type` it is served with.
 *
 * Extensions are upper-case, as icloudpd and kei write them and as the iPhone names its files
 * (`IMG_0001.HEIC`, `IMG_0001.MOV`). Nikon NRW is `NRW`: the peers' `NRF` is a typo they keep
 * for compatibility, and our date layout is not icloudpd's anyway.
 */

interface UtiInfo {
  readonly extension: string;
  readonly contentType: string;
  /** Lower-case extensions a file of this type is commonly named with. */
  readonly aliases: readonly string[];
}

const info = (extension: string, contentType: string, ...aliases: string[]): UtiInfo => ({
  extension,
  contentType,
  aliases: [extension.toLowerCase(), ...aliases],
});

const UTIS: Readonly<Record<string, UtiInfo>> = {
  'public.jpeg': info('JPG', 'image/jpeg', 'jpeg', 'jpe'),
  'public.heic': info('HEIC', 'image/heic'),
  'public.heif': info('HEIF', 'image/heif', 'hif'),
  'public.png': info('PNG', 'image/png'),
  'public.tiff': info('TIFF', 'image/tiff', 'tif'),
  'com.compuserve.gif': info('GIF', 'image/gif'),
  'com.microsoft.bmp': info('BMP', 'image/bmp'),
  'org.webmproject.webp': info('WEBP', 'image/webp'),
  'public.avif': info('AVIF', 'image/avif'),
  'public.jpeg-xl': info('JXL', 'image/jxl'),
  'com.adobe.raw-image': info('DNG', 'image/x-adobe-dng'),
  'com.canon.cr2-raw-image': info('CR2', 'image/x-canon-cr2'),
  'com.canon.crw-raw-image': info('CRW', 'image/x-canon-crw'),
  'com.canon.cr3-raw-image': info('CR3', 'image/x-canon-cr3'),
  'com.sony.arw-raw-image': info('ARW', 'image/x-sony-arw'),
  'com.fuji.raw-image': info('RAF', 'image/x-fuji-raf'),
  'com.panasonic.rw2-raw-image': info('RW2', 'image/x-panasonic-rw2'),
  'com.nikon.nrw-raw-image': info('NRW', 'image/x-nikon-nrw', 'nrf'),
  'com.nikon.raw-image': info('NEF', 'image/x-nikon-nef'),
  'com.pentax.raw-image': info('PEF', 'image/x-pentax-pef'),
  'com.olympus.raw-image': info('ORF', 'image/x-olympus-orf'),
  'com.olympus.or-raw-image': info('ORF', 'image/x-olympus-orf'),
  'com.apple.quicktime-movie': info('MOV', 'video/quicktime', 'qt'),
  'public.mpeg-4': info('MP4', 'video/mp4'),
  'com.apple.m4v-video': info('M4V', 'video/x-m4v'),
  'public.3gpp': info('3GP', 'video/3gpp'),
  'public.avi': info('AVI', 'video/x-msvideo'),
  'public.mpeg': info('MPG', 'video/mpeg', 'mpeg'),
  'com.adobe.pdf': info('PDF', 'application/pdf'),
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

/** True for camera RAW types (how icloudpd detects them: `raw` in the UTI). */
export function isRawUti(uti: string | undefined): boolean {
  return uti?.includes('raw') ?? false;
}
