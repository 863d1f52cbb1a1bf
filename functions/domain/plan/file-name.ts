/**
 * Apple's file name for each archived version: the original keeps the name the person knows,
 * and every sibling is recognisable from it (`IMG_0001.HEIC`, `IMG_0001_HEVC.MOV`,
 * `IMG_0001-edited.JPG`, `IMG_0001.CR2`, `IMG_0001-medium.JPG`).
 */
import { type Asset, VERSION_KINDS, type VersionKind } from '#domain/model/asset.ts';
import { foldKey } from '#domain/model/key-fold.ts';
import { extensionForUti, extensionMatchesUti } from '#domain/model/uti.ts';
import type { LiveVideoName } from './live-video-name.ts';
import type { PlannedVersion } from './plan-versions.ts';
import {
  MAX_SEGMENT_BYTES,
  REPLACEMENT,
  sanitizeSegment,
  splitExtension,
  truncateUtf8,
  utf8Length,
} from './sanitize.ts';

/**
 * Marks an edited rendition. Google Takeout names edits the same way, so immich-go, Immich and
 * people who moved from Google Photos recognise it; icloud-photos-sync uses it too. icloudpd's
 * `-adjusted` appears only on a name clash, so its edits are not recognisable by name.
 */
export const EDITED_MARKER = '-edited';
/** Apple's convention (icloudpd, kei) for the motion part of a HEIC Live Photo. */
export const HEVC_MARKER = '_HEVC';

const PREVIEW_MARKERS: Partial<Record<VersionKind, string>> = {
  medium: '-medium',
  thumb: '-thumb',
  liveMedium: '-medium',
  liveThumb: '-thumb',
};

/** How to spell the name. */
export interface FileNameOptions {
  /** Inserted right after the stem, so every sibling of a suffixed photo carries it. */
  readonly suffix?: string;
  /** 1 for an asset's first archived edit; the n-th edit is `-edited-n` (never overwrites). */
  readonly editGeneration?: number;
  /**
   * Name siblings after this stem and extension instead of the asset's current file name:
   * the archived original's, so an edit or a Live Photo video archived later sits beside it
   * even if the name Apple reports has changed since.
   */
  readonly base?: BaseName;
  /** `suffix` (default) or `original`: see `LiveVideoName`. */
  readonly liveVideoName?: LiveVideoName;
}

export interface BaseName {
  readonly stem: string;
  /** The original's extension as spelled in its name (case kept), or mapped from its UTI. */
  readonly extension: string;
}

/**
 * icloudpd's fallback for an unusable name (docs/protocol/naming.md#fallback-names): the master record name with every
 * non-alphanumeric character replaced, first 12 characters.
 */
export function fallbackStem(masterRecordName: string): string {
  const cleaned = masterRecordName.replace(/[^A-Za-z0-9]/gu, REPLACEMENT).slice(0, 12);
  return cleaned === '' ? 'unnamed' : cleaned;
}

/** The sanitised stem and extension every version's name starts from. */
export function baseNameOf(asset: Asset): BaseName {
  const original = asset.versions.find((version) => version.kind === 'original');
  const originalUti = original?.uti ?? asset.itemType;
  const safe = sanitizeSegment(asset.fileName);
  const { stem, extension } = splitExtension(safe);
  if (stem === '' || safe === '') {
    return {
      stem: fallbackStem(asset.masterRecordName),
      extension: extension || (extensionForUti(originalUti) ?? ''),
    };
  }
  if (extension !== '') return { stem, extension };
  return { stem, extension: extensionForUti(originalUti) ?? '' };
}

/** The extension for a version of type `uti`: the original's spelling when it already names that type. */
function extensionFor(base: BaseName, uti: string): string {
  if (extensionMatchesUti(base.extension, uti)) return base.extension;
  return extensionForUti(uti) ?? base.extension;
}

function isHeifExtension(extension: string): boolean {
  return /^(heic|heif|hif)$/iu.test(extension);
}

interface NameParts {
  readonly stem: string;
  readonly markers: readonly string[];
  readonly extension: string;
}

/** Markers after the stem, in reading order, and the extension, for one version kind of type `uti`. */
function partsOf(
  asset: Asset,
  base: BaseName,
  kind: VersionKind,
  uti: string,
  editGeneration: number,
  liveVideoName: LiveVideoName,
): NameParts {
  const extension = extensionFor(base, uti);
  const edited = editGeneration > 1 ? `${EDITED_MARKER}-${editGeneration}` : EDITED_MARKER;
  const preview = PREVIEW_MARKERS[kind] ?? '';
  const stillExtension = (stillKind: VersionKind): string => {
    const still = asset.versions.find((version) => version.kind === stillKind);
    return still === undefined ? base.extension : extensionFor(base, still.uti);
  };
  // The motion part is named after the still it belongs to (HEIC still -> `_HEVC.MOV`, unless `original`).
  const motionOf = (stillKind: VersionKind) =>
    liveVideoName === 'suffix' && isHeifExtension(stillExtension(stillKind)) ? HEVC_MARKER : '';
  const stem = base.stem;
  switch (kind) {
    case 'original':
      return { stem, markers: [], extension: base.extension || extension };
    case 'alternative':
      return { stem, markers: [], extension };
    case 'adjusted':
      return { stem, markers: [edited], extension };
    case 'live':
      return { stem, markers: [motionOf('original')], extension };
    case 'liveAdjusted':
      return { stem, markers: [edited, motionOf('adjusted')], extension };
    case 'medium':
    case 'thumb':
      return { stem, markers: [preview], extension };
    case 'liveMedium':
    case 'liveThumb':
      return { stem, markers: [motionOf('original'), preview], extension };
  }
}

/** Joins the parts into a safe name of at most `MAX_SEGMENT_BYTES` bytes, shortening only the stem. */
function compose(asset: Asset, parts: NameParts, suffix: string): string {
  const tail = suffix + parts.markers.join('') + (parts.extension === '' ? '' : `.${parts.extension}`);
  // One byte spare for the `_` a Windows device name would get.
  const stem = truncateUtf8(parts.stem, MAX_SEGMENT_BYTES - 1 - utf8Length(tail));
  // The stem is baseNameOf's (already without zero-width characters) or an archived original's,
  // whose name a sibling must repeat as it is (keys are never renamed).
  const name = sanitizeSegment(stem + tail, { keepZeroWidth: true });
  return name === '' ? fallbackStem(asset.masterRecordName) + tail : name;
}

/**
 * The file name of `planned` for `asset`: sanitised stem, optional identity suffix, the
 * version's markers, extension. At most `MAX_SEGMENT_BYTES` UTF-8 bytes: only the stem is shortened, so the
 * suffix, markers and extension that make siblings distinct always survive.
 *
 * Never equal (even case-insensitively) to the name of another version of the same asset:
 * in the rare case the rules give two versions one name (a photo imported as `x.mov` with a
 * Live Photo video `x.MOV`; RAW+JPEG halves of one type), the later kind in the fixed order
 * original, alternative, live, adjusted, ... gets `-<kind>` (`x-live.MOV`). The check covers
 * every resource the asset has, not only the planned ones, so the name does not depend on
 * the version policy.
 */
export function versionFileName(
  asset: Asset,
  planned: PlannedVersion,
  options: FileNameOptions = {},
): string {
  const suffix = options.suffix ?? '';
  const generation = options.editGeneration ?? 1;
  const base = options.base ?? baseNameOf(asset);
  const naming = options.liveVideoName ?? 'suffix';
  const taken = new Set<string>();
  // Kinds whose names are fixed before `kind`'s (`VERSION_KINDS` order): a later sibling yields to an earlier one.
  for (const kind of VERSION_KINDS) {
    const version = kind === planned.kind ? planned.version : asset.versions.find((v) => v.kind === kind);
    if (version === undefined) continue;
    let parts = partsOf(asset, base, kind, version.uti, generation, naming);
    let name = compose(asset, parts, suffix);
    while (taken.has(foldKey(name))) {
      parts = { ...parts, markers: [...parts.markers, `-${kind}`] };
      name = compose(asset, parts, suffix);
    }
    if (kind === planned.kind) return name;
    taken.add(foldKey(name));
  }
  return compose(asset, partsOf(asset, base, planned.kind, planned.version.uti, generation, naming), suffix);
}
