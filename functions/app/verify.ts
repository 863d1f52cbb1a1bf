/**
 * Verify (`icloud-s3 verify`): checks the archive end to end. Gathers a fresh enumeration of
 * iCloud (unless skipped), the manifest and the bucket's objects, hands them to the pure
 * comparison (`domain/verify/compare-archive.ts`) and records a `verify` run. Nothing else is
 * written.
 */
import { randomUUID } from 'node:crypto';
import { type AlbumVerifyReport, verifyAlbums } from '#domain/albums/verify-albums.ts';
import type { RunFailure } from '#domain/model/run.ts';
import { zoneId } from '#domain/model/zone.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';
import {
  checkSharedAlbums,
  isSharedAlbumKey,
  type SharedAlbumsCheck,
  sharedRecordedHashes,
} from '#domain/shared-albums/verify-shared-albums.ts';
import { compareArchive } from '#domain/verify/compare-archive.ts';
import {
  enumerateLibrary,
  type LibraryListing,
  readManifest,
  readObjects,
} from '#domain/verify/gather-inputs.ts';
import type { VerifyReport } from '#domain/verify/verify-report.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import { ALBUM_VIEWS_PREFIX } from '#shared/env-names.ts';
import { errorMessage } from '#shared/redact.ts';

export interface VerifyDeps {
  readonly state: SyncStateStore;
  readonly objects: ObjectStore;
  /** Opens iCloud for the library side; absent: compare only the manifest with the bucket. */
  readonly icloud?: () => Promise<IcloudConnection>;
  readonly versionPolicy: VersionPolicy;
  readonly now?: () => number;
  /** Shared Albums' state: their objects are checked against it, apart from the library's. */
  readonly sharedAlbumState?: SharedAlbumStateStore;
}

export interface VerifyOptions {
  /** Re-read every archived object and check its SHA-256. */
  readonly deep: boolean;
  /**
   * False when the bucket is known to use SSE-KMS (`--sse-kms`): every head is read up front. True
   * still finds it out: an ETag that disagrees with the manifest has its head read first.
   */
  readonly etagsAreMd5: boolean;
  readonly onListed?: (assets: number) => void;
  readonly onObject?: (done: number, total: number) => void;
  /** Called when a phase with progress ends (listing iCloud, checking objects). */
  readonly onPhaseDone?: () => void;
}

export interface VerifyOutcome {
  readonly report: VerifyReport;
  /** The iCloud side, when it was checked. */
  readonly listing?: LibraryListing;
  /** The album views checked against iCloud's albums (with the iCloud side only). */
  readonly albums?: AlbumVerifyReport;
  /** Photo differences plus album findings. */
  readonly differences: number;
  readonly durationMs: number;
  /** The Shared Albums check (absent without their state). */
  readonly sharedAlbums?: SharedAlbumsCheck;
}

export async function runVerify(deps: VerifyDeps, options: VerifyOptions): Promise<VerifyOutcome> {
  const now = deps.now ?? Date.now;
  const started = now();
  const run = await deps.state.startRun(`verify-${started}-${randomUUID().slice(0, 8)}`, 'verify', started);
  try {
    const listing = deps.icloud === undefined ? undefined : await listIcloud(deps.icloud, deps, options);
    const manifest = await readManifest(deps.state);
    const referenced = new Set(manifest.flatMap((entry) => entry.versions.map((v) => v.key)));
    const recordedMd5 = new Map<string, string>();
    for (const entry of manifest)
      for (const v of entry.versions) if (!recordedMd5.has(v.key)) recordedMd5.set(v.key, v.md5);
    // Shared-album objects with a recorded MD5 have their heads and bytes read as the manifest's do.
    const sharedInputs = await loadShared(deps);
    const sharedHashes = sharedRecordedHashes(sharedInputs?.items ?? new Map(), referenced);
    for (const [key, { md5 }] of sharedHashes) recordedMd5.set(key, md5);
    const objects = await readObjects(deps.objects, {
      referenced: new Set([...referenced, ...sharedHashes.keys()]),
      etagsAreMd5: options.etagsAreMd5,
      recordedMd5,
      deep: options.deep,
      onObject: (done, total) => options.onObject?.(done, total),
    });
    options.onPhaseDone?.();
    const shared =
      sharedInputs === undefined
        ? undefined
        : checkSharedAlbums(sharedInputs.state, sharedInputs.items, objects, {
            etagsAreMd5: options.etagsAreMd5,
            checkedByLibrary: referenced,
          });
    const keptForAlbums = new Set(shared?.libraryKeys ?? []);
    const counters = await deps.state.getCounters();
    const libraryReport = compareArchive({
      ...(listing === undefined ? {} : { library: listing.assets }),
      manifest,
      // Shared-album objects are checked against their own state, below; so is a library object
      // only an album still shows (its photo purged from the library under mirror).
      objects:
        shared === undefined
          ? objects
          : objects.filter(
              (o) => !isSharedAlbumKey(o.key) && !(keptForAlbums.has(o.key) && !referenced.has(o.key)),
            ),
      etagsAreMd5: options.etagsAreMd5,
      retiredZones: (await deps.state.loadZones()).filter((z) => z.retired).map((z) => zoneId(z.zone)),
      counters,
    });
    const report =
      shared === undefined ? libraryReport : { ...libraryReport, ok: libraryReport.ok && shared.ok };
    const albums = deps.icloud === undefined ? undefined : await checkAlbums(deps, deps.icloud);
    const differences = countDifferences(report) + sharedDifferences(shared) + (albums?.findings.length ?? 0);
    for (const failure of [...failuresOf(report), ...sharedFailures(shared), ...albumFailures(albums)].slice(
      0,
      50,
    ))
      await deps.state.recordRunFailure(run, failure);
    await deps.state.addRunProgress(run, {
      counts: {
        libraryAssets: report.checked.libraryAssets,
        objectsChecked: report.checked.manifestObjects,
        differences,
      },
    });
    const ok = report.ok && (albums?.ok ?? true);
    await deps.state.finishRun(
      run,
      ok ? 'succeeded' : 'partial',
      now(),
      ok ? undefined : `${differences} differences`,
    );
    return {
      report,
      ...(listing === undefined ? {} : { listing }),
      ...(shared === undefined ? {} : { sharedAlbums: shared }),
      ...(albums === undefined ? {} : { albums }),
      differences,
      durationMs: now() - started,
    };
  } catch (error) {
    // What `status` shows for this run: why it stopped (scrubbed), as a detection run records it.
    await deps.state.finishRun(run, 'failed', now(), errorMessage(error)).catch(() => undefined);
    throw error;
  }
}

async function listIcloud(
  open: () => Promise<IcloudConnection>,
  deps: VerifyDeps,
  options: VerifyOptions,
): Promise<LibraryListing> {
  const icloud = await open();
  try {
    return await enumerateLibrary(icloud.source, deps.versionPolicy, (n) => options.onListed?.(n));
  } finally {
    options.onPhaseDone?.();
    await icloud.session.save();
  }
}

/** The Shared Albums' state and every album's item records (absent without their state store). */
async function loadShared(deps: VerifyDeps): Promise<
  | {
      readonly state: SharedAlbumsState | undefined;
      readonly items: ReadonlyMap<string, readonly StoredSharedItem[]>;
    }
  | undefined
> {
  if (deps.sharedAlbumState === undefined) return undefined;
  const state = await deps.sharedAlbumState.loadAlbums();
  const items = new Map<string, StoredSharedItem[]>();
  for (const guid of Object.keys(state?.albums ?? {}))
    items.set(guid, await deps.sharedAlbumState.loadItems(guid));
  return { state, items };
}

/** Findings of the Shared Albums check. */
export function sharedDifferences(check: SharedAlbumsCheck | undefined): number {
  return check === undefined
    ? 0
    : check.missing.length +
        check.extra.length +
        check.sizeMismatches.length +
        check.checksumMismatches.length;
}

/** The Shared Albums check's findings for the run record (keys only). */
function sharedFailures(check: SharedAlbumsCheck | undefined): RunFailure[] {
  if (check === undefined) return [];
  return [
    ...check.missing.map((m) => ({ subject: m.key, reason: 'shared-album object missing from the bucket' })),
    ...check.extra.map((e) => ({ subject: e.key, reason: 'shared-album object no item lists' })),
    ...mismatchFailures(check, 'recorded'),
  ];
}

/** Size and checksum mismatches as run-record findings; `recordedIn` names where the expected size is. */
function mismatchFailures(
  found: Pick<SharedAlbumsCheck, 'sizeMismatches' | 'checksumMismatches'>,
  recordedIn: string,
): RunFailure[] {
  return [
    ...found.sizeMismatches.map((s) => ({
      subject: s.key,
      reason: `size ${s.actual}, ${recordedIn} ${s.expected}`,
    })),
    ...found.checksumMismatches.map((c) => ({
      subject: c.key,
      reason: `${c.algorithm} differs (${c.source})`,
    })),
  ];
}

/** The album views against iCloud's albums, over the same connection as the listing. */
async function checkAlbums(deps: VerifyDeps, open: () => Promise<IcloudConnection>) {
  const zones = (await deps.state.loadZones()).filter((z) => !z.retired).map((z) => z.zone);
  const icloud = await open();
  try {
    return await verifyAlbums(
      { source: icloud.source, state: deps.state, objects: deps.objects },
      zones,
      ALBUM_VIEWS_PREFIX,
    );
  } finally {
    await icloud.session.save();
  }
}

function albumFailures(albums: AlbumVerifyReport | undefined): RunFailure[] {
  return (albums?.findings ?? []).map((f) =>
    f.type === 'viewNotInIcloud'
      ? { subject: f.key, reason: 'album view of no album in iCloud' }
      : {
          subject: f.path,
          reason: f.type === 'viewMissing' ? 'album view missing' : `album view: ${f.type}`,
        },
  );
}

export function countDifferences(report: VerifyReport): number {
  return (
    report.missing.length +
    report.extra.length +
    report.sizeMismatches.length +
    report.checksumMismatches.length
  );
}

/** One line per finding for the run record (the store keeps the first 50); record names and keys only. */
function failuresOf(report: VerifyReport): RunFailure[] {
  return [
    ...report.missing.map((m) =>
      m.type === 'notArchived'
        ? { subject: m.assetRecordName, reason: `${m.version} not archived (${m.reason})` }
        : { subject: m.key, reason: 'object missing from the bucket' },
    ),
    ...report.extra.map((e) =>
      e.type === 'unreferencedObject'
        ? { subject: e.key, reason: 'object not in the manifest' }
        : { subject: e.assetRecordName, reason: 'archived but no longer in iCloud' },
    ),
    ...mismatchFailures(report, 'manifest'),
  ].slice(0, 50);
}
