/**
 * HEIF family (ISO base media file format with `ftyp` at offset 4):
 *
 * - `public.heic` / `public.heif`: `ftyp` (`heic` or `mif1` major, `mif1`+`heic` compatible), a
 *   `meta` box declaring a primary `hvc1` image item with its `ispe` size and an `Exif` item
 *   (capture time) linked by `cdsc`, and an `mdat` holding the Exif item then the image item's
 *   seeded payload up to the exact size. The box structure is complete and consistent (`iloc`
 *   extents point into `mdat`); the `hvc1` payload is not a decodable HEVC stream.
 * - `com.canon.cr3-raw-image`: `ftyp` with the `crx ` brand and an `mdat` of seeded bytes.
 *
 * Too small for the boxes: the header bytes cut to `size`.
 */
import type { MediaSpec } from '../types.ts';
import { box, boxHeader, boxHeaderSizeFor, fourcc, ftyp, fullBox, u8, u16, u32, u64 } from './bmff.ts';
import { cameraExif, dimensions, iphoneFor } from './camera-exif.ts';
import { type Layout, seededBody, truncatedLayout } from './layout.ts';
import { encodeTiff } from './tiff.ts';

const IMAGE_ITEM = 1;
const EXIF_ITEM = 2;

function infe(itemId: number, itemType: string): Buffer {
  return fullBox('infe', 2, 0, u16(itemId), u16(0), fourcc(itemType), Buffer.from([0]));
}

function metaBox(
  width: number,
  height: number,
  exif: { offset: number; length: number },
  image: { offset: number; length: number },
): Buffer {
  const ilocEntry = (itemId: number, extent: { offset: number; length: number }) =>
    Buffer.concat([u16(itemId), u16(0), u16(1), u64(extent.offset), u64(extent.length)]);
  return fullBox(
    'meta',
    0,
    0,
    fullBox('hdlr', 0, 0, u32(0), fourcc('pict'), Buffer.alloc(12), Buffer.from([0])),
    fullBox('pitm', 0, 0, u16(IMAGE_ITEM)),
    fullBox('iinf', 0, 0, u16(2), infe(IMAGE_ITEM, 'hvc1'), infe(EXIF_ITEM, 'Exif')),
    fullBox('iref', 0, 0, box('cdsc', u16(EXIF_ITEM), u16(1), u16(IMAGE_ITEM))),
    box(
      'iprp',
      box('ipco', fullBox('ispe', 0, 0, u32(width), u32(height))),
      fullBox('ipma', 0, 0, u32(1), u16(IMAGE_ITEM), u8(1), u8(1)),
    ),
    // offset_size 8, length_size 8, base_offset_size 0: extents may lie beyond 4 GiB.
    fullBox('iloc', 0, 0, u8(0x88), u8(0), u16(2), ilocEntry(IMAGE_ITEM, image), ilocEntry(EXIF_ITEM, exif)),
  );
}

export function heifLayout(spec: MediaSpec, major: 'heic' | 'mif1'): Layout {
  const [width, height] = dimensions(spec, [4032, 3024]);
  const { ifd0, exif } = cameraExif(spec, iphoneFor(spec.seed), width, height);
  // HEIF Exif item: 4-byte offset to the TIFF header, then "Exif\0\0" and the TIFF structure.
  const exifItem = Buffer.concat([
    u32(6),
    Buffer.from('Exif\0\0', 'latin1'),
    encodeTiff({ littleEndian: false, ifd0, exif }),
  ]);
  const fileType = ftyp(major, 0, ['mif1', 'heic']);
  const metaSize = metaBox(width, height, { offset: 0, length: 0 }, { offset: 0, length: 0 }).length;
  const mdatTotal = spec.size - fileType.length - metaSize;
  const mdatHeaderSize = boxHeaderSizeFor(mdatTotal);
  const imageLength = mdatTotal - mdatHeaderSize - exifItem.length;
  const exifOffset = fileType.length + metaSize + mdatHeaderSize;
  const meta = metaBox(
    width,
    height,
    { offset: exifOffset, length: exifItem.length },
    { offset: exifOffset + exifItem.length, length: Math.max(imageLength, 0) },
  );
  if (imageLength < 0)
    return truncatedLayout(spec.size, fileType, meta, boxHeader('mdat', 8 + exifItem.length), exifItem);
  const head = Buffer.concat([fileType, meta, boxHeader('mdat', mdatTotal), exifItem]);
  return { head, body: seededBody(spec.seed, imageLength), tail: Buffer.alloc(0) };
}

/** Canon CR3: ISO base media with the `crx ` brand. */
export function cr3Layout(spec: MediaSpec): Layout {
  const fileType = ftyp('crx ', 1, ['crx ', 'isom']);
  const mdatTotal = spec.size - fileType.length;
  const headerSize = boxHeaderSizeFor(mdatTotal);
  if (mdatTotal < headerSize) return truncatedLayout(spec.size, fileType, boxHeader('mdat', 8));
  return {
    head: Buffer.concat([fileType, boxHeader('mdat', mdatTotal)]),
    body: seededBody(spec.seed, mdatTotal - headerSize),
    tail: Buffer.alloc(0),
  };
}
