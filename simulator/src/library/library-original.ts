/**
 * The original of a photo in the owner's own library (PrimarySync), as a new-generation Shared
 * Album copies it when the owner posts it (docs/protocol/shared-albums.md#new-generation): the
 * research reads the server-side copy from PrimarySync (`records/copy`) as keeping the master's
 * name, fingerprint and `fileChecksum`, so the album item and the library photo name one file.
 */
import type { MediaSpec } from '../types.ts';
import type { LibraryCore } from './core.ts';
import { OWNER_PRIMARY } from './model.ts';
import { masterResources, mediaSpecOf } from './resources.ts';

export interface LibraryOriginal {
  readonly assetRecordName: string;
  readonly masterName: string;
  readonly fileName: string;
  readonly fileChecksum: string;
  readonly referenceChecksum: string;
  readonly size: number;
  readonly width: number;
  readonly height: number;
  readonly uti: string;
  readonly captureTime: number;
  /** What the CDN serves for it: the same bytes as the library's original, even after a purge there. */
  readonly media: MediaSpec;
}

/** The original of `assetRecordName`, if it is a live photo of the owner's PrimarySync. */
export function libraryOriginal(core: LibraryCore, assetRecordName: string): LibraryOriginal | undefined {
  const slot = core.slotOfAssetName(assetRecordName);
  if (slot === undefined || core.state.isPurged(slot) || core.state.zoneOf(slot) !== OWNER_PRIMARY) {
    return undefined;
  }
  const masterSlot = core.state.masterOf(slot);
  const content = core.state.content(masterSlot);
  const original = masterResources(core, masterSlot, content).find((r) => r.resource.family === 'Original');
  if (original === undefined) return undefined;
  return {
    assetRecordName,
    masterName: core.masterName(masterSlot),
    fileName: content.fileName,
    fileChecksum: original.fileChecksum,
    referenceChecksum: original.referenceChecksum,
    size: original.resource.size,
    width: original.resource.width,
    height: original.resource.height,
    uti: original.resource.uti,
    captureTime: content.captureTime,
    media: mediaSpecOf(original, content),
  };
}
