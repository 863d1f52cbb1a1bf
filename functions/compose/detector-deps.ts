/**
 * The change detector's use case wired from its ports: detection with albums, album views, Shared
 * Albums discovery and the catalog (journal and fold), as the deployed detector runs it. The
 * Lambda root passes its AWS adapters; the crash tests pass durable in-memory stores behind
 * crashing ports, so the code under fault is the code that runs in AWS.
 */
import type { DetectionRunDeps } from '#app/detection-run.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { IcloudLibraryConnection } from '#ports/icloud-connection.ts';
import type { ObjectStoreWithoutStreaming } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { DetectionStateStore } from '#ports/sync-state-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import type { Logger } from '#shared/logger.ts';
import type { PipelineMetrics } from '#shared/pipeline-metrics.ts';

export interface DetectorPorts {
  readonly state: DetectionStateStore;
  readonly albums: AlbumStore;
  readonly objects: ObjectStoreWithoutStreaming;
  readonly queue: WorkQueue;
  readonly sharedAlbumState: SharedAlbumStateStore;
  readonly icloud: () => Promise<IcloudLibraryConnection>;
}

export interface DetectorSettings {
  readonly deletePolicy: DeletePolicy;
  readonly versionPolicy: VersionPolicy;
  readonly reserveMs: number;
  readonly sharedAlbums: { readonly enabled: boolean; readonly cadenceMs: number };
  readonly xmpSidecars: boolean;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly now: () => number;
}

/** Longer than a download batch's timeout and a few schedule ticks: the work of a change is done by then. */
export const ALBUM_VIEW_SETTLE_MS = 60 * 60 * 1000;

export function detectorRunDeps(ports: DetectorPorts, settings: DetectorSettings): DetectionRunDeps {
  const { state, albums, objects } = ports;
  const { logger, metrics, now } = settings;
  return {
    state,
    albums,
    // Workers run beside the detector: a view settles once its photos' work had time to land.
    albumViews: { state, objects, settleMs: ALBUM_VIEW_SETTLE_MS, now },
    queue: ports.queue,
    icloud: ports.icloud,
    deletePolicy: settings.deletePolicy,
    versionPolicy: settings.versionPolicy,
    reserveMs: settings.reserveMs,
    logger,
    metrics,
    now,
    sharedAlbums: { ...settings.sharedAlbums, state: ports.sharedAlbumState },
    // Its album lookups: from the run's view of `albums` (app/detection-run.ts).
    catalog: { state, objects, logger, now, xmpSidecars: settings.xmpSidecars },
  };
}
