/**
 * Where the Shared Albums' state is kept between runs (docs/state.md, "Shared albums"): the album
 * list, replaced whole by compare-and-set on its revision however many albums it holds (the
 * DynamoDB store keeps the gone ones apart), and one record per archived item of each album.
 */
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';

export interface SharedAlbumStateStore {
  /** The album list as last saved, or undefined before the first. */
  loadAlbums(): Promise<SharedAlbumsState | undefined>;
  /**
   * Replaces the album list if its revision is still `expectedRevision` (`0`: must not exist);
   * otherwise throws `ConflictError`. Save only after the work it announces is enqueued.
   */
  saveAlbums(
    state: Omit<SharedAlbumsState, 'revision'>,
    expectedRevision: number,
  ): Promise<SharedAlbumsState>;
  /** Every stored item of the album, removed ones included. */
  loadItems(albumguid: string): Promise<StoredSharedItem[]>;
  /** Writes (replaces) one item's record. Idempotent. */
  putItem(albumguid: string, item: StoredSharedItem): Promise<void>;
  /**
   * Writes (replaces) several items' records of one album, in batches (one request per 25).
   * Idempotent, not atomic: a crash can leave some written and others not.
   */
  putItems(albumguid: string, items: readonly StoredSharedItem[]): Promise<void>;
}
