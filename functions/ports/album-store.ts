/**
 * What the archive remembers about albums: one record per album or folder, and its members in
 * album order. Kept beside the sync state (the same table in AWS) but its own port, so the many
 * users of `SyncStateStore` need not know about albums.
 *
 * Detection writes albums and members as it reads them from iCloud (under the detection lock);
 * the album-view writer then writes the views and records where it wrote them. Album writes are
 * compare-and-set on `revision` (`0`: must be new), so a view writer never clears a stale flag
 * detection set after the writer read the album.
 */
import type { AlbumMember, AlbumRef, StoredAlbum, StoredAlbumInput } from '#domain/model/album.ts';
import type { ZoneRef } from '#domain/model/zone.ts';

export interface AlbumStore {
  /** Every album and folder of every zone, deleted ones included, in no particular order. */
  loadAlbums(): Promise<StoredAlbum[]>;
  loadAlbum(ref: AlbumRef): Promise<StoredAlbum | undefined>;
  /**
   * Replaces an album's record if its revision is still `expectedRevision` (`0`: must be new);
   * otherwise throws `ConflictError`.
   */
  saveAlbum(album: StoredAlbumInput, expectedRevision: number): Promise<StoredAlbum>;
  /** The album's members in album order (`compareMembers`). */
  albumMembers(album: AlbumRef): Promise<AlbumMember[]>;
  /** Adds members or moves them to a new position. Idempotent. */
  putAlbumMembers(album: AlbumRef, members: readonly AlbumMember[]): Promise<void>;
  /** Removes members; names that are not members are ignored. Idempotent. */
  removeAlbumMembers(album: AlbumRef, assetRecordNames: readonly string[]): Promise<void>;
  /**
   * The record names of the albums `assetRecordName` is a member of in `zone` (the inverse of
   * `albumMembers`, kept by the same writes): an album's view shows its photos' state, so a
   * change to a photo makes its albums' views stale.
   */
  albumsOfAsset(zone: ZoneRef, assetRecordName: string): Promise<string[]>;
}
