/**
 * The download workers' dependencies over an opened local stack, for a command that drains the
 * local work queue itself (`verify --repair`): the same adapters and defaults as `composeLocal`.
 */
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import type { SharedAlbumWorkerSettings } from '#app/shared-albums-work.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import type { DeleteMode } from '#domain/plan/delete-policy.ts';
import type { LiveVideoName } from '#domain/plan/live-video-name.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import { PIPELINE_DEFAULTS } from '#shared/config.ts';
import type { Logger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';

export interface LocalWorkerOptions {
  readonly state: SyncStateStore;
  readonly objects: ObjectStore;
  readonly icloud: () => Promise<IcloudConnection>;
  /** The local work queue: a paused long video goes on in a new message on it. */
  readonly continuation?: WorkQueue;
  readonly versionPolicy: VersionPolicy;
  /** How new HEIC Live Photo videos are named (`suffix` when absent). */
  readonly liveVideoName?: LiveVideoName;
  readonly deleteMode: DeleteMode;
  readonly logger: Logger;
  readonly onMessage: (result: MessageResult) => void;
  /** Shared Album work (a repair's albums to store again). */
  readonly sharedAlbums?: SharedAlbumWorkerSettings;
}

export function localDownloadDeps(options: LocalWorkerOptions): DownloadBatchDeps {
  return {
    archive: {
      state: options.state,
      objects: options.objects,
      versionPolicy: options.versionPolicy,
      ...(options.liveVideoName === undefined ? {} : { liveVideoName: options.liveVideoName }),
      deletePolicy: options.deleteMode,
      now: Date.now,
      ...(options.continuation === undefined ? {} : { continuation: options.continuation }),
    },
    icloud: options.icloud,
    decode: parseWorkMessage,
    logger: options.logger,
    metrics: new CollectedMetrics(),
    reserveMs: PIPELINE_DEFAULTS.deadlineReserveMs,
    onMessage: options.onMessage,
    ...(options.sharedAlbums === undefined ? {} : { sharedAlbums: options.sharedAlbums }),
  };
}
