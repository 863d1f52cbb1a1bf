/**
 * What `status` says about Shared Albums, from their stored list alone (no request, no item
 * reads): how many albums, owned or joined, gone, how many items, that they are Apple's
 * reduced copies, and (from the detector's last-check record) since when the step has failed.
 */
import type { SharedAlbumsFailing } from '../model/sync-state.ts';
import { SHARED_PHOTO_MAX_EDGE, SHARED_VIDEO_MAX_HEIGHT } from './model.ts';
import type { SharedAlbumsState } from './state.ts';

export interface SharedAlbumsStatus {
  readonly albums: number;
  readonly owned: number;
  readonly joined: number;
  readonly gone: number;
  readonly items: number;
  /** Items stored as Apple's reduced shared-album copy (not the original). */
  readonly reducedItems: number;
  /** Albums whose latest change is not archived yet, or whose last pass left items to retry. */
  readonly pending: number;
  readonly note: string;
  /**
   * The session lists no legacy Shared Albums service and Apple's account, asked then (ISO time),
   * did not either: legacy albums are not archived; asked again a day later.
   */
  readonly legacyServiceMissingSince?: string;
  /**
   * The Shared Albums step has failed on every run since `since` (ISO times): nothing new is
   * archived until its cause is fixed. `reportedAt`: when the WorkGivenUp alarm was told (after a day).
   */
  readonly failing?: {
    readonly since: string;
    readonly lastFailedAt: string;
    readonly errorClass: SharedAlbumsFailing['errorClass'];
    readonly message: string;
    readonly reportedAt?: string;
  };
  readonly list: readonly {
    readonly name: string;
    readonly albumguid: string;
    readonly sharingType: 'owned' | 'subscribed';
    readonly items: number;
    readonly reducedItems: number;
    /** `legacy` albums hold reduced copies; `shared-collection` (new-generation) ones the original. */
    readonly generation: 'legacy' | 'shared-collection';
    readonly folder?: string;
    readonly state: 'archived' | 'pending' | 'gone';
  }[];
}

export const REDUCED_COPY_NOTE = `Shared albums hold Apple's reduced copies (photos at most ${SHARED_PHOTO_MAX_EDGE} px, videos at most ${SHARED_VIDEO_MAX_HEIGHT}p), not originals.`;
/** When new-generation albums are archived too: only the older albums' items are reduced. */
export const MIXED_REDUCED_COPY_NOTE = `Older shared albums hold Apple's reduced copies (photos at most ${SHARED_PHOTO_MAX_EDGE} px, videos at most ${SHARED_VIDEO_MAX_HEIGHT}p), not originals; new-generation ones (iOS 27) keep the file as posted.`;

export function sharedAlbumsStatus(
  state: SharedAlbumsState | undefined,
  failing?: SharedAlbumsFailing,
): SharedAlbumsStatus {
  const list = Object.values(state?.albums ?? {})
    .map((a) => ({
      name: a.album.name,
      albumguid: a.album.albumguid,
      sharingType: a.album.sharingType,
      items: a.itemCount ?? 0,
      reducedItems: a.reducedCount ?? 0,
      generation: a.album.collection === undefined ? ('legacy' as const) : ('shared-collection' as const),
      ...(a.folder === undefined ? {} : { folder: a.folder }),
      state:
        a.goneAt !== undefined
          ? ('gone' as const)
          : a.archivedCtag === a.album.ctag && !a.retry
            ? ('archived' as const)
            : ('pending' as const),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const live = list.filter((a) => a.state !== 'gone');
  return {
    albums: live.length,
    owned: live.filter((a) => a.sharingType === 'owned').length,
    joined: live.filter((a) => a.sharingType === 'subscribed').length,
    gone: list.length - live.length,
    items: live.reduce((n, a) => n + a.items, 0),
    reducedItems: live.reduce((n, a) => n + a.reducedItems, 0),
    pending: live.filter((a) => a.state === 'pending').length,
    note: list.some((a) => a.generation === 'shared-collection')
      ? MIXED_REDUCED_COPY_NOTE
      : REDUCED_COPY_NOTE,
    ...(state?.legacyServiceMissingAt === undefined
      ? {}
      : { legacyServiceMissingSince: new Date(state.legacyServiceMissingAt).toISOString() }),
    ...(failing === undefined ? {} : { failing: failingStatus(failing) }),
    list,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

function failingStatus(failing: SharedAlbumsFailing): NonNullable<SharedAlbumsStatus['failing']> {
  return {
    since: iso(failing.since),
    lastFailedAt: iso(failing.lastFailedAt),
    errorClass: failing.errorClass,
    message: failing.message,
    ...(failing.reportedAt === undefined ? {} : { reportedAt: iso(failing.reportedAt) }),
  };
}
