/**
 * Shared Albums' part of a detection run (docs/protocol/shared-albums.md#detecting-changes):
 * one `webgetalbumslist`, each album's `albumctag` compared with the one whose items are
 * archived. An unchanged account costs that one request and writes nothing; a changed (or new)
 * album becomes one work item for the download workers, which read its items; an album that left
 * the account's view is marked gone and handed to the workers, which say so in its view and
 * catalog lines (no request to Apple) and, under `mirror` only, delete its objects, behind the same
 * safety stop as the library.
 */

import type { SharedAlbumSource } from '../../ports/shared-album-source.ts';
import type { SharedAlbumStateStore } from '../../ports/shared-album-state-store.ts';
import type { WorkQueue } from '../../ports/work-queue.ts';
import { isDue } from '../detect/unreadable-records.ts';
import { ConflictError } from '../errors.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '../model/work.ts';
import { type DeletePolicy, deletionLimit, MassDeletionRefusedError } from '../plan/delete-policy.ts';
import type { SharedAlbumsState, StoredSharedAlbum } from './state.ts';

/** Work handed to the workers younger than this is not handed again for the same ctag. */
export const REQUEUE_AFTER_MS = 60 * 60 * 1000;
/** New-generation albums are looked for in every database at least this often (docs/protocol/shared-albums.md#new-generation). */
export const EVERY_DATABASE_RECHECK_MS = 24 * 60 * 60 * 1000;
/**
 * A session without the legacy service has Apple's account asked for it at most this often (a
 * session stored before Shared Albums lacks it; an account that has none is not asked every run).
 */
export const SERVICE_LOOKUP_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface SharedAlbumDetectionDeps {
  readonly source: SharedAlbumSource;
  readonly state: SharedAlbumStateStore;
  readonly queue: WorkQueue;
  readonly deletePolicy: DeletePolicy;
  /** Objects in the archive (for the mirror safety stop). */
  readonly archiveObjects: () => Promise<number>;
  /** Least time between two listings; 0 lists on every run. */
  readonly cadenceMs: number;
  readonly now: () => number;
  readonly runId: string;
  readonly runStartedAt: number;
  /** Called once before the first work item is enqueued (opens the run record). */
  readonly onWorkStarting?: () => Promise<void>;
}

export interface SharedAlbumDetection {
  /**
   * `skipped`: not due under the cadence (no request). `unavailable`: the session lists no
   * shared-albums service (no request). `idle`: one listing, nothing changed, nothing written.
   * `changed`: work enqueued or albums marked gone.
   */
  readonly outcome: 'skipped' | 'unavailable' | 'idle' | 'changed';
  readonly albums: number;
  readonly changedAlbums: number;
  readonly goneAlbums: number;
  readonly messagesEnqueued: number;
}

export async function detectSharedAlbums(deps: SharedAlbumDetectionDeps): Promise<SharedAlbumDetection> {
  const stored = await deps.state.loadAlbums();
  const now = deps.now();
  const none = { albums: 0, changedAlbums: 0, goneAlbums: 0, messagesEnqueued: 0 };
  if (deps.cadenceMs > 0 && stored?.checkedAt !== undefined && now - stored.checkedAt < deps.cadenceMs) {
    return { outcome: 'skipped', ...none, albums: countLive(stored) };
  }
  // What the last listing found: lets the new generation skip a database that holds no album zone.
  const known = Object.values(stored?.albums ?? {}).flatMap((a) => (a.goneAt === undefined ? [a.album] : []));
  const askedAt = stored?.everyDatabaseAskedAt;
  const askEveryDatabase =
    deps.cadenceMs > 0 || askedAt === undefined || now - askedAt >= EVERY_DATABASE_RECHECK_MS;
  const storedTokens = stored?.collectionTokens;
  const missingAt = stored?.legacyServiceMissingAt;
  const listed = await deps.source.listAlbums({
    albums: known,
    askEveryDatabase,
    ...(storedTokens === undefined ? {} : { tokens: storedTokens }),
    ...(stored?.checkedAlone === undefined ? {} : { checkedAlone: stored.checkedAlone }),
    lookUpService: missingAt === undefined || now - missingAt >= SERVICE_LOOKUP_INTERVAL_MS,
  });
  const legacyServiceMissingAt =
    listed.serviceLookup === 'none' ? now : listed.serviceLookup === 'found' ? undefined : missingAt;
  const missingMoved = legacyServiceMissingAt !== missingAt;
  const checkedAlone = listed.checkedAlone ?? stored?.checkedAlone;
  const collectionTokens = listed.tokens ?? storedTokens;
  const tokensMoved = JSON.stringify(collectionTokens ?? {}) !== JSON.stringify(storedTokens ?? {});
  const everyDatabaseAskedAt = askEveryDatabase && listed.everyDatabaseAsked ? now : askedAt;
  if (!listed.available) {
    // Remembered, so the account is not asked again on every run (status says so).
    if (missingMoved)
      await saveMerged(deps.state, stored, {
        ...withoutRevision(stored),
        albums: stored?.albums ?? {},
        legacyServiceMissingAt: now,
      });
    return { outcome: 'unavailable', ...none };
  }

  const previous = stored?.albums ?? {};
  const next: Record<string, StoredSharedAlbum> = { ...previous };
  const messages: WorkMessage[] = [];
  const message = (item: WorkMessage['items'][number]): WorkMessage => ({
    v: WORK_MESSAGE_VERSION,
    runId: deps.runId,
    runStartedAt: deps.runStartedAt,
    issuedAt: now,
    items: [item],
  });
  let changedAlbums = 0;
  const seen = new Set<string>();
  for (const album of listed.albums) {
    seen.add(album.albumguid);
    const before = previous[album.albumguid];
    const archived = before?.archivedCtag === album.ctag && before.goneAt === undefined;
    // An album marked gone since its hand-out is handed out again at once: only a hand-out says it
    // is live (clears goneAt) and makes an older gone item stale.
    const handedRecently =
      before?.goneAt === undefined &&
      before?.enqueuedCtag === album.ctag &&
      before.enqueuedAt !== undefined &&
      now - before.enqueuedAt < REQUEUE_AFTER_MS;
    // Items a pass left unstored: the album again when due, unless the hand-out since is not done.
    const retry = before?.retry;
    const retryDue =
      retry !== undefined &&
      isDue({ name: '', noUrl: true, ...retry }, now) &&
      !(handedRecently && retry.lastTriedAt <= (before?.enqueuedAt ?? 0));
    if ((archived || handedRecently) && !retryDue) {
      // Name or location changes without a new ctag are kept for the next pass; not worth a write alone.
      continue;
    }
    changedAlbums++;
    messages.push(message({ type: 'sharedAlbum', album }));
    const { goneAt: _gone, ...rest } = before ?? { album };
    next[album.albumguid] = { ...rest, album, enqueuedCtag: album.ctag, enqueuedAt: now };
  }
  const gone = Object.values(previous).filter((a) => a.goneAt === undefined && !seen.has(a.album.albumguid));
  if (gone.length > 0 && deps.deletePolicy.mode === 'mirror') {
    const wouldDelete = gone.reduce((sum, a) => sum + (a.itemCount ?? 0), 0);
    const objects = await deps.archiveObjects();
    const limit = deletionLimit(deps.deletePolicy, objects);
    if (wouldDelete > limit) {
      throw new MassDeletionRefusedError(
        wouldDelete,
        objects,
        limit,
        `${gone.length} shared albums left`,
        undefined,
        0,
        { policy: deps.deletePolicy },
      );
    }
  }
  for (const album of gone) {
    next[album.album.albumguid] = { ...album, goneAt: now };
    // The worker writes its view and catalog lines saying so (and, under mirror, deletes its files).
    messages.push(message({ type: 'sharedAlbum', album: album.album, gone: true }));
  }

  const changed = changedAlbums > 0 || gone.length > 0;
  if (messages.length > 0) {
    await deps.onWorkStarting?.();
    // Durable before the list that announces it is saved (the list is what makes work "done").
    await deps.queue.enqueue(messages);
  }
  // An idle run writes nothing, unless a cadence needs to remember when it listed.
  // (And once a day, to remember that every database was asked.)
  // (And when the tokens a next listing may start from moved: only on a run the library changed.)
  // (And when the kind checked alone changed: the next run checks the other one.)
  if (
    changed ||
    deps.cadenceMs > 0 ||
    everyDatabaseAskedAt !== askedAt ||
    tokensMoved ||
    missingMoved ||
    checkedAlone !== stored?.checkedAlone
  ) {
    await saveMerged(deps.state, stored, {
      albums: next,
      checkedAt: now,
      ...(everyDatabaseAskedAt === undefined ? {} : { everyDatabaseAskedAt }),
      ...(collectionTokens === undefined ? {} : { collectionTokens }),
      ...(checkedAlone === undefined ? {} : { checkedAlone }),
      ...(legacyServiceMissingAt === undefined ? {} : { legacyServiceMissingAt }),
    });
  }
  return {
    outcome: changed ? 'changed' : 'idle',
    albums: listed.albums.length,
    changedAlbums,
    goneAlbums: gone.length,
    messagesEnqueued: messages.length,
  };
}

function withoutRevision(
  state: SharedAlbumsState | undefined,
): Omit<SharedAlbumsState, 'revision'> | undefined {
  if (state === undefined) return undefined;
  const { revision: _revision, ...rest } = state;
  return rest;
}

function countLive(state: SharedAlbumsState): number {
  return Object.values(state.albums).filter((a) => a.goneAt === undefined).length;
}

/**
 * Saves `update`; when a worker finished an album meanwhile (a lost compare-and-set), its
 * `archivedCtag`, counts and folder are kept and the save is tried once more.
 */
async function saveMerged(
  store: SharedAlbumStateStore,
  stored: SharedAlbumsState | undefined,
  update: Omit<SharedAlbumsState, 'revision'>,
): Promise<void> {
  try {
    await store.saveAlbums(update, stored?.revision ?? 0);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const current = await store.loadAlbums();
    const albums: Record<string, StoredSharedAlbum> = { ...update.albums };
    for (const [guid, theirs] of Object.entries(current?.albums ?? {})) {
      albums[guid] = { ...(albums[guid] ?? theirs), ...workerFields(theirs) };
    }
    await store.saveAlbums({ ...update, albums }, current?.revision ?? 0);
  }
}

/**
 * What only the worker writes about an album, as it stands now: a field it cleared (a retry done)
 * stays cleared (`undefined`, which the stored JSON drops).
 */
export function workerFields(album: StoredSharedAlbum): Partial<StoredSharedAlbum> {
  const { archivedCtag, itemCount, reducedCount, objectCount, folder, retry } = album;
  return { archivedCtag, itemCount, reducedCount, objectCount, folder, retry };
}
