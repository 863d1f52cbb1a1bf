/**
 * The download workers' use case wired from its ports: the archive over the state and the bucket,
 * the work-message codec and Shared Albums' item work, as the deployed worker runs it. The Lambda
 * root passes its AWS adapters; the crash tests pass durable in-memory stores behind crashing ports.
 */
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import type { LiveVideoName } from '#domain/plan/live-video-name.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import type { IcloudDownloadConnection } from '#ports/icloud-connection.ts';
import type { ArchivingObjectStore } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { ArchiveStateStore } from '#ports/sync-state-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import type { Logger } from '#shared/logger.ts';
import type { PipelineMetrics } from '#shared/pipeline-metrics.ts';

export interface DownloaderPorts {
  readonly state: ArchiveStateStore;
  readonly objects: ArchivingObjectStore;
  readonly sharedAlbumState: SharedAlbumStateStore;
  readonly icloud: () => Promise<IcloudDownloadConnection>;
  /** The work queue, where paused long videos go on in a new message (absent: retried as before). */
  readonly continuation?: WorkQueue;
}

export interface DownloaderSettings {
  readonly deletePolicy: DeletePolicy;
  readonly versionPolicy: VersionPolicy;
  /** How new HEIC Live Photo videos are named (`suffix` when absent). */
  readonly liveVideoName?: LiveVideoName;
  readonly reserveMs: number;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly now: () => number;
  /** Items in flight per invocation (the batch's default when absent). */
  readonly batchItems?: number;
  /** Versions over this many bytes are uploaded resumably (the domain's default when absent). */
  readonly resumableFromBytes?: number;
}

export function downloaderBatchDeps(ports: DownloaderPorts, settings: DownloaderSettings): DownloadBatchDeps {
  const { deletePolicy } = settings;
  return {
    archive: {
      state: ports.state,
      objects: ports.objects,
      versionPolicy: settings.versionPolicy,
      ...(settings.liveVideoName === undefined ? {} : { liveVideoName: settings.liveVideoName }),
      deletePolicy: deletePolicy.mode,
      now: settings.now,
      ...(ports.continuation === undefined ? {} : { continuation: ports.continuation }),
      ...(settings.resumableFromBytes === undefined
        ? {}
        : { resumableFromBytes: settings.resumableFromBytes }),
    },
    icloud: ports.icloud,
    decode: parseWorkMessage,
    logger: settings.logger,
    metrics: settings.metrics,
    reserveMs: settings.reserveMs,
    ...(settings.batchItems === undefined ? {} : { batchItems: settings.batchItems }),
    sharedAlbums: { state: ports.sharedAlbumState, deletePolicy, comments: true },
  };
}
