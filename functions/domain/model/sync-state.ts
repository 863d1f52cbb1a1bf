/**
 * Where detection stands between runs: sync tokens, first-sync checkpoints, the detection lock.
 */
import type { DatabaseScope, ZoneRef } from './zone.ts';

/** A JSON value, as stored verbatim (checkpoints are opaque to the store). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** Largest serialised checkpoint the store accepts (bytes of UTF-8 JSON). DynamoDB items stop at 400 KB. */
export const MAX_CHECKPOINT_BYTES = 256 * 1024;

export interface DatabaseSyncState {
  readonly database: DatabaseScope;
  /** Token for `changes/database`. */
  readonly syncToken: string;
  readonly updatedAt: number;
  readonly revision: number;
}

/** Where a zone stands. A zone with neither token nor checkpoint has never been synced. */
export interface ZoneSyncState {
  readonly zone: ZoneRef;
  /** Token for `changes/zone`; absent until the first full enumeration completed. */
  readonly syncToken?: string;
  /**
   * First-sync progress while an enumeration spans several runs (cursor, the zone token captured
   * on its first page, a pairing buffer...). Opaque to the store, at most `MAX_CHECKPOINT_BYTES`.
   */
  readonly checkpoint?: JsonValue;
  /** The zone is gone (ZONE_NOT_FOUND): detection skips it. */
  readonly retired?: boolean;
  /** When the last full enumeration of this zone completed (ms). */
  readonly lastFullScanAt?: number;
  /**
   * When the zone's album walk last completed (ms). Absent on a zone first synced before albums
   * were recorded (before 2026-12-06): detection walks its albums once, then sets it.
   */
  readonly albumsWalkedAt?: number;
  readonly updatedAt: number;
  readonly revision: number;
}

/** What a zone write sets. Fields left out are removed (the write replaces the whole state). */
export type ZoneSyncStateInput = Omit<ZoneSyncState, 'updatedAt' | 'revision'>;

/** A held lock. Pass it back to release it (acquiring it again as its owner extends it). */
export interface LockLease {
  readonly name: string;
  readonly owner: string;
  readonly expiresAt: number;
}

export type LockAttempt =
  | { readonly acquired: true; readonly lease: LockLease }
  | { readonly acquired: false; readonly heldBy: string; readonly expiresAt: number };

/**
 * A photo the workers recorded `failed`, waiting to be tried again by detection (kept beside the
 * zone states, so the read that loads them brings it along). `failedAt` is the last failure the
 * worker noted; `tries` the retries detection has queued since the first.
 */
export interface FailedPhotoRetry {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  readonly failedAt: number;
  readonly tries: number;
  /** When detection last queued it again (ms); absent until the first retry. */
  readonly lastTriedAt?: number;
}

/**
 * The Shared Albums step failing on every run since `since` (kept on the detector's last-check
 * record, not in the Shared Albums state that may be what fails); cleared by the first run the
 * step succeeds. `reportedAt`: when the WorkGivenUp alarm was told (once per streak).
 */
export interface SharedAlbumsFailing {
  readonly since: number;
  readonly lastFailedAt: number;
  readonly errorClass: 'retryable' | 'fatal' | 'reauth';
  /** The last error's message, redacted and cut short. */
  readonly message: string;
  readonly reportedAt?: number;
}

/** What a run's Shared Albums step did, as `recordCheck` notes it: failed, or not failing. */
export type SharedAlbumsCheck =
  | { readonly failed: Pick<SharedAlbumsFailing, 'errorClass' | 'message'> }
  | 'notFailing';

/** What detection reads first: every zone state, and the failed photos waiting for a retry. */
export interface ZonesAndRetries {
  readonly zones: ZoneSyncState[];
  readonly retries: FailedPhotoRetry[];
}
