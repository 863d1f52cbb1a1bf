/**
 * The download worker's domain: carries out every item of one work message. Items whose failure
 * is permanent are recorded on the asset (manifest status `failed`, with the reason) and the
 * message still succeeds; a retryable failure fails the message so SQS redelivers it (the done
 * items are skipped next time); a failure that needs a human (`reauth`) stops at once. When the
 * only items left are long videos that paused having stored more than their checkpoints held,
 * they go on in a new work message (`deps.continuation`) and this one succeeds.
 */

import type { Asset, VersionKind } from '#domain/model/asset.ts';
import { assetId, type ManifestEntry, type ManifestEntryInput } from '#domain/model/manifest.ts';
import { isLibraryWorkItem, type LibraryWorkItem, type WorkMessage } from '#domain/model/work.ts';
import { isOwnLibrary, type ZoneRef, zoneId } from '#domain/model/zone.ts';
import { errorText } from '#shared/redact.ts';
import { type ChangeKind, classifyChange, type PreviousAssetState } from '../classify-change.ts';
import {
  classifyError,
  DownloadUrlExpiredError,
  DownloadUrlRefusedError,
  TransferPausedError,
  UnexpectedResponseError,
  ZoneNotFoundError,
} from '../errors.ts';
import { stricterDeleteMode } from '../plan/delete-policy.ts';
import { planVersions } from '../plan/plan-versions.ts';
import { applyAlbumMembership, applyAssetOnlyChange, applyPurge } from './apply-change.ts';
import {
  type AssetArchiveResult,
  archiveAsset,
  listsObjectsOf,
  type MessageWrites,
} from './archive-asset.ts';
import {
  type ArchiveDeps,
  DEFAULT_ITEM_CONCURRENCY,
  DEFAULT_URL_MAX_AGE_MS,
  type KnownEntry,
  type RefreshKey,
} from './archive-deps.ts';
import { EntryBatch } from './entry-batch.ts';
import { type AssetToClaim, MessageClaims } from './message-claims.ts';
import { MessageCounts } from './message-counts.ts';
import { ObjectKeys } from './object-keys.ts';
import { isOlder, sinceIssued, stateOrder } from './state-order.ts';

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
  /**
   * Objects those purges deleted (`mirror`): fewer than `purged` assets' objects when another live
   * photo still uses them (a duplicate, a library reset's new asset). Absent: none.
   */
  readonly objectsDeleted?: number;
  readonly failed: number;
  readonly versionsArchived: number;
  readonly bytesArchived: number;
  /** Permanent failures recorded on their assets (no secrets: record names and reasons). */
  readonly failures: readonly { readonly subject: string; readonly reason: string }[];
  /** Assets left `pending` because iCloud lists versions the policy keeps without a download URL. */
  readonly awaitingUrl?: readonly AwaitingUrl[];
  /** What the items meant, by kind (`new`, `edited`, `trashed`, `metadataChanged`...; docs/protocol/records.md#lifecycle-in-the-delta). */
  readonly changes: Readonly<Partial<Record<ChangeKind, number>>>;
  /** Paused long videos handed on to a new work message (`ArchiveDeps.continuation`), not yet counted. */
  readonly continued?: number;
}

/** An asset archived but for the versions iCloud offers no download URL for (record names, no URL). */
export interface AwaitingUrl {
  readonly subject: string;
  readonly versions: readonly VersionKind[];
}

interface Tally {
  items: number;
  archived: number;
  unchanged: number;
  updated: number;
  purged: number;
  purgedKept: number;
  /** Set once a purge deleted objects. */
  objectsDeleted?: number;
  failed: number;
  versionsArchived: number;
  bytesArchived: number;
  failures: { subject: string; reason: string }[];
  awaitingUrl: AwaitingUrl[];
  changes: Partial<Record<ChangeKind, number>>;
}

/** The archive's memory of the asset an item is about, as the classifier reads it. */
function previousState(entry: ManifestEntry | undefined): PreviousAssetState | undefined {
  if (entry === undefined) return undefined;
  const adjusted = entry.versions.filter((v) => v.kind === 'adjusted' && v.current !== false).at(-1);
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

/** The manifest entry an item is about, as it stands before the item is applied. */
interface Classified {
  readonly kind: ChangeKind;
  /** Read once here and handed to the change, which reads again only after a lost race. */
  readonly entry: ManifestEntry | undefined;
}

/**
 * Classifies `item` against the manifest before it is applied (for the run's summary), with the
 * entry the message read for it up front (`prefetched`), or read now.
 */
async function classify(
  deps: ArchiveDeps,
  item: LibraryWorkItem,
  assetRecordName: string,
  prefetched: { readonly entry: ManifestEntry | undefined } | undefined,
): Promise<Classified> {
  const entry =
    prefetched !== undefined
      ? prefetched.entry
      : await deps.state.getEntry({ zone: zoneOf(item), assetRecordName });
  return { kind: classifyChange(item, previousState(entry)).kind, entry };
}

function zoneOf(item: LibraryWorkItem): ZoneRef {
  return item.type === 'asset' ? item.asset.zone : item.type === 'assetOnly' ? item.change.zone : item.zone;
}

/**
 * The entries the message's items are about and the recorded keys of its assets' objects, one
 * batched read (tombstones look theirs up on their own).
 */
async function prefetchEntries(deps: ArchiveDeps, items: readonly LibraryWorkItem[], fresh: FreshAssets) {
  const refs = items
    .filter((item) => item.type !== 'tombstone')
    .map((item) => ({ zone: zoneOf(item), assetRecordName: subjectOf(item) }));
  const objectIds = items.flatMap((item) => {
    const asset = item.type === 'asset' ? fresh.current(item.asset) : undefined;
    return asset === undefined ? [] : planVersions(asset, deps.versionPolicy).map((p) => p.objectId);
  });
  return refs.length === 0
    ? { entries: new Map<string, ManifestEntry>(), objectKeys: new Map<string, string>() }
    : deps.state.getEntriesAndObjectKeys(refs, objectIds);
}

/**
 * Records the message's new assets as users of their masters in one batched write, before any of
 * their entries can list an object (an entry that lists this master's objects had it recorded).
 * A user recorded for an asset that then fails only keeps objects longer.
 */
async function recordNewMasterUsers(
  deps: ArchiveDeps,
  items: readonly LibraryWorkItem[],
  entries: ReadonlyMap<string, ManifestEntry>,
): Promise<Set<string>> {
  const users = items.flatMap((item) => {
    if (item.type !== 'asset') return [];
    const { asset } = item;
    const entry = entries.get(assetId(asset));
    if (listsObjectsOf(entry, asset)) return [];
    return [
      {
        masterRecordName: asset.masterRecordName,
        user: { zone: asset.zone, assetRecordName: asset.assetRecordName },
      },
    ];
  });
  if (users.length > 0) await deps.state.addMasterUsers(users);
  return new Set(users.map((u) => assetId(u.user)));
}

interface Refreshed {
  /** Fresh copies by asset record name; an asset in neither map was deleted meanwhile. */
  readonly assets: Map<string, Asset>;
  /** Assets CloudKit could not return this time, with why: not deleted. */
  readonly unavailable: Map<string, string>;
}

/**
 * Fresh copies of the named assets, and those CloudKit could not return this time. The own
 * library's ZONE_NOT_FOUND is web access off, ADP or a passing answer, never a photo to give up on
 * (docs/protocol/cloudkit.md#errors): retryable, so the message comes back while detection, which
 * owns zone discovery, stops with guidance or follows a renamed zone. A Shared Library's stays fatal.
 */
async function refreshed(deps: ArchiveDeps, zone: ZoneRef, keys: readonly RefreshKey[]): Promise<Refreshed> {
  if (keys.length === 0) return { assets: new Map(), unavailable: new Map() };
  const result = await deps.refresh(zone, keys).catch((error: unknown) => {
    throw error instanceof ZoneNotFoundError && isOwnLibrary(zone)
      ? new UnexpectedResponseError(error.message, { cause: error })
      : error;
  });
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
  known: KnownEntry,
  counts: MessageCounts,
  message?: MessageWrites,
): Promise<AssetArchiveResult | undefined> {
  let current = asset;
  for (let attempt = 0; ; attempt++) {
    try {
      // An expired URL wrote nothing: the entry read before is still the one to compare with.
      return await archiveAsset(deps, current, known, counts, message);
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
 * again (it would turn an archived photo into a skipped one). The worker's clock wrote
 * `updatedAt`, the detector's `issuedAt`: compared by the one rule (state-order.ts `sinceIssued`).
 */
function doneByEarlierDelivery(result: AssetArchiveResult, message: WorkMessage): boolean {
  const { updatedAt = 0, stateAt } = result.entry ?? {};
  return (
    result.outcome === 'unchanged' &&
    sinceIssued(updatedAt, message.issuedAt) &&
    // The state this message carries (its order, written since), not a newer one nor an older
    // message's written meanwhile; an entry from before `stateAt` says nothing of which wrote it.
    (stateAt === undefined || stateAt === message.issuedAt)
  );
}

/**
 * A permanent failure an earlier delivery of this message (or a copy of it) recorded on the asset:
 * that delivery counted it (the run record, the summary), so failing again here does not count it
 * twice. The failure names its message's `issuedAt`; one recorded before it did is this message's
 * when recorded since it was issued (the worker's clock wrote `at`: state-order.ts `sinceIssued`).
 * `before` is the entry as this delivery first read it.
 */
function failedInEarlierDelivery(
  item: LibraryWorkItem,
  before: ManifestEntry | undefined,
  message: WorkMessage,
): boolean {
  return (
    item.type === 'asset' &&
    before?.status === 'failed' &&
    before.failure !== undefined &&
    (before.failure.issuedAt === undefined
      ? sinceIssued(before.failure.at, message.issuedAt)
      : before.failure.issuedAt === message.issuedAt)
  );
}

function countArchive(tally: Tally, result: AssetArchiveResult, subject: string): void {
  if (result.awaitingUrl !== undefined) tally.awaitingUrl.push({ subject, versions: result.awaitingUrl });
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
    }
    for (const { zone, keys } of byZone.values()) {
      const result = await refreshed(this.#deps, zone, keys);
      // Only a lookup that answered says what is deleted: after a failed one, an item waiting on
      // it still holds its old copy and looks it up on its own (and fails as that lookup does).
      for (const key of keys) this.#refreshed.add(key.assetRecordName);
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

/** A permanent failure of an asset item, recorded on its entry. */
interface FailureToRecord {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly reason: string;
  /** The order of the state the item carried (state-order.ts). */
  readonly at: number;
  /** Its message's `issuedAt`, which the failure names for that message's redelivery. */
  readonly issuedAt: number;
}

async function recordFailure(deps: ArchiveDeps, failed: FailureToRecord) {
  const { zone, assetRecordName, masterRecordName, reason, at, issuedAt } = failed;
  const ref = { zone, assetRecordName };
  const entry = await deps.state.getEntry(ref);
  // An older item's failure is about a state gone: the newer one stays, as does a purge.
  if (entry?.status === 'purged' || isOlder(entry, at)) return;
  const input: ManifestEntryInput = entry
    ? {
        ...entry,
        status: 'failed',
        failure: { reason, at: deps.now(), attempts: (entry.failure?.attempts ?? 0) + 1, issuedAt },
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
        failure: { reason, at: deps.now(), attempts: 1, issuedAt },
      };
  const {
    updatedAt: _u,
    revision: _r,
    ...clean
  } = input as ManifestEntryInput & { updatedAt?: number; revision?: number };
  await deps.state.putEntry(clean, entry?.revision ?? 0);
  // Permanent for this try only, maybe (a CDN 404, a record shape refused, an AccessDenied fixed
  // later): detection tries it again on a backoff (detect/failed-retries.ts).
  await deps.state.noteFailedForRetry(ref, input.failure?.at ?? deps.now());
}

/**
 * Sends the paused items, each with the rest of its lane, again as a new work message, the same
 * in all but its items (its `issuedAt` too: URLs as old are refreshed, entries written since count
 * as done), so they go on at once with fresh receives instead of waiting out the visibility
 * timeout and spending one of this message's. Bounded by progress, not by a count: only pauses
 * that stored more than their checkpoint held come here, and a video has so many bytes. A copy
 * delivered beside it (a crash before this message's result reached the queue) meets the same key
 * claim, transfer lease and checkpoint. False when there is no continuation or it failed: the
 * message is retried as before.
 */
async function handOn(
  deps: ArchiveDeps,
  message: WorkMessage,
  paused: readonly LibraryWorkItem[],
): Promise<boolean> {
  const sent = deps.continuation?.enqueue([{ ...message, items: paused }]);
  return (
    (await sent?.then(
      () => true,
      () => false,
    )) ?? false
  );
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

/** The asset (or record) an item is about: items about one subject run in their message's order. */
function subjectOf(item: LibraryWorkItem): string {
  switch (item.type) {
    case 'asset':
      return item.asset.assetRecordName;
    case 'assetOnly':
      return item.change.assetRecordName;
    case 'tombstone':
      return item.recordName;
    case 'albumMembership':
      return item.assetRecordName;
  }
}

/**
 * The assets the message will archive first in their lanes, as fresh as the message has them, with
 * the entries it read: whose new objects' keys it claims up front.
 */
function assetsToClaim(
  lanes: readonly (readonly LibraryWorkItem[])[],
  entries: ReadonlyMap<string, ManifestEntry>,
  fresh: FreshAssets,
): AssetToClaim[] {
  return lanes.flatMap(([item]) => {
    if (item?.type !== 'asset') return [];
    const asset = fresh.current(item.asset);
    return asset === undefined ? [] : [{ asset, entry: entries.get(assetId(asset)) }];
  });
}

/** The items of a message by zone and subject, in order of first appearance. */
function groupBySubject(items: readonly LibraryWorkItem[]): Map<string, LibraryWorkItem[]> {
  const lanes = new Map<string, LibraryWorkItem[]>();
  for (const item of items) {
    const id = `${zoneId(zoneOf(item))}#${subjectOf(item)}`;
    const lane = lanes.get(id);
    if (lane === undefined) lanes.set(id, [item]);
    else lane.push(item);
  }
  return lanes;
}

function emptyTally(): Tally {
  return {
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
    awaitingUrl: [],
  };
}

function addTo(tally: Tally, done: Tally): void {
  tally.items += done.items;
  tally.archived += done.archived;
  tally.unchanged += done.unchanged;
  tally.updated += done.updated;
  tally.purged += done.purged;
  tally.purgedKept += done.purgedKept;
  if (done.objectsDeleted) tally.objectsDeleted = (tally.objectsDeleted ?? 0) + done.objectsDeleted;
  tally.failed += done.failed;
  tally.versionsArchived += done.versionsArchived;
  tally.bytesArchived += done.bytesArchived;
  tally.failures.push(...done.failures);
  tally.awaitingUrl.push(...done.awaitingUrl);
  for (const [kind, n] of Object.entries(done.changes) as [ChangeKind, number][])
    tally.changes[kind] = (tally.changes[kind] ?? 0) + n;
}

export interface ProcessOptions {
  /**
   * Told what this delivery did before it throws, whatever the reason (a retry, a sign-in iCloud
   * demands, a batch closed by another message's): the items it carried out stay counted (a
   * redelivery finds them done and does not count them again).
   */
  readonly onRetry?: (done: MessageResult) => void;
  /**
   * Told what each item did as soon as it is done (its manifest entry written), for live progress:
   * the result (or `onRetry`) then says the same for the message. An item an earlier delivery
   * counted is not told; one a retried delivery leaves uncounted (found unchanged) is told anyway.
   */
  readonly onItemDone?: (done: MessageResult) => void;
}

/** Carries out `message`. Throws when the message must be retried (or a human is needed). */
export async function processWorkMessage(
  deps: ArchiveDeps,
  message: WorkMessage,
  options: ProcessOptions = {},
): Promise<MessageResult> {
  const tally = emptyTally();

  // Shared-album items are carried out by their own archiver (app/download-batch.ts).
  const items = message.items.filter(isLibraryWorkItem);
  const assets = items.flatMap((item) => (item.type === 'asset' ? [item.asset] : []));
  const fresh = new FreshAssets(deps);
  // URLs already too old (or missing): one records/lookup per zone before anything is downloaded.
  await fresh.refresh(assets.filter((asset) => needsFreshUrls(asset, message.issuedAt, deps)));
  // One read for every entry the items are about, one write for the new assets' master users.
  const { entries, objectKeys } = await prefetchEntries(deps, items, fresh);
  const usersRecorded = await recordNewMasterUsers(deps, items, entries);
  // Items about the same asset keep their order (an album membership after the asset it needs);
  // different assets go concurrently, a bounded number at once.
  const lanes = [...groupBySubject(items).values()];
  // The keys of the new objects, claimed in one write before any transfer starts.
  const claims = await MessageClaims.take(
    deps,
    assetsToClaim(lanes, entries, fresh),
    new ObjectKeys(objectKeys),
  );
  // The entries of assets alone in their lane, written together once their transfers are done.
  const batch = new EntryBatch(deps.state, deps.entryBatchWaitMs, deps);
  // The objects the items store, counted together once they are done (after their entries).
  const counts = new MessageCounts();
  /** Assets whose item is done: a refresh after an expiry leaves them out. */
  const settled = new Set<string>();
  let bulkRefresh: Promise<void> | undefined;
  const refreshAfterExpiry = async (asset: Asset): Promise<Asset | undefined> => {
    if (bulkRefresh === undefined) {
      // The first 410 means every URL of this message is past its time: refresh all that
      // remain (this asset and those in flight included) in one lookup, not one per asset.
      bulkRefresh = fresh.refresh(assets.filter((a) => !settled.has(a.assetRecordName)));
      await bulkRefresh;
    } else {
      // A lookup that failed failed for every asset it named: this one fails as it did, without
      // asking Apple again (when a sign-in is needed, nothing more is asked).
      await bulkRefresh;
      // Items in flight with an old copy got a new one from that lookup; only a copy that
      // expired although it came from it is looked up again on its own.
      const current = fresh.current(asset);
      if (current === asset || fresh.unavailable(asset) !== undefined) await fresh.refresh([asset]);
    }
    const reason = fresh.unavailable(asset);
    if (reason !== undefined) throw unavailableError(asset.assetRecordName, reason);
    return fresh.current(asset);
  };

  /**
   * What one item did, merged into the message's tally once it is done (items run concurrently).
   * Given `handOver`, an asset's entry goes into the message's batch: `handOver` says it did (the
   * item's slot and lane move on), and the item is done once the batch is written.
   */
  const processItem = async (item: LibraryWorkItem, first: boolean, handOver?: () => void): Promise<void> => {
    const subject = subjectOf(item);
    const id = assetId({ zone: zoneOf(item), assetRecordName: subject });
    let kind: ChangeKind | undefined;
    const done: Tally = emptyTally();
    // The order of the state the item carries (state-order.ts: an issuer far ahead gets the worker's clock).
    const at = stateOrder(message.issuedAt, deps.now());
    try {
      // The message's read serves the first item about an asset; a later one reads what it left.
      const prefetched = first && item.type !== 'tombstone' ? { entry: entries.get(id) } : undefined;
      const classified = await classify(deps, item, subject, prefetched);
      kind = classified.kind;
      // An earlier delivery may have written this entry and died before counting its objects.
      if (prefetched !== undefined && (item.type === 'asset' || item.type === 'assetOnly'))
        counts.addWrittenSince(prefetched.entry, message.issuedAt);
      const known: KnownEntry = {
        entry: classified.entry,
        ...(first && usersRecorded.has(id) ? { masterUserRecorded: true } : {}),
      };
      let counted = true;
      switch (item.type) {
        case 'asset': {
          // A refreshed asset that lookup no longer returns was deleted meanwhile: the next delta says how.
          const asset = fresh.current(item.asset);
          const writes: MessageWrites =
            handOver === undefined
              ? { claims, at }
              : {
                  claims,
                  at,
                  writeEntry: (entry, expectedRevision) => {
                    const written = batch.write(entry, expectedRevision);
                    settled.add(item.asset.assetRecordName);
                    handOver();
                    return written;
                  },
                  again: (pass) => (deps.itemSlots === undefined ? pass() : deps.itemSlots.run(pass)),
                };
          const result =
            asset === undefined
              ? undefined
              : await archiveWithRefresh(deps, asset, refreshAfterExpiry, known, counts, writes);
          settled.add(item.asset.assetRecordName);
          if (result !== undefined && doneByEarlierDelivery(result, message)) counted = false;
          else if (result !== undefined) countArchive(done, result, subject);
          break;
        }
        case 'assetOnly': {
          const outcome = await applyAssetOnlyChange(deps, item.change, known, at);
          if (outcome === 'needsArchive') {
            const key = {
              assetRecordName: item.change.assetRecordName,
              masterRecordName: item.change.masterRecordName,
            };
            const found = await refreshed(deps, item.change.zone, [key]);
            const reason = found.unavailable.get(item.change.assetRecordName);
            if (reason !== undefined) throw unavailableError(item.change.assetRecordName, reason);
            const asset = found.assets.get(item.change.assetRecordName);
            // Trashed meanwhile (or first met in Recently Deleted): archived all the same, as `trashed`.
            if (asset !== undefined) {
              const result = await archiveWithRefresh(
                deps,
                asset,
                async (expired) => {
                  await fresh.refresh([expired]);
                  const why = fresh.unavailable(expired);
                  if (why !== undefined) throw unavailableError(expired.assetRecordName, why);
                  return fresh.current(expired);
                },
                known,
                counts,
                { at },
              );
              if (result !== undefined && doneByEarlierDelivery(result, message)) counted = false;
              else if (result !== undefined) countArchive(done, result, subject);
            }
          } else if (outcome === 'updated') done.updated++;
          else done.unchanged++;
          break;
        }
        case 'tombstone': {
          // The stricter of the mode detection checked the purge under and the worker's own: work
          // queued under keep (no safety stop) is not deleted by a worker switched to mirror since.
          const deletePolicy = stricterDeleteMode(message.deleteMode, deps.deletePolicy);
          const outcome = await applyPurge(
            { ...deps, deletePolicy },
            item.zone,
            item.recordName,
            item.inferredType,
            at,
            {
              onObjectsDeleted: (n) => {
                done.objectsDeleted = (done.objectsDeleted ?? 0) + n;
              },
            },
          );
          if (outcome === 'purged') done.purged++;
          else if (outcome === 'purgedKept') done.purgedKept++;
          break;
        }
        case 'albumMembership': {
          const outcome = await applyAlbumMembership(
            deps,
            item.zone,
            item.assetRecordName,
            item.albumRecordName,
            item.present,
            known,
          );
          if (outcome === 'updated') done.updated++;
          break;
        }
      }
      if (counted) {
        done.items++;
        done.changes[kind] = 1;
        if (done.unchanged > 0) unchangedKinds.push(kind);
      }
      addTo(tally, done);
      if (counted) options.onItemDone?.(done);
    } catch (error) {
      const errorClass = classifyError(error);
      if (errorClass === 'reauth') {
        // A human is needed: this message and the rest of the batch start nothing more; the
        // items in flight finish first.
        reauth ??= error;
        deps.itemSlots?.close(error);
        return;
      }
      if (errorClass === 'retryable') {
        // Keep going: the other items may succeed now, and a redelivery skips them.
        retryable ??= error;
        if (error instanceof TransferPausedError && error.stored > 0) paused.push(item);
        else stuck = true;
        return;
      }
      // Stored on the manifest and the run record, printed by sync and status: never Apple's secrets.
      const reason = errorText(error);
      const countedBefore = failedInEarlierDelivery(item, first ? entries.get(id) : undefined, message);
      if (item.type === 'asset') {
        await recordFailure(deps, {
          zone: item.asset.zone,
          assetRecordName: item.asset.assetRecordName,
          masterRecordName: item.asset.masterRecordName,
          reason,
          at,
          issuedAt: message.issuedAt,
        });
      }
      if (countedBefore) return;
      tally.items++;
      if (kind !== undefined) tally.changes[kind] = (tally.changes[kind] ?? 0) + 1;
      tally.failed++;
      tally.failures.push({ subject, reason });
      options.onItemDone?.({
        ...emptyTally(),
        items: 1,
        failed: 1,
        failures: [{ subject, reason }],
        changes: kind === undefined ? {} : { [kind]: 1 },
      });
    }
  };

  let retryable: unknown;
  let reauth: unknown;
  /** Items whose transfer paused with more stored than their checkpoint held: they may go on at once. */
  const paused: LibraryWorkItem[] = [];
  /** Some item must be retried for another reason (or paused without storing more). */
  let stuck = false;
  /** Kinds of the items found unchanged: a redelivery finds them unchanged again and counts them then. */
  const unchangedKinds: ChangeKind[] = [];
  /** Items whose entry waits in the batch: done once it is written. */
  const handedOver: Promise<void>[] = [];
  const runItem = (item: LibraryWorkItem, first: boolean, alone: boolean): Promise<void> => {
    if (!alone || item.type !== 'asset') return processItem(item, first);
    let handOver = () => {};
    const handed = new Promise<void>((resolve) => {
      handOver = resolve;
    });
    const done = processItem(item, first, handOver);
    return Promise.race([done, handed.then(() => void handedOver.push(done))]);
  };
  const width = Math.max(1, Math.min(deps.itemConcurrency ?? DEFAULT_ITEM_CONCURRENCY, lanes.length));
  let next = 0;
  const runLanes = async () => {
    for (let lane = lanes[next++]; lane !== undefined; lane = lanes[next++]) {
      for (const [index, item] of lane.entries()) {
        if (reauth !== undefined) return;
        const alone = lane.length === 1;
        if (deps.itemSlots === undefined) await runItem(item, index === 0, alone);
        else await deps.itemSlots.run(() => runItem(item, index === 0, alone));
      }
    }
  };
  // Every lane settles before the message does: nothing of it runs on after a throw.
  const lanesDone = await Promise.allSettled(Array.from({ length: width }, runLanes));
  // The entries handed over, in one write; their items finish then (a lost race merges and
  // writes again). Whatever stopped the lanes, the items that got this far keep their work.
  await batch.flush();
  const itemsDone = await Promise.allSettled(handedOver);
  await claims.releaseUnused(deps);
  // The objects stored (or adopted) so far join the totals in one write, whatever happens next;
  // should it fail, the message is delivered again and its entries counted then.
  const uncounted = await counts.commit(deps.state).then(
    () => undefined,
    (error: unknown) => error ?? new Error('objects not counted'),
  );
  // A sign-in iCloud demands; the batch closed (another message needs a human); an item to retry;
  // the objects not counted.
  const refused = [...lanesDone, ...itemsDone].find(
    (lane): lane is PromiseRejectedResult => lane.status === 'rejected',
  );
  const stoppedBy = reauth ?? refused?.reason ?? retryable ?? uncounted;
  // Only paused videos that stored more are left: they go on in a new message, this one is done.
  const onlyProgressedPauses =
    reauth === undefined && refused === undefined && uncounted === undefined && !stuck && paused.length > 0;
  // A paused item's lane goes on from it: the items after it (an album membership) need its entry.
  const rest = lanes.flatMap((lane) => {
    const from = lane.findIndex((item) => paused.includes(item));
    return from < 0 ? [] : lane.slice(from);
  });
  if (onlyProgressedPauses && (await handOn(deps, message, rest)))
    return { ...tally, continued: paused.length };
  if (stoppedBy !== undefined) {
    // Whatever ends the delivery, the items it carried out are told once, here: the redelivery
    // (after a retry, or after the person signed in again) finds them done and does not count them.
    options.onRetry?.(withoutUnchanged(tally, unchangedKinds));
    throw stoppedBy;
  }
  return { ...tally };
}
