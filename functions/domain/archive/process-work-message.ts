/**
 * The download worker's domain: carries out every item of one work message. Items whose failure
 * is permanent are recorded on the asset (manifest status `failed`, with the reason) and the
 * message still succeeds; a retryable failure fails the message so SQS redelivers it (the done
 * items are skipped next time); a failure that needs a human (`reauth`) stops at once.
 */

import type { Asset } from '#domain/model/asset.ts';
import type { ManifestEntry, ManifestEntryInput } from '#domain/model/manifest.ts';
import type { WorkItem, WorkMessage } from '#domain/model/work.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import { errorText } from '#shared/redact.ts';
import { type ChangeKind, classifyChange, type PreviousAssetState } from '../classify-change.ts';
import {
  classifyError,
  DownloadUrlExpiredError,
  DownloadUrlRefusedError,
  UnexpectedResponseError,
} from '../errors.ts';
import { applyAlbumMembership, applyAssetOnlyChange, applyPurge } from './apply-change.ts';
import { type AssetArchiveResult, archiveAsset } from './archive-asset.ts';
import { type ArchiveDeps, DEFAULT_URL_MAX_AGE_MS, type RefreshKey } from './archive-deps.ts';

export interface MessageResult {
  /** Items this delivery carried out and counts (not those an earlier delivery already counted). */
  readonly items: number;
  readonly archived: number;
  readonly unchanged: number;
  readonly updated: number;
  /** Purged in iCloud and removed from the archive (`mirror`). */
  readonly purged: number;
  /** Purged in iCloud and kept in the archive (`keep`): recorded, nothing deleted. */
  readonly purgedKept: number;
  readonly failed: number;
  readonly versionsArchived: number;
  readonly bytesArchived: number;
  /** Permanent failures recorded on their assets (no secrets: record names and reasons). */
  readonly failures: readonly { readonly subject: string; readonly reason: string }[];
  /** What the items meant, by kind (`new`, `edited`, `trashed`, `metadataChanged`...; docs/protocol/records.md#lifecycle-in-the-delta). */
  readonly changes: Readonly<Partial<Record<ChangeKind, number>>>;
}

interface Tally {
  items: number;
  archived: number;
  unchanged: number;
  updated: number;
  purged: number;
  purgedKept: number;
  failed: number;
  versionsArchived: number;
  bytesArchived: number;
  failures: { subject: string; reason: string }[];
  changes: Partial<Record<ChangeKind, number>>;
}

/** The archive's memory of the asset an item is about, as the classifier reads it. */
function previousState(entry: ManifestEntry | undefined): PreviousAssetState | undefined {
  if (entry === undefined) return undefined;
  const adjusted = entry.versions.filter((v) => v.kind === 'adjusted').at(-1);
  return {
    zone: entry.zone,
    assetRecordName: entry.assetRecordName,
    masterRecordName: entry.masterRecordName,
    isFavorite: entry.flags.isFavorite,
    isHidden: entry.flags.isHidden,
    isDeleted: entry.flags.isDeleted,
    isPurged: entry.status === 'purged',
    albums: entry.albums,
    ...(adjusted === undefined ? {} : { adjustedFileChecksum: adjusted.fileChecksum }),
  };
}

/** Classifies `item` against the manifest before it is applied (for the run's summary). */
async function classify(deps: ArchiveDeps, item: WorkItem, assetRecordName: string): Promise<ChangeKind> {
  const zone =
    item.type === 'asset' ? item.asset.zone : item.type === 'assetOnly' ? item.change.zone : item.zone;
  const entry = await deps.state.getEntry({ zone, assetRecordName });
  return classifyChange(item, previousState(entry)).kind;
}

interface Refreshed {
  /** Fresh copies by asset record name; an asset in neither map was deleted meanwhile. */
  readonly assets: Map<string, Asset>;
  /** Assets CloudKit could not return this time, with why: not deleted. */
  readonly unavailable: Map<string, string>;
}

/** Fresh copies of the named assets, and those CloudKit could not return this time. */
async function refreshed(deps: ArchiveDeps, zone: ZoneRef, keys: readonly RefreshKey[]): Promise<Refreshed> {
  if (keys.length === 0) return { assets: new Map(), unavailable: new Map() };
  const result = await deps.refresh(zone, keys);
  return {
    assets: new Map(result.assets.map((a) => [a.assetRecordName, a])),
    unavailable: new Map((result.unavailable ?? []).map((u) => [u.assetRecordName, u.reason])),
  };
}

/**
 * A refresh that CloudKit answered with an error entry for this asset: retryable (the message is
 * redelivered and looks it up again), never a deletion.
 */
function unavailableError(assetRecordName: string, reason: string): UnexpectedResponseError {
  return new UnexpectedResponseError(`CloudKit could not return ${assetRecordName} on refresh: ${reason}`);
}

/** A URL this close to its own expiry is refreshed first: a download must start before it. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * URLs to refresh before downloading: those of an old message, missing ones, and those whose own
 * expiry (when the downloader can read it) is past or about to be.
 */
function needsFreshUrls(asset: Asset, issuedAt: number, deps: ArchiveDeps): boolean {
  const now = deps.now();
  const stale = now - issuedAt > (deps.urlMaxAgeMs ?? DEFAULT_URL_MAX_AGE_MS);
  return (
    stale ||
    asset.versions.some((v) => {
      if (v.downloadUrl === undefined) return true;
      const expiresAt = deps.downloader.expiresAt?.(v.downloadUrl);
      return expiresAt !== undefined && expiresAt - EXPIRY_MARGIN_MS <= now;
    })
  );
}

/**
 * Archives `asset`; when its URLs turn out to be expired (410) or were refused as not Apple's
 * (a redelivery still names the URLs of the message), asks `refreshAfterExpiry` for a fresh copy
 * (which refreshes the rest of the message in the same lookup) and tries once more.
 */
async function archiveWithRefresh(
  deps: ArchiveDeps,
  asset: Asset,
  refreshAfterExpiry: (asset: Asset) => Promise<Asset | undefined>,
): Promise<AssetArchiveResult | undefined> {
  let current = asset;
  for (let attempt = 0; ; attempt++) {
    try {
      return await archiveAsset(deps, current);
    } catch (error) {
      const stale = error instanceof DownloadUrlExpiredError || error instanceof DownloadUrlRefusedError;
      if (!stale || attempt > 0) throw error;
      const fresh = await refreshAfterExpiry(current);
      if (fresh === undefined) return undefined; // deleted in iCloud meanwhile: the next delta says how
      current = fresh;
    }
  }
}

/**
 * Nothing to do because an earlier delivery of this message (or a copy of it) wrote the entry
 * after the message was issued: that delivery reported the item, so this one does not count it
 * again (it would turn an archived photo into a skipped one).
 */
function doneByEarlierDelivery(result: AssetArchiveResult, message: WorkMessage): boolean {
  return result.outcome === 'unchanged' && (result.entry?.updatedAt ?? 0) >= message.issuedAt;
}

function countArchive(tally: Tally, result: AssetArchiveResult): void {
  if (result.outcome === 'archived') tally.archived++;
  else if (result.outcome === 'updated') tally.updated++;
  else tally.unchanged++;
  tally.versionsArchived += result.versionsArchived;
  tally.bytesArchived += result.bytesArchived;
}

/**
 * Fresh copies of a message's assets, one `records/lookup` per zone and occasion: up front for
 * URLs already too old, and once more for everything still to do when a URL expires mid-way.
 */
class FreshAssets {
  readonly #deps: ArchiveDeps;
  readonly #fresh = new Map<string, Asset>();
  readonly #refreshed = new Set<string>();
  /** Assets the last refresh could not return, with why: their old copy stays in use. */
  readonly #unavailable = new Map<string, string>();

  constructor(deps: ArchiveDeps) {
    this.#deps = deps;
  }

  /** Refreshes `assets` (grouped by zone); those lookup no longer returns become absent. */
  async refresh(assets: readonly Asset[]): Promise<void> {
    const byZone = new Map<string, { zone: ZoneRef; keys: RefreshKey[] }>();
    for (const asset of assets) {
      const id = zoneId(asset.zone);
      const group = byZone.get(id) ?? { zone: asset.zone, keys: [] };
      group.keys.push({ assetRecordName: asset.assetRecordName, masterRecordName: asset.masterRecordName });
      byZone.set(id, group);
      this.#refreshed.add(asset.assetRecordName);
    }
    for (const { zone, keys } of byZone.values()) {
      const result = await refreshed(this.#deps, zone, keys);
      for (const key of keys) this.#unavailable.delete(key.assetRecordName);
      for (const [name, asset] of result.assets) this.#fresh.set(name, asset);
      for (const [name, reason] of result.unavailable) {
        this.#fresh.delete(name);
        this.#unavailable.set(name, reason);
      }
    }
  }

  /**
   * The freshest copy of `asset`: undefined when a refresh found it deleted; the copy it already
   * had when CloudKit could not return it (an error entry is never a deletion).
   */
  current(asset: Asset): Asset | undefined {
    const name = asset.assetRecordName;
    if (!this.#refreshed.has(name) || this.#unavailable.has(name)) return this.#fresh.get(name) ?? asset;
    return this.#fresh.get(name);
  }

  /** Why the last refresh could not return `asset`, if it could not. */
  unavailable(asset: Asset): string | undefined {
    return this.#unavailable.get(asset.assetRecordName);
  }
}

async function recordFailure(
  deps: ArchiveDeps,
  zone: ZoneRef,
  assetRecordName: string,
  masterRecordName: string,
  reason: string,
) {
  const ref = { zone, assetRecordName };
  const entry = await deps.state.getEntry(ref);
  const input: ManifestEntryInput = entry
    ? {
        ...entry,
        status: 'failed',
        failure: { reason, at: deps.now(), attempts: (entry.failure?.attempts ?? 0) + 1 },
      }
    : {
        zone,
        assetRecordName,
        masterRecordName,
        assetChangeTag: '',
        status: 'failed',
        flags: { isFavorite: false, isHidden: false, isDeleted: false },
        albums: [],
        versions: [],
        deletions: [],
        failure: { reason, at: deps.now(), attempts: 1 },
      };
  const {
    updatedAt: _u,
    revision: _r,
    ...clean
  } = input as ManifestEntryInput & { updatedAt?: number; revision?: number };
  await deps.state.putEntry(clean, entry?.revision ?? 0);
}

/** What a delivery that must be retried reports: its work, not the items it found unchanged. */
function withoutUnchanged(tally: Tally, unchangedKinds: readonly ChangeKind[]): MessageResult {
  const changes = { ...tally.changes };
  for (const kind of unchangedKinds) {
    const left = (changes[kind] ?? 0) - 1;
    if (left > 0) changes[kind] = left;
    else delete changes[kind];
  }
  return { ...tally, items: tally.items - unchangedKinds.length, unchanged: 0, changes };
}

export interface ProcessOptions {
  /**
   * Told what this delivery did before it throws for a retry: the items it carried out stay
   * counted (a redelivery finds them done and does not count them again).
   */
  readonly onRetry?: (done: MessageResult) => void;
}

/** Carries out `message`. Throws when the message must be retried (or a human is needed). */
export async function processWorkMessage(
  deps: ArchiveDeps,
  message: WorkMessage,
  options: ProcessOptions = {},
): Promise<MessageResult> {
  const tally: Tally = {
    changes: {},
    items: 0,
    archived: 0,
    unchanged: 0,
    updated: 0,
    purged: 0,
    purgedKept: 0,
    failed: 0,
    versionsArchived: 0,
    bytesArchived: 0,
    failures: [],
  };

  const assets = message.items.flatMap((item) => (item.type === 'asset' ? [item.asset] : []));
  const fresh = new FreshAssets(deps);
  // URLs already too old (or missing): one records/lookup per zone before anything is downloaded.
  await fresh.refresh(assets.filter((asset) => needsFreshUrls(asset, message.issuedAt, deps)));
  let expiredOnce = false;
  const refreshAfterExpiry = async (asset: Asset): Promise<Asset | undefined> => {
    if (!expiredOnce) {
      // The first 410 means every URL of this message is past its time: refresh all that
      // remain (this asset included) in one lookup, not one per asset.
      expiredOnce = true;
      const position = assets.findIndex((a) => a.assetRecordName === asset.assetRecordName);
      await fresh.refresh(assets.slice(Math.max(0, position)));
    } else {
      await fresh.refresh([asset]);
    }
    const reason = fresh.unavailable(asset);
    if (reason !== undefined) throw unavailableError(asset.assetRecordName, reason);
    return fresh.current(asset);
  };

  let retryable: unknown;
  /** Kinds of the items found unchanged: a redelivery finds them unchanged again and counts them then. */
  const unchangedKinds: ChangeKind[] = [];
  for (const item of message.items) {
    const subject =
      item.type === 'asset'
        ? item.asset.assetRecordName
        : item.type === 'assetOnly'
          ? item.change.assetRecordName
          : item.type === 'tombstone'
            ? item.recordName
            : item.assetRecordName;
    let kind: ChangeKind | undefined;
    const unchangedBefore = tally.unchanged;
    try {
      kind = await classify(deps, item, subject);
      let counted = true;
      switch (item.type) {
        case 'asset': {
          // A refreshed asset that lookup no longer returns was deleted meanwhile: the next delta says how.
          const asset = fresh.current(item.asset);
          const result =
            asset === undefined ? undefined : await archiveWithRefresh(deps, asset, refreshAfterExpiry);
          if (result !== undefined && doneByEarlierDelivery(result, message)) counted = false;
          else if (result !== undefined) countArchive(tally, result);
          break;
        }
        case 'assetOnly': {
          const outcome = await applyAssetOnlyChange(deps, item.change);
          if (outcome === 'needsArchive') {
            const key = {
              assetRecordName: item.change.assetRecordName,
              masterRecordName: item.change.masterRecordName,
            };
            const found = await refreshed(deps, item.change.zone, [key]);
            const reason = found.unavailable.get(item.change.assetRecordName);
            if (reason !== undefined) throw unavailableError(item.change.assetRecordName, reason);
            const asset = found.assets.get(item.change.assetRecordName);
            if (asset !== undefined && !asset.isDeleted) {
              const result = await archiveWithRefresh(deps, asset, async (expired) => {
                await fresh.refresh([expired]);
                const why = fresh.unavailable(expired);
                if (why !== undefined) throw unavailableError(expired.assetRecordName, why);
                return fresh.current(expired);
              });
              if (result !== undefined && doneByEarlierDelivery(result, message)) counted = false;
              else if (result !== undefined) countArchive(tally, result);
            }
          } else if (outcome === 'updated') tally.updated++;
          else tally.unchanged++;
          break;
        }
        case 'tombstone': {
          const outcome = await applyPurge(deps, item.zone, item.recordName, item.inferredType);
          if (outcome === 'purged') tally.purged++;
          else if (outcome === 'purgedKept') tally.purgedKept++;
          break;
        }
        case 'albumMembership': {
          const outcome = await applyAlbumMembership(
            deps,
            item.zone,
            item.assetRecordName,
            item.albumRecordName,
            item.present,
          );
          if (outcome === 'updated') tally.updated++;
          break;
        }
      }
      if (counted) {
        tally.items++;
        tally.changes[kind] = (tally.changes[kind] ?? 0) + 1;
        if (tally.unchanged > unchangedBefore) unchangedKinds.push(kind);
      }
    } catch (error) {
      const errorClass = classifyError(error);
      if (errorClass === 'reauth') throw error;
      if (errorClass === 'retryable') {
        // Keep going: the other items may succeed now, and a redelivery skips them.
        retryable ??= error;
        continue;
      }
      // Stored on the manifest and the run record, printed by sync and status: never Apple's secrets.
      const reason = errorText(error);
      tally.items++;
      if (kind !== undefined) tally.changes[kind] = (tally.changes[kind] ?? 0) + 1;
      tally.failed++;
      tally.failures.push({ subject, reason });
      if (item.type === 'asset') {
        await recordFailure(
          deps,
          item.asset.zone,
          item.asset.assetRecordName,
          item.asset.masterRecordName,
          reason,
        );
      }
    }
  }
  if (retryable !== undefined) {
    options.onRetry?.(withoutUnchanged(tally, unchangedKinds));
    throw retryable;
  }
  return { ...tally };
}
