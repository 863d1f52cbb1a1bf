/**
 * Which albums each photo is in, from the album store (its source of truth: the first sync's walk
 * and every delta write it; a manifest entry's `albums` only follows changes after the first
 * sync). For readers that need the inverse of `albumMembers` (a catalog, sidecars): one Query for
 * the albums and one per live album, then answers from memory.
 */
import { type AlbumRef, compareMembers, type StoredAlbum } from '#domain/model/album.ts';
import { assetId } from '#domain/model/manifest.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import { folderNames } from './album-paths.ts';

export interface AlbumIndex {
  /** Every album and folder the store knows, deleted ones included. */
  readonly albums: readonly StoredAlbum[];
  /** The live albums `asset` is in, in no particular order. */
  albumsOf(asset: { readonly zone: AlbumRef['zone']; readonly assetRecordName: string }): StoredAlbum[];
  /** The folder names above an album, outermost first. */
  foldersOf(album: StoredAlbum): string[];
}

export async function loadAlbumIndex(store: AlbumStore): Promise<AlbumIndex> {
  const albums = await store.loadAlbums();
  const byAsset = new Map<string, StoredAlbum[]>();
  for (const album of albums) {
    if (album.deleted || album.kind !== 'album') continue;
    for (const member of (await store.albumMembers(album)).sort(compareMembers)) {
      const key = assetId({ zone: album.zone, assetRecordName: member.assetRecordName });
      byAsset.set(key, [...(byAsset.get(key) ?? []), album]);
    }
  }
  return {
    albums,
    albumsOf: (asset) => [...(byAsset.get(assetId(asset)) ?? [])],
    foldersOf: (album) => folderNames(album, albums),
  };
}
