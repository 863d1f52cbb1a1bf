/**
 * Changes that need no download: flags, trash and restore, album membership, purges. They update
 * the manifest (a compare-and-set, retried once on a lost race); only `mirror` ever deletes an
 * object, and only for a purge.
 */

import type { AssetOnlyChange, TombstoneType } from '#domain/model/asset.ts';
import type { ManifestEntry, ManifestEntryInput, RecordedDeletion } from '#domain/model/manifest.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { ConflictError } from '../errors.ts';
import { objectIdOf, plannableVersions, sameVersion } from '../plan/plan-versions.ts';
import { entryForTombstone, keysStillUsed } from '../plan/purged-entry.ts';
import type { ArchiveDeps, KnownEntry } from './archive-deps.ts';
import { markCurrentEdits } from './current-edits.ts';
import { isOlder } from './state-order.ts';

/** `purged`: recorded and its unshared objects removed (`mirror`); `purgedKept`: recorded, objects kept (`keep`). */
export type ChangeOutcome =
  | 'updated'
  | 'unchanged'
  | 'unknownAsset'
  | 'needsArchive'
  | 'purged'
  | 'purgedKept';

export function toInput(entry: ManifestEntry): ManifestEntryInput {
  const { updatedAt: _updatedAt, revision: _revision, ...input } = entry;
  return input;
}

/** Applies `change` to the stored entry with one retry on a lost race. */
async function updateEntry(
  deps: ArchiveDeps,
  load: () => Promise<ManifestEntry | undefined>,
  change: (entry: ManifestEntry) => ManifestEntryInput | undefined,
  known?: KnownEntry,
): Promise<{ outcome: 'updated' | 'unchanged' | 'unknownAsset'; before?: ManifestEntry }> {
  for (let attempt = 0; ; attempt++) {
    // The caller's read serves the first pass; after a lost race the entry is read again.
    const entry = attempt === 0 && known !== undefined ? known.entry : await load();
    if (entry === undefined) return { outcome: 'unknownAsset' };
    const next = change(entry);
    if (next === undefined) return { outcome: 'unchanged', before: entry };
    try {
      await deps.state.putEntry(next, entry.revision);
      return { outcome: 'updated', before: entry };
    } catch (error) {
      if (error instanceof ConflictError && attempt === 0) continue;
      throw error;
    }
  }
}

/**
 * A CPLAsset changed without its master. Flags, trash and restore are recorded here; a new
 * rendition (an edit) or an asset never archived (in Recently Deleted too) returns `needsArchive`:
 * the caller fetches the full asset and archives it.
 */
export async function applyAssetOnlyChange(
  deps: ArchiveDeps,
  change: AssetOnlyChange,
  known: KnownEntry | undefined,
  at: number,
): Promise<ChangeOutcome> {
  const ref = { zone: change.zone, assetRecordName: change.assetRecordName };
  const current = known !== undefined ? known.entry : await deps.state.getEntry(ref);
  // Never archived, trashed or not: iCloud serves a Recently Deleted photo for 30 days, then only the archive has it.
  if (current === undefined) return 'needsArchive';
  // Older than the entry's state (state-order.ts): the newer item named the renditions too.
  if (isOlder(current, at)) return 'unchanged';
  // Only among what the policy keeps: a thumb, or a screenshot's render, would be a lookup for nothing.
  const hasNewRendition = plannableVersions(change, deps.versionPolicy).some(
    (v) => !current.versions.some((a) => sameVersion(a, v)),
  );
  if (hasNewRendition && !change.isDeleted) return 'needsArchive';

  const result = await updateEntry(
    deps,
    () => deps.state.getEntry(ref),
    (entry) => {
      if (isOlder(entry, at)) return undefined;
      const flags = { isFavorite: change.isFavorite, isHidden: change.isHidden, isDeleted: change.isDeleted };
      const restored = entry.status === 'trashed' && !change.isDeleted;
      const status = change.isDeleted ? 'trashed' : restored ? 'archived' : entry.status;
      const same =
        entry.flags.isFavorite === flags.isFavorite &&
        entry.flags.isHidden === flags.isHidden &&
        entry.flags.isDeleted === flags.isDeleted &&
        entry.status === status &&
        entry.assetChangeTag === change.assetChangeTag;
      if (same) return undefined;
      // A flag change lists the asset's renditions too: a reverted edit is one it no longer lists.
      const versions = markCurrentEdits(entry.versions, change, deps.versionPolicy);
      return {
        ...toInput(entry),
        flags,
        status,
        assetChangeTag: change.assetChangeTag,
        versions,
        stateAt: at,
      };
    },
    { entry: current },
  );
  return result.outcome;
}

/** An asset joined or left an album. */
export async function applyAlbumMembership(
  deps: ArchiveDeps,
  zone: ZoneRef,
  assetRecordName: string,
  albumRecordName: string,
  present: boolean,
  known?: KnownEntry,
): Promise<ChangeOutcome> {
  const ref = { zone, assetRecordName };
  const result = await updateEntry(
    deps,
    () => deps.state.getEntry(ref),
    (entry) => {
      const has = entry.albums.includes(albumRecordName);
      if (has === present) return undefined;
      const albums = present
        ? [...entry.albums, albumRecordName]
        : entry.albums.filter((a) => a !== albumRecordName);
      return { ...toInput(entry), albums };
    },
    known,
  );
  return result.outcome;
}

/**
 * iCloud purged a record. `keep` records it; `mirror` also removes the archived objects that no
 * other live entry uses (the detector has already applied the safety stop to the run).
 * Album-relation tombstones are handled as membership removals by the caller.
 */
export async function applyPurge(
  deps: ArchiveDeps,
  zone: ZoneRef,
  recordName: string,
  inferredType: TombstoneType,
  at: number,
  options: {
    /** Told how many objects the purge deleted (after they were), when any were. */
    readonly onObjectsDeleted?: (count: number) => void;
  } = {},
): Promise<ChangeOutcome> {
  const first = await entryForTombstone(deps.state, zone, recordName, inferredType);
  if (first === undefined) return 'unknownAsset';
  const ref = { zone: first.zone, assetRecordName: first.assetRecordName };
  const mirror = deps.deletePolicy === 'mirror';
  const stillUsed = mirror ? await keysStillUsed(deps.state, first) : undefined;
  let removed: RecordedDeletion[] = [];
  const result = await updateEntry(
    deps,
    () => deps.state.getEntry(ref),
    (entry) => {
      if (entry.status === 'purged') return undefined;
      removed =
        stillUsed === undefined
          ? []
          : entry.versions
              .filter((v) => !stillUsed.has(v.key))
              .map((v) => ({ kind: v.kind, key: v.key, deletedAt: deps.now(), reason: 'purged in iCloud' }));
      return {
        ...toInput(entry),
        status: 'purged',
        flags: { ...entry.flags, isDeleted: true },
        // Final whatever its order: a purge is never undone, and an older item never undoes it.
        ...(isOlder(entry, at) ? {} : { stateAt: at }),
        versions: deps.deletePolicy === 'mirror' ? [] : entry.versions,
        deletions: [...entry.deletions, ...removed],
      };
    },
  );
  if (result.outcome !== 'updated') return result.outcome;
  // A purged entry no longer holds its master's objects for anyone else's purge.
  await deps.state.removeMasterUser(first.masterRecordName, ref);
  if (removed.length > 0) {
    // The users once more, now the entry says purged: a Shared Album item that became one after
    // the first read and then found the entry still archived references the original; one that
    // comes later finds the entry purged and keeps its own copy (finding 41).
    const late = await keysStillUsed(deps.state, first);
    const kept = removed.filter((d) => late.has(d.key));
    if (kept.length > 0) {
      removed = removed.filter((d) => !late.has(d.key));
      await updateEntry(
        deps,
        () => deps.state.getEntry(ref),
        (entry) => ({
          ...toInput(entry),
          deletions: entry.deletions.filter(
            (d) => !kept.some((k) => k.key === d.key && k.deletedAt === d.deletedAt),
          ),
        }),
      );
    }
  }
  // Objects go only after the manifest says so: a crash in between leaves an object the
  // manifest no longer lists, which `verify` reports, never a manifest pointing at nothing.
  for (const deletion of removed) {
    await deps.objects.delete(deletion.key);
    // After the delete: a crash in between leaves the totals high, never low (the delete stop's
    // limit is a share of them).
    await deps.state.uncountObject(deletion.key);
    const version = result.before?.versions.find((v) => v.key === deletion.key);
    if (result.before !== undefined && version !== undefined) {
      const objectId = objectIdOf(result.before.masterRecordName, version.kind, version.fileChecksum);
      // The recorded key first: a claim taken again after the release records its own.
      await deps.state.forgetObjectKey(objectId, deletion.key);
      await deps.state.releaseKey(deletion.key, objectId);
    }
  }
  if (removed.length > 0) options.onObjectsDeleted?.(removed.length);
  return mirror ? 'purged' : 'purgedKept';
}
