/**
 * Downloadable resources of masters and assets with their Apple identifiers, and the reverse map the
 * CDN uses: `fileChecksum` -> the `MediaSpec` to generate (no table: the checksum decodes to its slot).
 */
import type { MediaSpec } from '../types.ts';
import { Catalog } from './catalog.ts';
import type { LibraryCore } from './core.ts';
import { CODE } from './ids.ts';
import { type Family, type MasterContent, type Resource, ZONE_KEYS } from './model.ts';

export interface IdentifiedResource {
  readonly resource: Resource;
  /** CloudKit field prefix: `resOriginal`, `resJPEGThumb`, ... (asset thumbnails are `resJPEGThumb` too). */
  readonly fieldPrefix: string;
  readonly side: 'master' | 'asset';
  readonly fileChecksum: string;
  readonly referenceChecksum: string;
  readonly wrappingKey: string;
}

const fieldPrefixOf = (family: Family): string =>
  family === 'AssetJPEGThumb' ? 'resJPEGThumb' : `res${family}`;

function identify(
  core: LibraryCore,
  slot: number,
  resource: Resource,
  side: 'master' | 'asset',
): IdentifiedResource {
  const code = CODE[resource.family];
  return {
    resource,
    fieldPrefix: fieldPrefixOf(resource.family),
    side,
    fileChecksum: core.ids.fingerprint(slot, code, resource.generation),
    referenceChecksum: core.ids.referenceChecksum(slot, code, resource.generation),
    wrappingKey: core.ids.wrappingKey(slot, code, resource.generation),
  };
}

export function masterResources(
  core: LibraryCore,
  masterSlot: number,
  content?: MasterContent,
): IdentifiedResource[] {
  const c = content ?? core.state.content(masterSlot);
  return c.resources.map((r) => identify(core, masterSlot, r, 'master'));
}

/** The renders of the asset's current edit (empty when unedited or slo-mo). */
export function assetResources(
  core: LibraryCore,
  slot: number,
  content?: MasterContent,
): IdentifiedResource[] {
  const s = core.state;
  const edit = s.state(slot).edit;
  if (!edit) return [];
  const c = content ?? s.content(s.masterOf(slot));
  return s.catalog.renders(slot, c, edit).map((r) => identify(core, slot, r, 'asset'));
}

export function mediaSpecOf(resource: IdentifiedResource, content: MasterContent): MediaSpec {
  const r = resource.resource;
  return {
    uti: r.uti,
    size: r.size,
    seed: resource.fileChecksum,
    captureTime: content.captureTime,
    timeZoneOffsetSeconds: content.timeZoneOffsetSeconds,
    width: r.width,
    height: r.height,
    ...(r.classicQuickTime ? { classicQuickTime: true } : {}),
  };
}

const MASTER_FAMILIES: ReadonlyMap<number, Family> = new Map(
  (
    ['Original', 'OriginalAlt', 'OriginalVidCompl', 'JPEGMed', 'JPEGThumb', 'VidMed', 'VidSmall'] as const
  ).map((f) => [CODE[f], f]),
);
const RENDER_FAMILIES: ReadonlyMap<number, Family> = new Map(
  (['JPEGFull', 'VidFull', 'AssetJPEGThumb'] as const).map((f) => [CODE[f], f]),
);

/**
 * What the CDN serves for a `fileChecksum`: undefined for names the library never issued and for
 * resources whose every record was purged.
 */
export function resolveResource(core: LibraryCore, fileChecksum: string): MediaSpec | undefined {
  const decoded = core.ids.decodeFingerprint(fileChecksum);
  if (!decoded) return undefined;
  const s = core.state;
  if (!s.exists(decoded.slot)) return undefined;
  const masterFamily = MASTER_FAMILIES.get(decoded.code);
  if (masterFamily !== undefined) {
    if (decoded.generation !== 0 || s.masterOf(decoded.slot) !== decoded.slot) return undefined;
    if (!ZONE_KEYS.some((zone) => s.masterExists(decoded.slot, zone))) return undefined;
    const content = s.content(decoded.slot);
    const resource = masterResources(core, decoded.slot, content).find(
      (r) => r.resource.family === masterFamily,
    );
    return resource ? mediaSpecOf(resource, content) : undefined;
  }
  const renderFamily = RENDER_FAMILIES.get(decoded.code);
  if (renderFamily === undefined || s.isPurged(decoded.slot) || decoded.generation === 0) return undefined;
  const content = s.content(s.masterOf(decoded.slot));
  // Earlier edits' renders stay downloadable while the asset exists, as CDN objects outlive edits.
  const adjustmentType =
    s.state(decoded.slot).edit?.adjustmentType ?? Catalog.adjustmentTypeFor(s.kindOf(decoded.slot));
  const render = s.catalog
    .renders(decoded.slot, content, { adjustmentType, generation: decoded.generation, at: 0 })
    .find((r) => r.family === renderFamily);
  if (!render) return undefined;
  return mediaSpecOf(
    {
      resource: render,
      fieldPrefix: fieldPrefixOf(renderFamily),
      side: 'asset',
      fileChecksum,
      referenceChecksum: '',
      wrappingKey: '',
    },
    content,
  );
}
