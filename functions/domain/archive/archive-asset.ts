/**
 * Archives the selected versions of one asset: claims a stable key for each, streams its bytes
 * from the CDN through the integrity check into the object store, and records the result in the
 * manifest. Idempotent: a version already archived (same kind and Apple checksum) is skipped, an
 * object left by a crashed attempt is adopted after checking it, and the manifest write is a
 * compare-and-set.
 */

import { randomUUID } from 'node:crypto';
import type { Asset, AssetVersion, VersionKind } from '#domain/model/asset.ts';
import {
  type ArchivedVersion,
  assetId,
  type ManifestEntry,
  type ManifestEntryInput,
  type TransferClaim,
} from '#domain/model/manifest.ts';
import type { LockLease } from '#domain/model/sync-state.ts';
import type { BodyDigest } from '#ports/object-store.ts';
import { MAX_OBJECT_BYTES } from '#ports/object-store.ts';
import { optional } from '#shared/optional-field.ts';
import { ConflictError, DownloadUrlExpiredError, InvalidInputError, ObjectTooLargeError } from '../errors.ts';
import { METADATA_KEYS, metadataForPlanned } from '../plan/object-metadata.ts';
import { awaitingUrl, type PlannedVersion, planVersions } from '../plan/plan-versions.ts';
import { toInput } from './apply-change.ts';
import { type ArchiveDeps, DEFAULT_RESUMABLE_FROM_BYTES, type KnownEntry } from './archive-deps.ts';
import { keyArchivedByAnotherAsset, ownedByAnotherOfKind } from './archived-by-another-asset.ts';
import { markCurrentEdits, outdatedEdit } from './current-edits.ts';
import { earlierEditKeys, keyCandidates, type MessageClaims } from './message-claims.ts';
import type { MessageCounts } from './message-counts.ts';
import { missingVersions } from './missing-versions.ts';
import { ObjectKeys } from './object-keys.ts';
import { putDownload } from './put-download.ts';
import { transferResumably } from './resumable-transfer.ts';
import { isOlder } from './state-order.ts';
import { awaitTransferTurn, type OurClaim, TRANSFER_LEASE_MS, withTransferLease } from './transfer-lease.ts';
import { SHA256_METADATA_KEY, verifiedCopy } from './verified-copy.ts';

export { SHA256_METADATA_KEY } from './verified-copy.ts';

export interface AssetArchiveResult {
  /**
   * `archived`: new objects were stored (or adopted); `updated`: only the manifest changed (flags,
   * trash); `unchanged`: nothing to do. A photo first met in Recently Deleted is archived (as
   * `trashed`): iCloud still serves it, and after the purge only the archive has it.
   */
  readonly outcome: 'archived' | 'updated' | 'unchanged';
  readonly versionsArchived: number;
  readonly bytesArchived: number;
  readonly entry?: ManifestEntry;
  /** Kinds the policy keeps that iCloud lists without a download URL: the entry stays `pending`. */
  readonly awaitingUrl?: readonly VersionKind[];
}

/**
 * Claims the key for `planned`, asking for the transfer lease of its object in the same write:
 * the key recorded for the object (`keys`: stored through another asset, whatever its date), else
 * the first free candidate; the same owner always gets the same key back. A claim the message took
 * up front (`claims`) stands in for the first candidate's. An edit first tries the earlier keys it
 * may hold already (`earlierEditKeys`). The key won is recorded for the object (one write, unless
 * it was recorded so already or claimed with it in one transaction).
 */
async function claimKey(
  deps: ArchiveDeps,
  asset: Asset,
  planned: PlannedVersion,
  entry: ManifestEntry | undefined,
  preferSuffixed: boolean,
  holder: string,
  claims: MessageClaims | undefined,
  keys: ObjectKeys,
): Promise<{ key: string; suffixed: boolean; claim: OurClaim }> {
  const [plain, suffixed, own] = keyCandidates(asset, planned, entry, deps.liveVideoName);
  const order = [
    ...earlierEditKeys(asset, planned, entry, deps.liveVideoName),
    ...(preferSuffixed ? [suffixed, plain, own] : [plain, suffixed, own]),
  ];
  const { objectId } = planned;
  const size = planned.version.size;
  const claimAt = (key: string) => deps.state.claimTransfer(key, objectId, holder, TRANSFER_LEASE_MS, size);
  const won = async (key: string, claim: OurClaim) => {
    if (!keys.names(objectId, key)) {
      await deps.state.putObjectKey(objectId, key);
      keys.note(objectId, key);
    }
    return { key, suffixed: key === suffixed, claim };
  };
  // A key the message's batch did not try: claimed with its object's key item in one write, as
  // the batch does; refused (claimed already), it is claimed as before.
  const claimAlone = async (key: string): Promise<TransferClaim> => {
    if (claims?.tried(key) !== true) {
      const request = { key, owner: objectId, holder, leaseMs: TRANSFER_LEASE_MS, size };
      const outcome = await deps.state.claimFreshKeys([request]);
      const fresh = 'written' in outcome ? outcome.written[0] : undefined;
      if (fresh !== undefined) {
        keys.note(objectId, key);
        return fresh;
      }
    }
    return claimAt(key);
  };
  // Stored already, maybe through an asset whose date, time zone or name differs. Claimed by
  // another object (a purge released it and a name twin took it), the candidates follow.
  const recorded = keys.recorded(objectId);
  if (recorded !== undefined) {
    const claim = (await claims?.use(deps, objectId, recorded)) ?? (await claimAt(recorded));
    if (claim.claimed) return won(recorded, claim);
  }
  let lookedElsewhere = false;
  for (const key of order) {
    const claim = (await claims?.use(deps, objectId, key)) ?? (await claimAlone(key));
    if (claim.claimed) return won(key, claim);
    // Another asset of this master archived such an object: maybe this one too, under its own count.
    if (lookedElsewhere || !ownedByAnotherOfKind(claim.owner, asset.masterRecordName, planned)) continue;
    lookedElsewhere = true;
    const elsewhere = await keyArchivedByAnotherAsset(deps, asset.masterRecordName, planned);
    const found = elsewhere === undefined ? undefined : await claimAt(elsewhere);
    if (elsewhere !== undefined && found?.claimed === true) return won(elsewhere, found);
  }
  throw new InvalidInputError(
    `no free key for ${planned.kind} of asset ${asset.assetRecordName}: every candidate belongs to another object`,
  );
}

/**
 * An object already at `key` that is exactly this version, whole and verified (left by a crashed
 * or concurrent attempt; never what a failed put left: verified-copy.ts).
 */
async function adoptExisting(
  deps: ArchiveDeps,
  key: string,
  version: AssetVersion,
): Promise<ArchivedVersion | undefined> {
  const head = await deps.objects.head(key);
  if (head === undefined || head.metadata[METADATA_KEYS.fileChecksum] !== version.fileChecksum)
    return undefined;
  const copy = verifiedCopy(head, version.size);
  return copy && archivedVersion('original', key, version, head.lastModified, { ...head, ...copy });
}

/** What the manifest records of `version` stored at `key`. */
function archivedVersion(
  kind: VersionKind,
  key: string,
  version: AssetVersion,
  archivedAt: number,
  stored: Pick<ArchivedVersion, 'size' | 'sha256' | 'md5' | 'etag' | 'versionId'>,
): ArchivedVersion {
  const { size, sha256, md5, etag, versionId } = stored;
  return {
    kind,
    key,
    size,
    sha256,
    md5,
    fileChecksum: version.fileChecksum,
    archivedAt,
    etag,
    ...optional('versionId', versionId),
  };
}

/**
 * Streams one version from the CDN into `key`: in one go, or, over `resumableFromBytes` where the
 * store can, resumably across deliveries under `lease` (resumable-transfer.ts).
 */
async function transfer(
  deps: ArchiveDeps,
  asset: Asset,
  planned: PlannedVersion,
  key: string,
  lease: LockLease,
): Promise<ArchivedVersion> {
  const { version } = planned;
  if (version.downloadUrl === undefined) throw new DownloadUrlExpiredError('no download URL');
  const { contentType, metadata } = metadataForPlanned(asset, planned);
  const signal = optional('signal', deps.signal);
  const options = {
    contentType,
    contentLength: version.size,
    metadata,
    lateMetadata: (digest: BodyDigest) => ({ [SHA256_METADATA_KEY]: digest.sha256 }),
    ...signal,
  };
  const { openResumable } = deps.objects;
  const resumable =
    openResumable !== undefined && version.size > (deps.resumableFromBytes ?? DEFAULT_RESUMABLE_FROM_BYTES);
  const stored = resumable
    ? await transferResumably(
        deps,
        { openResumable: openResumable.bind(deps.objects) },
        key,
        lease,
        version.downloadUrl,
        { ...options, bodyId: version.fileChecksum },
      )
    : await putDownload(deps.objects, key, await deps.downloader.open(version.downloadUrl, signal), options);
  return archivedVersion(planned.kind, key, version, deps.now(), stored);
}

async function archiveVersion(
  deps: ArchiveDeps,
  asset: Asset,
  planned: PlannedVersion,
  entry: ManifestEntry | undefined,
  preferSuffixed: boolean,
  claims: MessageClaims | undefined,
  keys: ObjectKeys,
): Promise<{ archived: ArchivedVersion; suffixed: boolean; transferred: boolean; count?: string }> {
  // Before any claim or download: no object can hold it, and every retry would fetch it whole.
  if (planned.version.size > MAX_OBJECT_BYTES)
    throw new ObjectTooLargeError(planned.version.size, MAX_OBJECT_BYTES);
  const holder = randomUUID();
  const { key, suffixed, claim } = await claimKey(
    deps,
    asset,
    planned,
    entry,
    preferSuffixed,
    holder,
    claims,
    keys,
  );
  // A claim the message took holds the lease for its own holder: the transfer renews that one.
  // What the claim said of the object's count, for counting it without another read.
  const count = optional('count', 'count' in claim ? claim.count : undefined);
  const adopt = () => adoptExisting(deps, key, planned.version);
  // Another worker may be storing this very object (a master shared across zones): one download.
  const turn = await awaitTransferTurn(deps, key, planned.objectId, holder, claim, adopt);
  if ('adopted' in turn)
    return { archived: { ...turn.adopted, kind: planned.kind }, suffixed, transferred: false, ...count };
  // The transfer stops (and stores nothing) when the lease is lost: another worker may be storing.
  const archived = await withTransferLease(deps, turn.lease, planned.objectId, (signal) =>
    transfer({ ...deps, signal }, asset, planned, key, turn.lease),
  );
  return { archived, suffixed, transferred: true, ...count };
}

/** True when `entry` lists objects of `asset`'s master: it had the master's user recorded. */
export function listsObjectsOf(entry: ManifestEntry | undefined, asset: Asset): boolean {
  return (
    entry !== undefined &&
    entry.status !== 'purged' &&
    entry.masterRecordName === asset.masterRecordName &&
    entry.versions.length > 0
  );
}

/**
 * What a work message shares with the archives of its items: the key claims it took up front, and
 * the batch its entries are written in.
 */
export interface MessageWrites {
  readonly claims?: MessageClaims;
  /**
   * Writes the first pass's entry with the message's others (entry-batch.ts): it settles once the
   * message's items have handed theirs over. After a lost race the item writes its own.
   */
  readonly writeEntry?: (entry: ManifestEntryInput, expectedRevision: number) => Promise<ManifestEntry>;
  /** Runs the pass after a lost race (it may claim and store again) in an item slot of its own. */
  readonly again?: <T>(pass: () => Promise<T>) => Promise<T>;
  /** The message's `issuedAt` (capped at the worker's clock): the order of the state it carries. */
  readonly at?: number;
}

type PassOutcome = { readonly result: AssetArchiveResult } | { readonly conflict: ConflictError };

/**
 * Archives `asset` (its URLs must be fresh: the caller refreshes them first). A download URL that
 * expired mid-way surfaces as `DownloadUrlExpiredError` for the caller to refresh and retry.
 * The stored and adopted objects are handed to `counts` (the work message's), to be counted with
 * the message's others once its items are done, after their manifest entries.
 * Given `message`, its claims serve the first pass and its batch writes the first pass's entry.
 */
export async function archiveAsset(
  deps: ArchiveDeps,
  asset: Asset,
  known: KnownEntry | undefined,
  counts: MessageCounts,
  message?: MessageWrites,
): Promise<AssetArchiveResult> {
  const at = message?.at;
  const first = await archivePass(deps, asset, known, counts, message, at);
  if ('result' in first) return first.result;
  // Another worker wrote the entry meanwhile: re-read and merge once; the claims and adoption of
  // the first pass make the second cheap.
  const pass = () => archivePass(deps, asset, undefined, counts, undefined, at);
  const second = message?.again === undefined ? await pass() : await message.again(pass);
  if ('result' in second) return second.result;
  throw second.conflict;
}

/**
 * One pass: the entry as `known` (or read now), the versions it lacks claimed and stored (or
 * adopted), the entry written; a lost race on that write is the outcome `conflict`.
 */
async function archivePass(
  deps: ArchiveDeps,
  asset: Asset,
  known: KnownEntry | undefined,
  counts: MessageCounts,
  message: MessageWrites | undefined,
  at: number | undefined,
): Promise<PassOutcome> {
  const ref = { zone: asset.zone, assetRecordName: asset.assetRecordName };
  const planned = planVersions(asset, deps.versionPolicy);
  // Read alone, the entry comes with its objects' recorded keys (one batched read, as a message's).
  const read =
    known === undefined
      ? await deps.state.getEntriesAndObjectKeys(
          [ref],
          planned.map((p) => p.objectId),
        )
      : undefined;
  const entry = read !== undefined ? read.entries.get(assetId(ref)) : known?.entry;
  const keys = message?.claims?.objectKeys ?? new ObjectKeys(read?.objectKeys);
  // Older than the state the entry holds: that state stays; the item only adds the objects it
  // names that the entry lacks (listed first: the last of a kind stays the newest), and none to a
  // purged entry.
  const older = isOlder(entry, at) ? entry : undefined;
  const missing = older?.status === 'purged' ? [] : missingVersions(planned, entry);
  const flags = { isFavorite: asset.isFavorite, isHidden: asset.isHidden, isDeleted: asset.isDeleted };
  // A version without a URL is neither archived nor forgotten: the entry stays `pending` (verify
  // reports it) while detection looks the record up again (detect/unreadable-records.ts).
  const awaiting = asset.isDeleted ? [] : awaitingUrl(asset, deps.versionPolicy, entry?.versions);
  const waits = awaiting.length > 0 ? { awaitingUrl: awaiting } : {};
  const status = asset.isDeleted ? 'trashed' : awaiting.length > 0 ? 'pending' : 'archived';
  const unchanged =
    entry !== undefined &&
    missing.length === 0 &&
    (older !== undefined ||
      (entry.status === (awaiting.length > 0 ? 'pending' : 'archived') &&
        entry.assetChangeTag === asset.assetChangeTag &&
        entry.masterChangeTag === asset.masterChangeTag));
  if (unchanged)
    return { result: { outcome: 'unchanged', versionsArchived: 0, bytesArchived: 0, entry, ...waits } };

  const added: ArchivedVersion[] = [];
  const claimCounts = new Map<string, string>();
  let bytes = 0;
  let transferredCount = 0;
  let preferSuffixed = false;
  for (const p of missing) {
    const result = await archiveVersion(deps, asset, p, entry, preferSuffixed, message?.claims, keys);
    // Siblings follow the original onto the suffixed name so the pair stays recognisable.
    if (p.kind === 'original') preferSuffixed = result.suffixed;
    added.push(result.archived);
    if (result.count !== undefined) claimCounts.set(result.archived.key, result.count);
    if (result.transferred) {
      bytes += result.archived.size;
      transferredCount++;
    }
  }

  const stateAt = at ?? entry?.stateAt;
  const input: ManifestEntryInput = older
    ? // The newer state lists the edits it has: an edit only this older item names is replaced.
      { ...toInput(older), versions: [...added.map(outdatedEdit), ...older.versions] }
    : {
        zone: asset.zone,
        assetRecordName: asset.assetRecordName,
        masterRecordName: asset.masterRecordName,
        assetChangeTag: asset.assetChangeTag,
        masterChangeTag: asset.masterChangeTag,
        status,
        flags,
        albums: entry?.albums ?? [],
        versions: markCurrentEdits([...(entry?.versions ?? []), ...added], asset, deps.versionPolicy),
        deletions: entry?.deletions ?? [],
        ...(stateAt === undefined ? {} : { stateAt }),
      };
  // Before the entry lists the objects: `mirror` must see every entry that uses them. An entry
  // that lists objects of this master already had it recorded (a purge removes it only after
  // marking the entry purged).
  const userRecorded = known?.masterUserRecorded === true || listsObjectsOf(entry, asset);
  if (!userRecorded) await deps.state.addMasterUser(asset.masterRecordName, ref);
  // Adopted objects too: a crash after the put and before the count left one uncounted. The
  // count is exactly-once per object, so a shared master or a retry never counts it twice.
  // A message counts its objects after their entries (its redelivery repairs a crash between).
  for (const version of added) counts.add(version, claimCounts.get(version.key));
  try {
    const write = message?.writeEntry ?? ((e: ManifestEntryInput, r: number) => deps.state.putEntry(e, r));
    const written = await write(input, entry?.revision ?? 0);
    return {
      result: {
        outcome: added.length > 0 ? 'archived' : 'updated',
        versionsArchived: transferredCount,
        bytesArchived: bytes,
        entry: written,
        ...waits,
      },
    };
  } catch (error) {
    if (error instanceof ConflictError) return { conflict: error };
    throw error;
  }
}
