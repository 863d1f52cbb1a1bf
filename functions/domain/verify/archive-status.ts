/**
 * What `icloud-s3 status` reports, computed from what the state store holds: the last runs, each
 * zone's token age and first-sync progress, the archive's counts and size, and when Apple's trust
 * in this machine's sign-in runs out. Pure: the command gathers the inputs.
 */
import {
  type ArchiveCounters,
  assetId,
  type ManifestEntry,
  type ManifestStatus,
} from '#domain/model/manifest.ts';
import type { RunKind, RunOutcome, RunRecord } from '#domain/model/run.ts';
import type { DatabaseSyncState, FailedPhotoRetry, ZoneSyncState } from '#domain/model/sync-state.ts';
import { zoneId } from '#domain/model/zone.ts';
import { scrubSecrets } from '#shared/redact.ts';
import { nextAlbumWalkAt } from '../detect/album-walk-retry.ts';
import { nextRetryAt } from '../detect/failed-retries.ts';
import { parseZoneCheckpoint } from '../detect/zone-checkpoint.ts';

/** Days before the trust expiry from which status warns (Apple wants a fresh two-factor sign-in then). */
export const TRUST_WARNING_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Failures of a run shown by status (the run record keeps up to 50). */
const FAILURES_SHOWN = 5;
/** Failed photos listed (`manifest.byStatus.failed` counts them all). */
export const FAILED_PHOTOS_LISTED = 100;

/**
 * `syncUnfinished`: the zone's token moved on, but the local `sync` that moved it did not finish
 * (its work queue died with it): the next `sync` walks the zone again. Never said of a zone a
 * first sync is still walking, or of a retired one.
 */
export type ZoneProgress = 'caughtUp' | 'firstSyncInProgress' | 'neverSynced' | 'retired' | 'syncUnfinished';

export interface ZoneStatus {
  readonly zone: string;
  readonly zoneName: string;
  readonly database: string;
  readonly progress: ZoneProgress;
  /** When the zone's token or checkpoint was last written (ms). */
  readonly updatedAt: number;
  /** now - updatedAt (ms). */
  readonly tokenAgeMs: number;
  readonly lastFullScanAt?: number;
  /** Photos waiting for iCloud to offer a download URL for a version (looked up again by detection). */
  readonly awaitingUrl?: number;
  /**
   * Records iCloud would not serve, or sent in a shape detection cannot read, still waiting to be
   * looked up again (given up, with a `workGivenUp`, after about a day of tries).
   */
  readonly unreadable?: number;
  /**
   * Every album walk since `since` read only part of the albums (an album or member iCloud served
   * as an error item): nothing it missed was taken as deleted; walked again at `nextWalk`.
   */
  readonly albumsReadInPart?: {
    readonly since: number;
    readonly walks: number;
    readonly nextWalk: number | 'nextRun';
  };
}

export interface RunStatus {
  readonly runId: string;
  readonly kind: RunKind;
  readonly startedAt: number;
  readonly endedAt?: number;
  /** endedAt - startedAt, or now - startedAt while running. */
  readonly durationMs: number;
  readonly outcome: RunOutcome;
  readonly counts: Readonly<Record<string, number>>;
  readonly failureCount: number;
  readonly failures: readonly { readonly subject: string; readonly reason: string }[];
  readonly message?: string;
}

export interface ManifestSummary {
  readonly entries: number;
  readonly byStatus: Readonly<Record<ManifestStatus, number>>;
  /** Distinct objects the manifest references, and their bytes. */
  readonly objects: number;
  readonly bytes: number;
}

/** A photo recorded `failed`: why, and when detection tries it again. */
export interface FailedPhotoStatus {
  readonly zone: string;
  readonly assetRecordName: string;
  readonly reason: string;
  /** When it last failed (ms), and how often in all. */
  readonly failedAt: number;
  readonly attempts: number;
  /**
   * The next try: a time (ms); `nextRun`; or `notScheduled` when it failed before failed photos
   * were tried again (`verify --repair` queues it).
   */
  readonly nextTry: number | 'nextRun' | 'notScheduled';
  /** Retries detection has queued since it first failed. */
  readonly retries: number;
}

export type TrustState = 'ok' | 'expiresSoon' | 'expired' | 'unknown';

export interface TrustStatus {
  readonly state: TrustState;
  readonly expiresAt?: number;
  /** Whole days left (negative once expired). */
  readonly daysLeft?: number;
  readonly lastValidatedAt?: number;
}

export interface ArchiveStatus {
  readonly now: number;
  readonly runs: readonly RunStatus[];
  readonly databases: readonly { readonly database: string; readonly tokenAgeMs: number }[];
  readonly zones: readonly ZoneStatus[];
  /** True while any zone's first enumeration has not finished. */
  readonly firstSyncInProgress: boolean;
  readonly manifest: ManifestSummary;
  readonly counters: ArchiveCounters;
  readonly trust: TrustStatus;
  /** Photos recorded `failed`, oldest failure first, at most `FAILED_PHOTOS_LISTED`. */
  readonly failedPhotos: readonly FailedPhotoStatus[];
}

export interface ArchiveStatusInput {
  readonly now: number;
  readonly runs: readonly RunRecord[];
  readonly databases: readonly DatabaseSyncState[];
  readonly zones: readonly ZoneSyncState[];
  readonly manifest: ManifestSummary;
  readonly counters: ArchiveCounters;
  /** From the stored session; undefined when there is none or it says nothing about trust. */
  readonly trustExpiresAt?: number;
  readonly lastValidatedAt?: number;
  /** Entries recorded `failed` (`ManifestTally.failed()`), and the retry list detection keeps. */
  readonly failed?: readonly ManifestEntry[];
  readonly retries?: readonly FailedPhotoRetry[];
  /** A local `sync` did not finish (its `sync-in-progress` marker): no zone is caught up. */
  readonly syncUnfinished?: boolean;
}

const STATUSES: readonly ManifestStatus[] = ['archived', 'pending', 'failed', 'trashed', 'purged'];

/** Counts manifest entries by status and their distinct objects, one entry at a time. */
export class ManifestTally {
  #entries = 0;
  readonly #byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ManifestStatus, number>;
  readonly #keys = new Set<string>();
  #bytes = 0;
  readonly #failed: ManifestEntry[] = [];

  add(entry: ManifestEntry): void {
    this.#entries++;
    if (entry.status === 'failed' && this.#failed.length < FAILED_PHOTOS_LISTED) this.#failed.push(entry);
    this.#byStatus[entry.status]++;
    for (const version of entry.versions) {
      if (this.#keys.has(version.key)) continue;
      this.#keys.add(version.key);
      this.#bytes += version.size;
    }
  }

  /** The first `FAILED_PHOTOS_LISTED` entries recorded `failed`. */
  failed(): readonly ManifestEntry[] {
    return this.#failed;
  }

  summary(): ManifestSummary {
    return {
      entries: this.#entries,
      byStatus: { ...this.#byStatus },
      objects: this.#keys.size,
      bytes: this.#bytes,
    };
  }
}

/** A checkpoint also holds what a caught-up zone waits for (unpaired halves, records to look up again). */
function progressOf(zone: ZoneSyncState): ZoneProgress {
  if (zone.retired) return 'retired';
  const { enumeration, reconcile, albums } = parseZoneCheckpoint(zone.checkpoint);
  if (enumeration ?? reconcile ?? albums) return 'firstSyncInProgress';
  if (zone.syncToken === undefined)
    return zone.checkpoint === undefined ? 'neverSynced' : 'firstSyncInProgress';
  return 'caughtUp';
}

const caughtUpUnlessUnfinished = (progress: ZoneProgress, unfinished: boolean | undefined): ZoneProgress =>
  progress === 'caughtUp' && unfinished ? 'syncUnfinished' : progress;

function runStatus(run: RunRecord, now: number): RunStatus {
  return {
    runId: run.runId,
    kind: run.kind,
    startedAt: run.startedAt,
    ...(run.endedAt === undefined ? {} : { endedAt: run.endedAt }),
    durationMs: (run.endedAt ?? now) - run.startedAt,
    outcome: run.outcome,
    counts: run.counts,
    failureCount: run.failures.length,
    // Records written before reasons were scrubbed where they are made may still hold Apple's secrets.
    failures: run.failures
      .slice(0, FAILURES_SHOWN)
      .map((failure) => ({ ...failure, reason: scrubSecrets(failure.reason) })),
    ...(run.message === undefined ? {} : { message: scrubSecrets(run.message) }),
  };
}

export function trustStatus(now: number, expiresAt?: number, lastValidatedAt?: number): TrustStatus {
  const validated = lastValidatedAt === undefined ? {} : { lastValidatedAt };
  if (expiresAt === undefined) return { state: 'unknown', ...validated };
  const daysLeft = Math.floor((expiresAt - now) / DAY_MS);
  const state: TrustState =
    expiresAt <= now ? 'expired' : expiresAt - now <= TRUST_WARNING_DAYS * DAY_MS ? 'expiresSoon' : 'ok';
  return { state, expiresAt, daysLeft, ...validated };
}

function awaitingUrlOf(
  zone: ZoneSyncState,
  now: number,
): Pick<ZoneStatus, 'awaitingUrl' | 'unreadable' | 'albumsReadInPart'> {
  const { unreadable: records = [], albumRetry } = parseZoneCheckpoint(zone.checkpoint);
  const waiting = records.filter((r) => r.noUrl).length;
  const unread = records.length - waiting;
  const next = albumRetry === undefined ? undefined : (nextAlbumWalkAt(albumRetry) ?? now);
  return {
    ...(waiting > 0 ? { awaitingUrl: waiting } : {}),
    ...(unread > 0 ? { unreadable: unread } : {}),
    ...(albumRetry === undefined || next === undefined
      ? {}
      : {
          albumsReadInPart: {
            since: albumRetry.since,
            walks: albumRetry.tries,
            nextWalk: next <= now ? 'nextRun' : next,
          },
        }),
  };
}

function failedPhotos(input: ArchiveStatusInput): FailedPhotoStatus[] {
  const retries = new Map((input.retries ?? []).map((r) => [assetId(r), r]));
  return (input.failed ?? [])
    .map((entry): FailedPhotoStatus => {
      const retry = retries.get(assetId(entry));
      const next = retry === undefined ? 'notScheduled' : (nextRetryAt(retry) ?? 'nextRun');
      return {
        zone: zoneId(entry.zone),
        assetRecordName: entry.assetRecordName,
        // Entries written before reasons were scrubbed where they are made may hold Apple's secrets.
        reason: scrubSecrets(entry.failure?.reason ?? 'no reason recorded'),
        failedAt: entry.failure?.at ?? entry.updatedAt,
        attempts: entry.failure?.attempts ?? 1,
        nextTry: typeof next === 'number' && next <= input.now ? 'nextRun' : next,
        retries: retry?.tries ?? 0,
      };
    })
    .sort((a, b) => a.failedAt - b.failedAt);
}

export function archiveStatus(input: ArchiveStatusInput): ArchiveStatus {
  const { now } = input;
  const zones = input.zones
    .map(
      (zone): ZoneStatus => ({
        zone: zoneId(zone.zone),
        zoneName: zone.zone.zoneName,
        database: zone.zone.database,
        progress: caughtUpUnlessUnfinished(progressOf(zone), input.syncUnfinished),
        updatedAt: zone.updatedAt,
        tokenAgeMs: now - zone.updatedAt,
        ...(zone.lastFullScanAt === undefined ? {} : { lastFullScanAt: zone.lastFullScanAt }),
        ...awaitingUrlOf(zone, now),
      }),
    )
    .sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
  return {
    now,
    runs: [...input.runs].sort((a, b) => b.startedAt - a.startedAt).map((run) => runStatus(run, now)),
    databases: input.databases.map((db) => ({ database: db.database, tokenAgeMs: now - db.updatedAt })),
    zones,
    firstSyncInProgress: zones.some(
      (z) => z.progress === 'firstSyncInProgress' || z.progress === 'neverSynced',
    ),
    manifest: input.manifest,
    counters: input.counters,
    trust: trustStatus(now, input.trustExpiresAt, input.lastValidatedAt),
    failedPhotos: failedPhotos(input),
  };
}
