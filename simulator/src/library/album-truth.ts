/**
 * The albums' ground truth (`GET /__sim/library/albums`): every CPLAlbum of the owner's PrimarySync
 * with its folder, position and members in album order, as the CloudKit answers describe them.
 */
import type { LibraryCore } from './core.ts';

export interface GroundTruthAlbumMember {
  readonly assetRecordName: string;
  /** The CPLContainerRelation's `position`. */
  readonly position: number;
}

export interface GroundTruthAlbum {
  readonly recordName: string;
  /** `albumNameEnc` decoded; null for the sentinels, which have none. */
  readonly name: string | null;
  /** 0 album, 3 folder. */
  readonly albumType: number;
  /** `----Root-Folder----` and `----Project-Root-Folder----`: every peer skips them. */
  readonly sentinel: boolean;
  /** The folder it sits in; null at the top level. */
  readonly parentRecordName: string | null;
  readonly position: number;
  readonly deleted: boolean;
  /** Live members (not purged), by relation position; empty for folders and deleted albums. */
  readonly members: readonly GroundTruthAlbumMember[];
}

export function groundTruthAlbums(core: LibraryCore): GroundTruthAlbum[] {
  const s = core.state;
  return s.albums.map((album) => {
    const members = [...s.membersOf(album.index)]
      .filter((slot) => !s.isPurged(slot))
      .map((slot) => ({
        assetRecordName: core.assetName(slot),
        position: s.relationPosition(slot, album.index),
      }))
      .sort((a, b) => a.position - b.position || a.assetRecordName.localeCompare(b.assetRecordName));
    return {
      recordName: album.recordName,
      name: album.name ?? null,
      albumType: album.albumType,
      sentinel: album.recordName.startsWith('----'),
      parentRecordName:
        album.parentIndex === undefined ? null : (s.albums[album.parentIndex]?.recordName ?? null),
      position: album.position,
      deleted: album.deleted,
      members,
    };
  });
}
