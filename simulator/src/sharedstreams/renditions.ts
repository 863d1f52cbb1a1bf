/**
 * The reduced copies Apple keeps of shared-album items (docs/protocol: shared albums hold "a copy"):
 * photos at most 2,048 px on the long edge (panoramas up to 5,400 px wide), videos at most 720p.
 * Sizes follow the reduced dimensions, scaled by the simulator's `mediaScale`.
 */

export type ItemKind = 'photo' | 'panorama' | 'video';

export interface Rendition {
  /** CloudKit field prefix on the CPLMaster: `resOriginal`, `resJPEGMed`, `resVidSmall`, … */
  readonly field: 'resOriginal' | 'resJPEGMed' | 'resJPEGThumb' | 'resVidMed' | 'resVidSmall';
  readonly uti: string;
  readonly width: number;
  readonly height: number;
  readonly size: number;
}

/** Apple's limits for the shared copy (support.apple.com/108916). */
export const PHOTO_LONG_EDGE = 2048;
export const PANORAMA_MAX_WIDTH = 5400;
export const VIDEO_SHORT_EDGE = 720;

/** Scales `w`×`h` down (never up) so the longer edge is at most `edge`. */
export function fitLongEdge(w: number, h: number, edge: number): { width: number; height: number } {
  const long = Math.max(w, h);
  if (long <= edge) return { width: w, height: h };
  const f = edge / long;
  return { width: Math.round(w * f), height: Math.round(h * f) };
}

/** Scales `w`×`h` down so the shorter edge is at most `edge` (720p = short edge 720). */
function fitShortEdge(w: number, h: number, edge: number): { width: number; height: number } {
  const short = Math.min(w, h);
  if (short <= edge) return { width: w, height: h };
  const f = edge / short;
  return { width: Math.round(w * f), height: Math.round(h * f) };
}

/** The shared copy's dimensions for an original of `w`×`h`. */
export function sharedCopyDimensions(
  kind: ItemKind,
  w: number,
  h: number,
): { width: number; height: number } {
  if (kind === 'video') return fitShortEdge(w, h, VIDEO_SHORT_EDGE);
  if (kind === 'panorama' && w > h) {
    const width = Math.min(w, PANORAMA_MAX_WIDTH);
    return { width, height: Math.round((h * width) / w) };
  }
  return fitLongEdge(w, h, PHOTO_LONG_EDGE);
}

const bytes = (n: number, scale: number): number => Math.max(2048, Math.round(n * scale));

/** Every rendition of one item, the shared copy (`resOriginal`) first. */
export function renditionsOf(
  kind: ItemKind,
  original: { readonly width: number; readonly height: number },
  durationSeconds: number,
  scale: number,
): Rendition[] {
  const copy = sharedCopyDimensions(kind, original.width, original.height);
  const thumb = fitLongEdge(copy.width, copy.height, 342);
  const thumbRendition: Rendition = {
    field: 'resJPEGThumb',
    uti: 'public.jpeg',
    ...thumb,
    size: bytes(thumb.width * thumb.height * 0.2, scale),
  };
  if (kind === 'video') {
    const small = fitShortEdge(copy.width, copy.height, 360);
    return [
      { field: 'resOriginal', uti: 'public.mpeg-4', ...copy, size: bytes(durationSeconds * 280_000, scale) },
      { field: 'resVidMed', uti: 'public.mpeg-4', ...copy, size: bytes(durationSeconds * 200_000, scale) },
      { field: 'resVidSmall', uti: 'public.mpeg-4', ...small, size: bytes(durationSeconds * 60_000, scale) },
      thumbRendition,
    ];
  }
  const med = fitLongEdge(copy.width, copy.height, 1024);
  return [
    { field: 'resOriginal', uti: 'public.jpeg', ...copy, size: bytes(copy.width * copy.height * 0.3, scale) },
    { field: 'resJPEGMed', uti: 'public.jpeg', ...med, size: bytes(med.width * med.height * 0.25, scale) },
    thumbRendition,
  ];
}
