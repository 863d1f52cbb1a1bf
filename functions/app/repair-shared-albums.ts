/**
 * `verify --repair` for Shared Album objects (docs/reliability.md finding 35). A missing, cut-short
 * or corrupt object is deleted (in a versioned bucket its bytes stay a noncurrent version, as the
 * library's repair leaves them), the item that owns it (the one its key's claim names, finding 23)
 * is marked as holding no object, and its album is handed to the workers again: their pass finds
 * the item not in place and stores its file afresh under the same key, still its owner's, so it
 * is counted once (findings 33-34). Items referencing the object keep their records: the
 * object comes back under the key they name.
 *
 * Order, for crash safety, as the library's repair: the object goes first, then the owner's mark,
 * then the album's `archivedCtag` (so the next detection hands it out, should the work be lost),
 * then the work. A crash part-way leaves a missing object or a marked item, which the next repair
 * (or the album's next pass) finishes; every step is idempotent.
 */

import { ConflictError } from '#domain/errors.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import { type StoredSharedAlbum, sharedAlbumCounts } from '#domain/shared-albums/state.ts';
import type { LeftAlone, RepairReason } from '#domain/verify/repair-plan.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';

export interface SharedRepairDeps {
  readonly sharedState: SharedAlbumStateStore;
  readonly objects: ObjectStore;
  readonly now: () => number;
}

/** A Shared Album object deleted (or found missing) and handed to its album's next pass. */
export interface SharedReplaced {
  readonly key: string;
  readonly reason: RepairReason;
  readonly albumguid: string;
}

export interface SharedRepairOutcome {
  readonly replaced: readonly SharedReplaced[];
  readonly unrepairable: readonly LeftAlone[];
  /** One work item per album to archive again. */
  readonly work: readonly WorkMessage['items'][number][];
}

export async function repairSharedObjects(
  deps: SharedRepairDeps,
  targets: ReadonlyMap<string, RepairReason>,
): Promise<SharedRepairOutcome> {
  const replaced: SharedReplaced[] = [];
  const unrepairable: LeftAlone[] = [];
  if (targets.size === 0) return { replaced, unrepairable, work: [] };
  const list = await deps.sharedState.loadAlbums();
  const owners = new Map<string, { albumguid: string; assetGuid: string }>();
  const shown = new Set<string>();
  for (const [albumguid, entry] of Object.entries(list?.albums ?? {})) {
    for (const item of await deps.sharedState.loadItems(albumguid)) {
      if (!targets.has(item.key) || item.library !== undefined) continue;
      // Only an item its album still shows is stored again by a pass.
      if (item.removedAt !== undefined || entry.goneAt !== undefined) continue;
      shown.add(item.key);
      if (item.ownsObject && !owners.has(item.key))
        owners.set(item.key, { albumguid, assetGuid: item.assetGuid });
    }
  }
  const albums = new Set<string>();
  for (const [key, reason] of targets) {
    const owner = owners.get(key);
    if (owner === undefined) {
      unrepairable.push({
        subject: key,
        reason: shown.has(key)
          ? `${reason}, and no item the albums show owns it`
          : `${reason}, and no album shows its item any more: nothing to download it from`,
      });
      continue;
    }
    if (reason !== 'missing') await deps.objects.delete(key);
    const items = await deps.sharedState.loadItems(owner.albumguid);
    const record = items.find((i) => i.assetGuid === owner.assetGuid);
    if (record !== undefined && record.objectDeletedAt === undefined)
      await deps.sharedState.putItem(owner.albumguid, { ...record, objectDeletedAt: deps.now() });
    albums.add(owner.albumguid);
    replaced.push({ key, reason, albumguid: owner.albumguid });
  }
  const work: WorkMessage['items'][number][] = [];
  for (const albumguid of albums) {
    const album = await handOut(deps.sharedState, albumguid);
    if (album !== undefined) work.push({ type: 'sharedAlbum', album });
  }
  return { replaced, unrepairable, work };
}

/**
 * Takes the album's `archivedCtag` (and `enqueuedCtag`) away, so its ctag is no longer "done"
 * until a pass stores every item again, and saves its counts without the objects just deleted
 * (the pass counts them again). Returns the album to hand to the workers.
 */
async function handOut(state: SharedAlbumStateStore, albumguid: string): Promise<SharedAlbum | undefined> {
  const counts = sharedAlbumCounts(await state.loadItems(albumguid));
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await state.loadAlbums();
    const before = current?.albums[albumguid];
    if (current === undefined || before === undefined) return undefined;
    const {
      archivedCtag: _archived,
      enqueuedCtag: _enqueued,
      enqueuedAt: _at,
      ...rest
    }: StoredSharedAlbum = before;
    const { revision, ...list } = current;
    try {
      await state.saveAlbums(
        { ...list, albums: { ...list.albums, [albumguid]: { ...rest, ...counts } } },
        revision,
      );
      return before.album;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  throw new ConflictError(`the shared album list kept changing while ${albumguid} was repaired`);
}

export const sharedWorkMessage = (
  items: readonly WorkMessage['items'][number][],
  runId: string,
  issuedAt: number,
): WorkMessage[] => items.map((item) => ({ v: WORK_MESSAGE_VERSION, runId, issuedAt, items: [item] }));
