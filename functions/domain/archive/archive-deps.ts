/**
 * What the download worker's domain needs from the world, injected by the handler (Lambda) or
 * the local runtime. All ports; no SDK, no HTTP.
 */

import type { Asset } from '#domain/model/asset.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { MediaDownloader } from '../../ports/media-download.ts';
import type { ArchivingObjectStore } from '../../ports/object-store.ts';
import type { ArchiveStateStore } from '../../ports/sync-state-store.ts';
import type { WorkQueue } from '../../ports/work-queue.ts';
import type { LiveVideoName } from '../plan/live-video-name.ts';
import type { VersionPolicy } from '../plan/version-policy.ts';
import type { ItemSlots } from './item-slots.ts';

/** Which asset to refresh; naming its master saves CloudKit a second lookup. */
export interface RefreshKey {
  readonly assetRecordName: string;
  readonly masterRecordName?: string;
}

/** An asset a refresh could not return this time (CloudKit answered an error entry in its place). */
export interface UnavailableAsset {
  readonly assetRecordName: string;
  /** CloudKit's code and reason, for the item's outcome (no secrets). */
  readonly reason: string;
}

/** What a refresh found: current copies, and the assets CloudKit could not return this time. */
export interface RefreshedAssets {
  readonly assets: readonly Asset[];
  /** Not deleted: the caller keeps its old copy (docs/protocol: a lookup can fail per record). */
  readonly unavailable?: readonly UnavailableAsset[];
}

/**
 * Fresh copies of assets (new signed URLs): one `records/lookup`. Assets iCloud no longer has are
 * absent from both lists.
 */
export type RefreshAssets = (zone: ZoneRef, keys: readonly RefreshKey[]) => Promise<RefreshedAssets>;

/** An asset's manifest entry as the caller just read it (`entry` undefined: none yet). */
export interface KnownEntry {
  readonly entry: ManifestEntry | undefined;
  /** The asset is already recorded as a user of its master (the message did it for all at once). */
  readonly masterUserRecorded?: boolean;
}

export type DeletePolicyName = 'keep' | 'mirror';

export interface ArchiveDeps {
  readonly state: ArchiveStateStore;
  readonly objects: ArchivingObjectStore;
  readonly downloader: MediaDownloader;
  readonly refresh: RefreshAssets;
  readonly versionPolicy: VersionPolicy;
  /** How a new HEIC Live Photo video is named (`suffix` when absent); archived keys never change. */
  readonly liveVideoName?: LiveVideoName;
  readonly deletePolicy: DeletePolicyName;
  readonly now: () => number;
  /** Fires shortly before the Lambda deadline: in-flight uploads abort and leave nothing. */
  readonly signal?: AbortSignal;
  /**
   * Fires before `signal`: a resumable transfer (a version over `resumableFromBytes`) stops
   * reading, waits for its parts in flight and keeps them behind a checkpoint for the next
   * delivery (resumable-transfer.ts). Without it, such transfers run until `signal` like others.
   */
  readonly pause?: AbortSignal;
  /**
   * Versions larger than this take the resumable path where the store has one
   * (`DEFAULT_RESUMABLE_FROM_BYTES` when absent); smaller ones stream in one go, as always.
   */
  readonly resumableFromBytes?: number;
  /** Download URLs older than this are refreshed before use (Apple's last about an hour). */
  readonly urlMaxAgeMs?: number;
  /** Waits between looks at another worker's transfer of the same object (tests pass a fast one). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Items of one message carried out at once (`DEFAULT_ITEM_CONCURRENCY` when absent). */
  readonly itemConcurrency?: number;
  /** The longest a written-to-be entry waits for its message's others (`ENTRY_BATCH_WAIT_MS` when absent). */
  readonly entryBatchWaitMs?: number;
  /** Shared by the messages of one batch: items in flight across all of them. */
  readonly itemSlots?: ItemSlots;
  /**
   * Where a message whose only items left are paused long videos that stored more sends them on
   * (the work queue): they continue at once, the message is done. Absent: it is retried as before.
   */
  readonly continuation?: WorkQueue;
}

/**
 * Items of a message in flight at once: enough to hide each item's round trips (state reads and
 * writes, the CDN's first byte) behind the others' bytes, few enough that a batch of messages
 * stays within the function's memory (each transfer holds at most a few parts).
 */
export const DEFAULT_ITEM_CONCURRENCY = 4;

/**
 * 2 GiB: a version this large takes about 100 s of a worker's ~840 s at ~20 MB/s, so only
 * versions near the end of a batch, or far larger, meet a deadline; smaller ones keep the path
 * whose CPU per GB is a benchmark goal (Node's crypto, lib-storage).
 */
export const DEFAULT_RESUMABLE_FROM_BYTES = 2 * 1024 * 1024 * 1024;

/** URLs are valid about 3,600 s; refresh well before (docs/protocol/cdn.md#lifetime, docs/protocol/limits.md#retry-policies). */
export const DEFAULT_URL_MAX_AGE_MS = 50 * 60 * 1000;
