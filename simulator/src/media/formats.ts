/** Which layout each UTI gets. UTIs not listed here get seeded bytes of the exact size. */
import type { MediaSpec } from '../types.ts';
import { cr3Layout, heifLayout } from './heif.ts';
import { jpegLayout } from './jpeg.ts';
import { type Layout, seededBody } from './layout.ts';
import { pngLayout } from './png.ts';
import { mpeg4Layout, quickTimeLayout } from './quicktime.ts';
import { crwLayout, rafLayout, tiffRawLayout } from './raw.ts';

type LayoutBuilder = (spec: MediaSpec) => Layout;

const BUILDERS: Readonly<Record<string, LayoutBuilder>> = {
  'public.jpeg': jpegLayout,
  'public.heic': (spec) => heifLayout(spec, 'heic'),
  'public.heif': (spec) => heifLayout(spec, 'mif1'),
  'public.png': pngLayout,
  'com.apple.quicktime-movie': quickTimeLayout,
  'public.mpeg-4': mpeg4Layout,
  'com.canon.cr2-raw-image': (spec) => tiffRawLayout(spec, 'cr2'),
  'com.canon.cr3-raw-image': cr3Layout,
  'com.canon.crw-raw-image': crwLayout,
  'com.adobe.raw-image': (spec) => tiffRawLayout(spec, 'dng'),
  'com.olympus.raw-image': (spec) => tiffRawLayout(spec, 'orf'),
  'com.olympus.or-raw-image': (spec) => tiffRawLayout(spec, 'orf'),
  'com.panasonic.rw2-raw-image': (spec) => tiffRawLayout(spec, 'rw2'),
  'com.fuji.raw-image': rafLayout,
  'com.sony.arw-raw-image': (spec) => tiffRawLayout(spec, 'tiff'),
  'com.nikon.raw-image': (spec) => tiffRawLayout(spec, 'tiff'),
  'com.nikon.nrw-raw-image': (spec) => tiffRawLayout(spec, 'tiff'),
  'com.pentax.raw-image': (spec) => tiffRawLayout(spec, 'tiff'),
  'public.tiff': (spec) => tiffRawLayout(spec, 'tiff'),
};

/** UTIs with a real format layout (anything else is served as seeded bytes). */
export const KNOWN_UTIS: readonly string[] = Object.keys(BUILDERS);

/** The layout of the file `spec` describes; its total length is exactly `spec.size`. */
export function layoutOf(spec: MediaSpec): Layout {
  const builder = BUILDERS[spec.uti];
  if (builder) return builder(spec);
  return { head: Buffer.alloc(0), body: seededBody(spec.seed, spec.size), tail: Buffer.alloc(0) };
}
