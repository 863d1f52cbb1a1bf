/**
 * The local composition root: the one-machine runtime's adapters (the local S3/DynamoDB/SQS
 * servers under a folder, each started on first use; the iCloud connection from the session
 * file) and the dependencies of each use case, with the same defaults as the Lambdas
 * (`PIPELINE_DEFAULTS`).
 */
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import type { ExchangeObserver } from '#adapters/icloud/http/types.ts';
import { storedSignInLatch } from '#adapters/icloud/session/stored-latch.ts';
import { albumNamesFrom, albumsOfAssetsFrom, type CatalogDeps } from '#app/catalog-upkeep.ts';
import type { DetectionRunDeps } from '#app/detection-run.ts';
import type { DownloadBatchDeps, ItemProgress } from '#app/download-batch.ts';
import type { RedriveDeps } from '#app/redrive-dead-letters.ts';
import { OneRunAlbumStore } from '#domain/albums/one-run-album-store.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import type { LiveVideoName } from '#domain/plan/live-video-name.ts';
import { DEFAULT_VERSION_POLICY, type VersionPolicy } from '#domain/plan/version-policy.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { SessionStore } from '#ports/session-store.ts';
import { PIPELINE_DEFAULTS } from '#shared/config.ts';
import { cleanUpOnInterrupt } from '#shared/interrupt-cleanup.ts';
import type { Logger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { announcedQueue } from './announced-queue.ts';
import { meteredDownloader, meteredQueue } from './download-meter.ts';
import { type IcloudAdapters, openIcloudAdapters } from './icloud-adapters.ts';
import { type LocalAws, openLocalAws } from './local-aws-stack.ts';
import { DEFAULT_SHARED_ALBUMS, type SharedAlbumsOption } from './shared-albums-option.ts';

export interface LocalCompositionOptions {
  /** Pipeline state and the archive live here. */
  readonly dataDir: string;
  readonly endpoint: IcloudEndpoint;
  readonly store: SessionStore;
  readonly logger: Logger;
  readonly deletePolicy?: DeletePolicy;
  readonly versionPolicy?: VersionPolicy;
  /** How new HEIC Live Photo videos are named (`suffix` when absent; docs/archive-layout.md §2). */
  readonly liveVideoName?: LiveVideoName;
  /** Bytes streamed from the CDN, as they pass (for a progress bar). */
  readonly onBytesDownloaded?: (bytes: number) => void;
  /** Bytes each enqueued batch of work may download (an upper bound). */
  readonly onBytesExpected?: (bytes: number) => void;
  /** Detection's work, once each batch of it is durable on the queue (the local pollers wake on it). */
  readonly onWorkEnqueued?: (messages: readonly WorkMessage[]) => void;
  /** Sees every exchange with Apple (`--trace`). */
  readonly observer?: ExchangeObserver;
  /** Shared Albums: on by default, listed on every run unless a cadence says otherwise. */
  readonly sharedAlbums?: SharedAlbumsOption;
  /** Write XMP sidecars beside each original (docs/archive-layout.md#10-xmp-sidecars). */
  readonly xmpSidecars?: boolean;
}

export { DEFAULT_SHARED_ALBUMS, type SharedAlbumsOption } from './shared-albums-option.ts';

export interface LocalComposition {
  /** The local servers, each started when the run first needs it. */
  readonly stack: LocalAws;
  /** Everything the run's invocations emitted, for the summary. */
  readonly metrics: CollectedMetrics;
  /** The iCloud connection, opened on first use and shared by every invocation of the run. */
  icloud(): Promise<IcloudAdapters>;
  /** The connection, if something opened it. */
  openedIcloud(): IcloudAdapters | undefined;
  readonly detection: DetectionRunDeps;
  /**
   * The album store as this run sees it (one local sync is one run, and the only writer of its
   * state): the detection runs' walk, the album views and the catalog share one read of it.
   */
  readonly albums: AlbumStore;
  /** The catalog's upkeep (the detection runs journal; the run folds once at its end). */
  readonly catalog: CatalogDeps;
  downloads(
    onMessage: (result: MessageResult) => void,
    onItemProgress?: (change: ItemProgress) => void,
    /** The counts each delivery adds to its run record (the Shared Albums' are reported nowhere else). */
    onRunCounts?: (counts: Readonly<Record<string, number>>) => void,
  ): DownloadBatchDeps;
  /** The dead-letter redrive at the start of a run (self-healing). */
  readonly redrive: RedriveDeps;
  /** Saves the session (if opened) and stops the local servers. */
  close(): Promise<void>;
}

export async function composeLocal(options: LocalCompositionOptions): Promise<LocalComposition> {
  // A first sync archives: its local S3 and SQS start beside DynamoDB, not when the first page needs them.
  const stack = await openLocalAws({
    dataDir: options.dataDir,
    startNewS3AtOnce: true,
    startNewSqsAtOnce: true,
  });
  const metrics = new CollectedMetrics();
  const deletePolicy = options.deletePolicy ?? DEFAULT_DELETE_POLICY;
  const versionPolicy = options.versionPolicy ?? DEFAULT_VERSION_POLICY;
  const shared = options.sharedAlbums ?? DEFAULT_SHARED_ALBUMS;
  let opened: IcloudAdapters | undefined;
  const icloud = async () => {
    if (opened === undefined) {
      const adapters = await openIcloudAdapters({
        endpoint: options.endpoint,
        store: options.store,
        logger: options.logger,
        ...(options.observer ? { observer: options.observer } : {}),
      });
      const onBytes = options.onBytesDownloaded;
      opened ??=
        onBytes === undefined
          ? adapters
          : { ...adapters, downloader: meteredDownloader(adapters.downloader, onBytes) };
    }
    return opened;
  };
  const saveSession = async () => {
    await opened?.session.save().catch(() => undefined);
  };
  // Ctrl-C: the cookies Apple rotated during the run are kept (the servers stop with the process).
  const forget = cleanUpOnInterrupt(saveSession);
  const albums = new OneRunAlbumStore(stack.albums);
  const catalog: CatalogDeps = {
    state: stack.state,
    objects: stack.objects,
    logger: options.logger,
    now: Date.now,
    xmpSidecars: options.xmpSidecars ?? false,
    albumNames: albumNamesFrom(albums),
    albumsOfAssets: albumsOfAssetsFrom(albums),
  };
  return {
    stack,
    metrics,
    albums,
    catalog,
    icloud,
    openedIcloud: () => opened,
    detection: {
      state: stack.state,
      albums,
      queue: announcedQueue(
        options.onBytesExpected === undefined
          ? stack.queue
          : meteredQueue(stack.queue, versionPolicy, options.onBytesExpected),
        options.onWorkEnqueued,
      ),
      icloud,
      deletePolicy,
      versionPolicy,
      reserveMs: PIPELINE_DEFAULTS.deadlineReserveMs,
      logger: options.logger,
      metrics,
      sharedAlbums: { ...shared, state: stack.sharedAlbumState },
      catalog,
      // local-sync folds once its queue is drained (the workers have settled the work by then).
      foldCatalogAfterRun: false,
    },
    downloads: (onMessage, onItemProgress, onRunCounts) => ({
      archive: {
        state: stack.state,
        objects: stack.objects,
        versionPolicy,
        ...(options.liveVideoName === undefined ? {} : { liveVideoName: options.liveVideoName }),
        deletePolicy: deletePolicy.mode,
        now: Date.now,
        // The local SQS: a paused long video goes on in a new message (not counted as detection's work).
        continuation: stack.queue,
      },
      icloud,
      decode: parseWorkMessage,
      logger: options.logger,
      metrics,
      reserveMs: PIPELINE_DEFAULTS.deadlineReserveMs,
      sharedAlbums: { state: stack.sharedAlbumState, deletePolicy, comments: true },
      onMessage,
      ...(onItemProgress === undefined ? {} : { onItemProgress }),
      ...(onRunCounts === undefined ? {} : { onRunCounts }),
    }),
    redrive: {
      deadLetters: stack.deadLetters,
      // Given-up work goes to the failed photos' retry list.
      retries: stack.state,
      decode: parseWorkMessage,
      logger: options.logger,
      metrics,
      now: Date.now,
      // Latched: the parked dead letters wait for the login, their redrives unspent.
      signInLatched: async () => (await storedSignInLatch(options.store)) !== undefined,
    },
    async close() {
      forget();
      await saveSession();
      await stack.stop();
    },
  };
}
