/**
 * The Shared Albums step of a detection run, after the library's: lists the albums on its own
 * cadence and hands changed ones to the workers (domain/shared-albums/detect-shared-albums.ts).
 * A failure here is reported and logged but never costs the library its run (a 401 here, right
 * after CloudKit accepted the same cookies, says more about the service than the session); only a
 * refused mass deletion stops the run, as it would for the library. One failing on every run for a
 * day is counted once in `workGivenUp` (app/detection-run.ts).
 */
import { classifyError, type ErrorClass } from '#domain/errors.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { MassDeletionRefusedError } from '#domain/plan/delete-policy.ts';
import { detectSharedAlbums, type SharedAlbumDetection } from '#domain/shared-albums/detect-shared-albums.ts';
import { sharedObjectCount } from '#domain/shared-albums/state.ts';
import type { IcloudLibraryConnection } from '#ports/icloud-connection.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { DetectionStateStore } from '#ports/sync-state-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import type { Logger } from '#shared/logger.ts';
import { errorMessage } from '#shared/redact.ts';

export interface SharedAlbumsSettings {
  /** False turns the feature off: no request, no work. */
  readonly enabled: boolean;
  /** Least time between two listings (ms); 0 lists on every run (the default). */
  readonly cadenceMs: number;
  readonly state: SharedAlbumStateStore;
}

interface StepDeps {
  readonly state: DetectionStateStore;
  readonly queue: WorkQueue;
  readonly deletePolicy: DeletePolicy;
  readonly logger: Logger;
  readonly sharedAlbums?: SharedAlbumsSettings;
}

export type SharedAlbumsStepResult =
  | SharedAlbumDetection
  | { readonly outcome: 'failed'; readonly message: string; readonly errorClass: ErrorClass };

export async function detectSharedAlbumsStep(
  deps: StepDeps,
  icloud: IcloudLibraryConnection,
  run: {
    readonly runId: string;
    readonly runStartedAt: number;
    readonly now: () => number;
    readonly onWorkStarting: () => Promise<void>;
  },
): Promise<SharedAlbumsStepResult | undefined> {
  const settings = deps.sharedAlbums;
  if (!settings?.enabled || icloud.sharedAlbums === undefined) return undefined;
  try {
    return await detectSharedAlbums({
      source: icloud.sharedAlbums,
      state: settings.state,
      queue: deps.queue,
      deletePolicy: deps.deletePolicy,
      // The library's counted objects and the albums' items: the whole archive the stop weighs.
      archiveObjects: async () =>
        (await deps.state.getCounters()).objects + sharedObjectCount(await settings.state.loadAlbums()),
      cadenceMs: settings.cadenceMs,
      now: run.now,
      runId: run.runId,
      runStartedAt: run.runStartedAt,
      onWorkStarting: run.onWorkStarting,
    });
  } catch (error) {
    if (error instanceof MassDeletionRefusedError) throw error;
    // A passing fault is only logged; one failing every run for a day calls a person
    // (the run notes the streak: domain/shared-albums/failing-streak.ts).
    const errorClass = classifyError(error);
    deps.logger.warn('shared albums not checked', { error, class: errorClass });
    return { outcome: 'failed', message: errorMessage(error), errorClass };
  }
}
