/**
 * The Shared Albums part of `sync --dry-run`: the albums a real run's step would hand out
 * (domain/shared-albums/detect-shared-albums.ts, over a state that keeps its writes in memory),
 * and in each the items its worker would store, update or mark removed, read as the worker reads
 * them (domain/shared-albums/archive-shared-album.ts). Requests to Apple: the step's listing and
 * one items page per 100 items of each album it would hand out; no download, no comments.
 */

import type { WorkMessage } from '#domain/model/work.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { detectSharedAlbums } from '#domain/shared-albums/detect-shared-albums.ts';
import { sharedItemStep } from '#domain/shared-albums/item-step.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';
import { sharedObjectCount } from '#domain/shared-albums/state.ts';
import type { SharedAlbumItems, SharedAlbumSource } from '#ports/shared-album-source.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import type { SharedAlbumsSettings } from './shared-albums-step.ts';

/** What a real run's Shared Albums step would do. */
export interface SharedAlbumPlan {
  /** Albums it would hand out: new or changed, gone, or with items to try again. */
  readonly albumsChanged: number;
  /** Items it would store (or record as referencing a file already archived). */
  readonly itemsArchived: number;
  /** Items whose likes, comments or caption changed. */
  readonly itemsUpdated: number;
  /** Items gone from their album (an album gone under `mirror`: all of its items). */
  readonly itemsRemoved: number;
  /** The sizes Apple states for the items to store: an upper bound (a reference downloads nothing). */
  readonly bytesArchived: number;
  /**
   * The session named no Shared Albums service, so the account was asked (`accountLogin`), as a
   * run asks it: `found` it lists one (a run stores it in the session), `none` it does not (a run
   * remembers that for a day). The dry run stores neither.
   */
  readonly serviceLookup?: 'found' | 'none';
}

interface PlanDeps {
  readonly settings: SharedAlbumsSettings;
  readonly source: SharedAlbumSource;
  readonly state: SyncStateStore;
  readonly deletePolicy: DeletePolicy;
  readonly now: () => number;
}

/** The worker's page size (`SHARED_PAGE_ITEMS`, not imported: that module is the worker's). */
const PAGE_ITEMS = 100;

/** `store` for reading: the album list a detection would save stays in memory. */
function readOnly(store: SharedAlbumStateStore): SharedAlbumStateStore {
  return {
    loadAlbums: () => store.loadAlbums(),
    loadItems: (albumguid) => store.loadItems(albumguid),
    async saveAlbums(state, expectedRevision): Promise<SharedAlbumsState> {
      return { ...state, revision: expectedRevision + 1 };
    },
    async putItem() {},
    async putItems() {},
  };
}

export async function planSharedAlbums(deps: PlanDeps): Promise<SharedAlbumPlan> {
  const messages: WorkMessage[] = [];
  let serviceLookup: SharedAlbumPlan['serviceLookup'];
  const detection = await detectSharedAlbums({
    source: {
      ...deps.source,
      itemsPage: (...args) => deps.source.itemsPage(...args),
      comments: (...args) => deps.source.comments(...args),
      async listAlbums(known) {
        const listed = await deps.source.listAlbums(known);
        if (listed.accountAsked) serviceLookup = listed.serviceLookup;
        return listed;
      },
    },
    state: readOnly(deps.settings.state),
    queue: {
      enqueue: async (batch) => {
        messages.push(...batch);
        return { requested: batch.length, sent: batch.length };
      },
    },
    deletePolicy: deps.deletePolicy,
    archiveObjects: async () =>
      (await deps.state.getCounters()).objects + sharedObjectCount(await deps.settings.state.loadAlbums()),
    cadenceMs: deps.settings.cadenceMs,
    now: deps.now,
    runId: `dry-run-${deps.now()}`,
    runStartedAt: deps.now(),
  });
  const plan = {
    albumsChanged: detection.changedAlbums + detection.goneAlbums,
    itemsArchived: 0,
    itemsUpdated: 0,
    itemsRemoved: 0,
    bytesArchived: 0,
    ...(serviceLookup === undefined ? {} : { serviceLookup }),
  };
  for (const item of messages.flatMap((m) => m.items)) {
    if (item.type !== 'sharedAlbum') continue;
    const known = await deps.settings.state.loadItems(item.album.albumguid);
    const album = item.gone === true ? undefined : await planAlbum(deps.source, item.album, known);
    if (album === undefined) {
      // Gone: under `keep` it stays whole; under `mirror` every item it still shows goes.
      if (deps.deletePolicy.mode === 'mirror')
        plan.itemsRemoved += known.filter((i) => i.removedAt === undefined).length;
      continue;
    }
    plan.itemsArchived += album.itemsArchived;
    plan.itemsUpdated += album.itemsUpdated;
    plan.itemsRemoved += album.itemsRemoved;
    plan.bytesArchived += album.bytesArchived;
  }
  return plan;
}

/** One album's items, page by page as the worker reads them, against its stored records. */
async function planAlbum(
  source: SharedAlbumItems,
  album: SharedAlbum,
  stored: readonly StoredSharedItem[],
): Promise<Omit<SharedAlbumPlan, 'albumsChanged'>> {
  const known = new Map(stored.map((i) => [i.assetGuid, i]));
  const seen = new Set<string>();
  const plan = { itemsArchived: 0, itemsUpdated: 0, itemsRemoved: 0, bytesArchived: 0 };
  let unreadable = false;
  for (let offset = 0; ; ) {
    const page = await source.itemsPage(album, offset, offset + PAGE_ITEMS);
    if (page.problems.length > 0) unreadable = true;
    if (page.items.length === 0) break;
    for (const item of page.items) {
      if (seen.has(item.assetGuid)) continue;
      seen.add(item.assetGuid);
      const step = sharedItemStep(item, known.get(item.assetGuid));
      if (step === 'store') {
        plan.itemsArchived++;
        plan.bytesArchived += item.rendition.size;
      } else if (step === 'update') plan.itemsUpdated++;
    }
    offset += page.items.length;
    // As the worker: a short page is the last unless items archived before are still unseen.
    const unseen = stored.some((i) => i.removedAt === undefined && !seen.has(i.assetGuid));
    if (page.items.length < PAGE_ITEMS && !unseen) break;
  }
  // Items a page could not read are not known to be gone: the worker removes none then.
  if (!unreadable)
    plan.itemsRemoved = stored.filter((i) => i.removedAt === undefined && !seen.has(i.assetGuid)).length;
  return plan;
}
