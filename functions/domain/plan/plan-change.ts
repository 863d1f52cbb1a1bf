/**
 * What one classified change means for the archive: objects to download, the manifest's next
 * state for the entries it touches, and objects nothing references any more.
 *
 * Rules:
 * - Nothing archived is ever overwritten or renamed. A new edit is a new object under a new
 *   key (`-edited`, then `-edited-2`, ...); the previous rendition stays.
 * - Metadata-only changes (favourite, hide, albums, trash, restore) update the manifest and
 *   never download again.
 * - One master, one set of objects: an iOS Duplicate and the Shared Library copy of your own
 *   photo reference the master's objects already archived (spec §6.6).
 * - Trash is not deletion: a trashed entry keeps its objects. Only a purge releases objects,
 *   and only those no other live entry (another zone, a duplicate) still references. What
 *   happens to released objects is the delete policy's decision (`delete-policy.ts`).
 */
import type { Asset, AssetOnlyChange, ZoneRef } from '#domain/model.ts';
import {
  type ArchivedObject,
  type ChangeTarget,
  type ClassifiedChange,
  type EntryState,
  isFullAsset,
  type ManifestEntry,
  type MasterState,
  sameEntry,
} from './change-input.ts';
import { candidateKeys } from './object-key.ts';
import { metadataForPlanned, type ObjectMetadata } from './object-metadata.ts';
import { type PlannedVersion, planVersions } from './plan-versions.ts';
import type { VersionPolicy } from './version-policy.ts';

/** One object to download and archive. */
export interface ArchiveRequest {
  readonly planned: PlannedVersion;
  /** Keys to claim in order (see `candidateKeys`); the first one won is the object's key forever. */
  readonly keyCandidates: readonly [string, string];
  /** Content-Type and user metadata, without `md5chksum` (the archive step adds it). */
  readonly metadata: ObjectMetadata;
}

export interface ChangePlan {
  readonly archive: readonly ArchiveRequest[];
  /** The next state of every entry the change touched (write conditionally). */
  readonly entries: readonly ManifestEntry[];
  /** Objects only purged entries referenced: candidates for the delete policy. */
  readonly released: readonly ArchivedObject[];
  /**
   * The manifest does not know this entry and the change carries only the asset record:
   * look the record pair up and plan it as `new`.
   */
  readonly needsFullRecord: boolean;
}

const NOTHING: ChangePlan = { archive: [], entries: [], released: [], needsFullRecord: false };

/**
 * Plans `change` against `state` (what the manifest holds for the change's master, undefined
 * when it holds nothing). Pure: `now` (ms) stamps state transitions.
 */
export function planChange(
  change: ClassifiedChange,
  state: MasterState | undefined,
  policy: VersionPolicy,
  now: number,
): ChangePlan {
  switch (change.kind) {
    case 'new':
    case 'movedToShared':
      return planArchive(change.asset, state, policy, now);
    case 'edited':
      return isFullAsset(change.target)
        ? planArchive(change.target, state, policy, now)
        : planAssetOnlyEdit(change.target, state, policy, now);
    case 'metadata':
    case 'hidden':
    case 'unhidden':
    case 'trashed':
    case 'restored':
      return planFlags(change.target, state, policy, now, stateFromFlags(change.target));
    case 'movedFromShared':
      return planFlags(change.target, state, policy, now, 'movedOut');
    case 'albumAdded':
    case 'albumRemoved':
      return planAlbum(change, state);
    case 'purged':
      return planPurge(change.zone, change.masterRecordName, change.assetRecordName, state, now);
  }
}

function stateFromFlags(target: ChangeTarget): EntryState {
  return target.isDeleted ? 'trashed' : 'active';
}

function findEntry(state: MasterState | undefined, target: { zone: ZoneRef; assetRecordName: string }) {
  return state?.entries.find((entry) => sameEntry(entry, target));
}

/** The next entry: flags and state from the change, albums and references kept. */
function nextEntry(
  previous: ManifestEntry | undefined,
  target: ChangeTarget,
  base: Pick<ManifestEntry, 'mediaType'> & { fileName?: string },
  state: EntryState,
  now: number,
  objectIds: readonly string[],
): ManifestEntry {
  const stateSince = previous?.state === state ? previous.stateSince : state === 'active' ? undefined : now;
  const fileName = base.fileName ?? previous?.fileName;
  return {
    zone: target.zone,
    assetRecordName: target.assetRecordName,
    masterRecordName: target.masterRecordName,
    mediaType: base.mediaType,
    ...(fileName === undefined ? {} : { fileName }),
    state,
    ...(stateSince === undefined ? {} : { stateSince }),
    isFavorite: target.isFavorite,
    isHidden: target.isHidden,
    albumRecordNames: previous?.albumRecordNames ?? [],
    objectIds: [...new Set([...(previous?.objectIds ?? []), ...objectIds])],
  };
}

/** Archives every planned version not archived yet; links the ones that are. */
function planArchive(
  asset: Asset,
  state: MasterState | undefined,
  policy: VersionPolicy,
  now: number,
): ChangePlan {
  const previous = findEntry(state, asset);
  const archived = new Map((state?.objects ?? []).map((object) => [object.objectId, object]));
  const anchorKey = state?.objects.find((object) => object.kind === 'original')?.key;
  const planned = planVersions(asset, policy);
  const archive: ArchiveRequest[] = [];
  for (const version of planned) {
    if (archived.has(version.objectId)) continue;
    const editGeneration = 1 + countOwnObjects(previous, archived, version);
    archive.push({
      planned: version,
      keyCandidates: candidateKeys(asset, version, {
        editGeneration,
        ...(anchorKey !== undefined && version.kind !== 'original' ? { anchorKey } : {}),
      }),
      metadata: metadataForPlanned(asset, version),
    });
  }
  const entry = nextEntry(
    previous,
    asset,
    { mediaType: asset.mediaType, fileName: asset.fileName },
    stateFromFlags(asset),
    now,
    planned.map((version) => version.objectId),
  );
  return { archive, entries: [entry], released: [], needsFullRecord: false };
}

/** Archived objects of `planned.kind` this entry already references (its earlier edits). */
function countOwnObjects(
  entry: ManifestEntry | undefined,
  archived: ReadonlyMap<string, ArchivedObject>,
  planned: PlannedVersion,
): number {
  return (entry?.objectIds ?? []).filter(
    (id) => id !== planned.objectId && archived.get(id)?.kind === planned.kind,
  ).length;
}

/**
 * An edit that arrived as the asset record alone: the rendition is named after the archived
 * original (same folder, same stem), so it sits beside it.
 */
function planAssetOnlyEdit(
  change: AssetOnlyChange,
  state: MasterState | undefined,
  policy: VersionPolicy,
  now: number,
): ChangePlan {
  const previous = findEntry(state, change);
  const original = state?.objects.find((object) => object.kind === 'original');
  if (previous === undefined || original === undefined) return { ...NOTHING, needsFullRecord: true };
  const asset: Asset = {
    ...change,
    masterChangeTag: '',
    fileName: previous.fileName ?? original.key.slice(original.key.lastIndexOf('/') + 1),
    fileNameSource: 'filenameEnc',
    mediaType: previous.mediaType,
    captureTime: change.captureTime ?? Number.NaN,
    subtypes: [],
  };
  return planArchive(asset, state, policy, now);
}

function planFlags(
  target: ChangeTarget,
  state: MasterState | undefined,
  policy: VersionPolicy,
  now: number,
  entryState: EntryState,
): ChangePlan {
  const previous = findEntry(state, target);
  if (previous === undefined) {
    // Someone else's photo that left the Shared Library before we archived it: not ours to keep.
    if (entryState === 'movedOut') return NOTHING;
    // Never archived (e.g. the change arrived before the photo was): archive it now.
    if (!isFullAsset(target)) return { ...NOTHING, needsFullRecord: true };
    const plan = planArchive(target, state, policy, now);
    const entries = plan.entries.map((entry) => ({ ...entry, state: entryState }));
    return { ...plan, entries };
  }
  const entry = nextEntry(previous, target, previous, entryState, now, []);
  return { ...NOTHING, entries: [entry] };
}

function planAlbum(
  change: Extract<ClassifiedChange, { kind: 'albumAdded' | 'albumRemoved' }>,
  state: MasterState | undefined,
): ChangePlan {
  const previous = findEntry(state, change);
  if (previous === undefined) return NOTHING;
  const albums = new Set(previous.albumRecordNames);
  if (change.kind === 'albumAdded') albums.add(change.albumRecordName);
  else albums.delete(change.albumRecordName);
  return { ...NOTHING, entries: [{ ...previous, albumRecordNames: [...albums] }] };
}

function planPurge(
  zone: ZoneRef,
  masterRecordName: string,
  assetRecordName: string | undefined,
  state: MasterState | undefined,
  now: number,
): ChangePlan {
  if (state === undefined || state.masterRecordName !== masterRecordName) return NOTHING;
  const purged = state.entries.filter(
    (entry) =>
      entry.state !== 'purged' &&
      entry.zone.zoneName === zone.zoneName &&
      (assetRecordName === undefined || entry.assetRecordName === assetRecordName),
  );
  if (purged.length === 0) return NOTHING;
  const purgedNames = new Set(purged.map((entry) => entry.assetRecordName));
  const stillReferenced = new Set(
    state.entries
      .filter(
        (entry) =>
          entry.state !== 'purged' &&
          !(purgedNames.has(entry.assetRecordName) && entry.zone.zoneName === zone.zoneName),
      )
      .flatMap((entry) => entry.objectIds),
  );
  const freed = new Set(purged.flatMap((entry) => entry.objectIds).filter((id) => !stillReferenced.has(id)));
  return {
    ...NOTHING,
    entries: purged.map((entry) => ({ ...entry, state: 'purged' as const, stateSince: now })),
    released: state.objects.filter((object) => freed.has(object.objectId)),
  };
}
