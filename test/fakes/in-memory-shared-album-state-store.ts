/** The Shared Albums state in memory, with the store's compare-and-set semantics. */
import { ConflictError } from '#domain/errors.ts';
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';

export class InMemorySharedAlbumStateStore implements SharedAlbumStateStore {
  #albums: SharedAlbumsState | undefined;
  readonly #items = new Map<string, Map<string, StoredSharedItem>>();
  /** Writes made, for tests that count them. */
  writes = 0;

  async loadAlbums(): Promise<SharedAlbumsState | undefined> {
    return this.#albums === undefined ? undefined : structuredClone(this.#albums);
  }

  async saveAlbums(state: Omit<SharedAlbumsState, 'revision'>, expectedRevision: number) {
    if ((this.#albums?.revision ?? 0) !== expectedRevision) {
      throw new ConflictError(`shared albums changed since revision ${expectedRevision}`);
    }
    this.writes++;
    this.#albums = { ...structuredClone(state), revision: expectedRevision + 1 };
    return structuredClone(this.#albums);
  }

  async loadItems(albumguid: string): Promise<StoredSharedItem[]> {
    return [...(this.#items.get(albumguid)?.values() ?? [])].map((i) => structuredClone(i));
  }

  async putItem(albumguid: string, item: StoredSharedItem): Promise<void> {
    this.writes++;
    const items = this.#items.get(albumguid) ?? new Map<string, StoredSharedItem>();
    items.set(item.assetGuid, structuredClone(item));
    this.#items.set(albumguid, items);
  }

  async putItems(albumguid: string, items: readonly StoredSharedItem[]): Promise<void> {
    this.writes += Math.ceil(items.length / 25);
    const stored = this.#items.get(albumguid) ?? new Map<string, StoredSharedItem>();
    for (const item of items) stored.set(item.assetGuid, structuredClone(item));
    this.#items.set(albumguid, stored);
  }
}
