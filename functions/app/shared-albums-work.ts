/**
 * The download worker's Shared Albums part: carries out the `sharedAlbum` items of a work message
 * (domain/shared-albums/archive-shared-album.ts) and adds what they did to the run record of the
 * detection that handed them out (`sharedItemsArchived`, `sharedBytesArchived`...), apart from the
 * library's counts, which `status` compares with the library's manifest.
 */

import type { ItemSlots } from '#domain/archive/item-slots.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import { classifyError } from '#domain/errors.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum, type SharedAlbumResult } from '#domain/shared-albums/archive-shared-album.ts';
import {
  GoneNotRecordedError,
  LibraryTwinPendingError,
  SharedAlbumGoneError,
} from '#domain/shared-albums/errors.ts';
import type { IcloudDownloadConnection } from '#ports/icloud-connection.ts';
import type { ArchivingObjectStore } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { ArchiveStateStore } from '#ports/sync-state-store.ts';
import type { Logger } from '#shared/logger.ts';

export interface SharedAlbumWorkerSettings {
  readonly state: SharedAlbumStateStore;
  readonly deletePolicy: DeletePolicy;
  /** Read each new or changed item's comments (one request per such item). */
  readonly comments: boolean;
}

interface WorkDeps {
  readonly archive: {
    readonly state: ArchiveStateStore;
    readonly objects: ArchivingObjectStore;
    readonly now: () => number;
  };
  readonly logger: Logger;
  readonly sharedAlbums?: SharedAlbumWorkerSettings;
  /** The batch's slots, which the library's items of the batch take too. */
  readonly itemSlots?: ItemSlots;
  /** Adds to the delivery's counts, written to the run record once, when it ends. */
  readonly count: (counts: Readonly<Record<string, number>>) => void;
}

export async function archiveSharedWork(
  deps: WorkDeps,
  icloud: IcloudDownloadConnection,
  message: WorkMessage,
  library: MessageResult,
  signal: AbortSignal,
  /** The message's delivery (SQS receive count): a new item may wait for its library twin on the first ones. */
  delivery?: number,
): Promise<MessageResult> {
  const work = message.items.filter((item) => item.type === 'sharedAlbum');
  if (work.length === 0) return library;
  const settings = deps.sharedAlbums;
  const source = icloud.sharedAlbums;
  if (settings === undefined || source === undefined) {
    deps.logger.warn('shared album work ignored: the feature is off', { albums: work.length });
    return library;
  }
  let result = library;
  for (const item of work) {
    let partial: SharedAlbumResult | undefined;
    try {
      const done = await archiveSharedAlbum(
        {
          source,
          sharedState: settings.state,
          state: deps.archive.state,
          objects: deps.archive.objects,
          downloader: icloud.downloader,
          deletePolicy: settings.deletePolicy,
          comments: settings.comments,
          now: deps.archive.now,
          signal,
          ...(deps.itemSlots === undefined ? {} : { itemSlots: deps.itemSlots }),
          ...(delivery === undefined ? {} : { delivery }),
          onRetry: (done) => {
            partial = done;
          },
        },
        item.album,
        item.gone === true,
        message.issuedAt,
      );
      if (done.skipped !== undefined) {
        // A late gone item (finding 87) or one whose list save was lost: the next listing decides.
        deps.logger.info('shared album gone item did nothing', {
          albumguid: done.albumguid,
          why: done.skipped,
        });
        continue;
      }
      deps.logger.info('shared album archived', {
        albumguid: done.albumguid,
        stored: done.stored,
        referenced: done.referenced,
        removed: done.removed,
        objectsDeleted: done.objectsDeleted,
        deletionsRefused: done.deletionsRefused,
      });
      recordCounts(deps, done);
      result = {
        ...result,
        failed: result.failed + done.failures.length,
        failures: [...result.failures, ...done.failures],
      };
    } catch (error) {
      // Left or deleted between the listing and now: the next listing marks it gone.
      if (error instanceof SharedAlbumGoneError) continue;
      // What this delivery stored is counted now: the redelivery finds those items done.
      if (partial !== undefined) recordCounts(deps, partial);
      if (error instanceof LibraryTwinPendingError) {
        // Expected on a first sync that archives a photo and its album copy at once: no warning.
        deps.logger.info('shared album waits for library originals', { albumguid: item.album.albumguid });
        throw error;
      }
      if (error instanceof GoneNotRecordedError) {
        // Delivered before the detector saved the list: expected now and then, no warning.
        deps.logger.info('shared album gone item waits for the list to record it', {
          albumguid: item.album.albumguid,
        });
        throw error;
      }
      deps.logger.warn('shared album not archived', {
        albumguid: item.album.albumguid,
        class: classifyError(error),
      });
      throw error;
    }
  }
  return result;
}

/** Adds what an album's delivery did to the run record of the detection that handed it out (when the delivery ends). */
function recordCounts(deps: WorkDeps, done: SharedAlbumResult): void {
  deps.count({
    sharedItemsArchived: done.stored + done.referenced,
    sharedItemsUpdated: done.updated,
    sharedItemsRemoved: done.removed,
    sharedObjectsDeleted: done.objectsDeleted,
    sharedBytesArchived: done.bytes,
  });
}
