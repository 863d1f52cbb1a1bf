/**
 * Change detection: what changed in iCloud since the last durable sync token, turned into work
 * messages on the queue. One run of the scheduled detector.
 *
 * Cost model (requests to Apple):
 * - Idle: exactly one `changes/database` per database we watch, and no write here (the use case
 *   then records the time of the check: one small update, app/detection-run.ts). The
 *   shared database is watched only once it has shown a zone (a Shared Library you joined).
 * - Incremental: + one `changes/zone` page per changed zone (more for long deltas). A delta of
 *   thousands of asset-only changes (a bulk favourite): + one `records/lookup` per hundred lone
 *   assets, past 2,000 waiting (the source settles them so the checkpoint stays small).
 * - First sync of a zone: a `records/query` enumeration, not the `changes/zone` history. Measured
 *   on a ~7,300-photo library (docs/protocol/sync-tokens.md#scale): the history is ~450 pages, a third of its records
 *   tombstones, many pages empty; the all-photos index is ~75 pages of 100 photos, and its first
 *   page returns the zone's current syncToken for free. The token captured BEFORE the
 *   enumeration is kept, so anything that changes during it is replayed by the next delta (one
 *   that spanned runs saves the database token read when it began: `Run.tokenBehind`).
 *
 * - Stale token (or a first sync over an existing archive): the enumeration reconciles, so the
 *   purges the lost delta would have carried are found by what it did not return
 *   (`reconcile-enumeration.ts`: bounded stamps and pages; lookups only for what is missing).
 * - Refused database token: + one `changes/database` without a token (every zone listed), then one
 *   caught-up `changes/zone` per quiet zone; no zone is walked again.
 *
 * Durability: a zone's token (or enumeration checkpoint) is saved only after the work of the page
 * it covers is on the queue; the database token only after every zone it reported is caught up.
 * A crash anywhere resumes from the last durable page: work may be done twice (the archive is
 * idempotent), never skipped.
 */

import type { Asset, AssetOnlyChange, ZoneChange } from '#domain/model/asset.ts';
import { assetId, type ManifestEntry } from '#domain/model/manifest.ts';
import type {
  DatabaseSyncState,
  FailedPhotoRetry,
  JsonValue,
  ZoneSyncState,
} from '#domain/model/sync-state.ts';
import { type DatabaseScope, isOwnLibrary, type ZoneRef, zoneId } from '#domain/model/zone.ts';
import type { AlbumStore } from '../../ports/album-store.ts';
import type { AssetSource, EnumerationScope, ZoneChangesCursor } from '../../ports/asset-source.ts';
import type { DetectionStateStore, UnseenAsset } from '../../ports/sync-state-store.ts';
import type { WorkQueue } from '../../ports/work-queue.ts';
import {
  markAlbumsOfChangedPhotos,
  membershipsEndedByDeletedAlbums,
  recordAlbumChanges,
} from '../albums/record-albums.ts';
import { type AlbumWalkProgress, walkAlbums, zoneHasAlbums } from '../albums/walk-albums.ts';
import {
  AccountConditionError,
  PHOTOS_UNAVAILABLE_HINT,
  StaleSyncTokenError,
  ZoneNotFoundError,
} from '../errors.ts';
import { type DeletePolicy, deletionLimit, MassDeletionRefusedError } from '../plan/delete-policy.ts';
import { awaitingUrl } from '../plan/plan-versions.ts';
import { entryForTombstone, keysStillUsed } from '../plan/purged-entry.ts';
import { DEFAULT_VERSION_POLICY, type VersionPolicy } from '../plan/version-policy.ts';
import { type AlbumWalkRetry, afterAlbumWalkProblems, albumWalkDue } from './album-walk-retry.ts';
import { dueRetries } from './failed-retries.ts';
import { confirmUnseen, RECONCILE_LOOKUP_BATCH, seenAssetNames } from './reconcile-enumeration.ts';
import { afterLookup, isDue, park, type UnreadableRecord } from './unreadable-records.ts';
import { toWorkMessages } from './work-batches.ts';
import { parseZoneCheckpoint, serialiseZoneCheckpoint } from './zone-checkpoint.ts';

export interface DetectDeps {
  readonly source: AssetSource;
  readonly state: DetectionStateStore;
  readonly queue: WorkQueue;
  readonly now: () => number;
  /** Milliseconds left before the run must have stopped with its checkpoint saved. */
  readonly remainingMs: () => number;
  readonly runId: string;
  /** When the run started (ms): carried in the work messages so workers can add to the run's record. */
  readonly runStartedAt?: number;
  /**
   * Called once the run has work and holds the lock, before anything is enqueued (the handler
   * opens the run record there; an idle run never calls it, so it writes nothing).
   */
  readonly onWorkStarting?: () => Promise<void>;
  readonly deletePolicy: DeletePolicy;
  /** The workers' version policy: work items carry only the versions it can archive. */
  readonly versionPolicy?: VersionPolicy;
  /** Keep this much time in reserve for the last page's writes. */
  readonly reserveMs?: number;
  /**
   * Where albums and their members are recorded: the album walk of a first sync and the album
   * changes of every delta. Without it, albums are not recorded (memberships still reach the
   * manifest through the workers).
   */
  readonly albums?: AlbumStore;
}

export type DetectOutcome =
  /** Nothing changed: one request per watched database, nothing written. */
  | 'idle'
  /** Every changed zone is caught up. */
  | 'caughtUp'
  /** The deadline came first; the checkpoint is saved and the next run continues. */
  | 'continued'
  /** Another detection run holds the lock. */
  | 'locked';

export interface ZoneReport {
  readonly zone: ZoneRef;
  readonly mode: 'incremental' | 'enumeration';
  readonly pages: number;
  readonly changes: number;
  readonly caughtUp: boolean;
  /**
   * `staleToken`: CloudKit refused the zone's token, so it was walked afresh. `zoneGone`: CloudKit
   * answered ZONE_NOT_FOUND (a Shared Library left): retired. `zoneReturned`: a retired zone Apple
   * lists again, walked afresh with reconciliation.
   */
  readonly note?: 'staleToken' | 'zoneGone' | 'zoneReturned';
  /** Records CloudKit would not serve, still waiting to be looked up again. */
  readonly unreadableWaiting?: number;
  /** Records given up in this run after every lookup failed (the `workGivenUp` metric counts them). */
  readonly unreadableGivenUp?: readonly string[];
  /** Failed photos still failing after a day and more of retries: reported once each (`workGivenUp`). */
  readonly stillFailing?: readonly string[];
  /**
   * Problems on the pages of this run's album walk (an album or member CloudKit served as an error
   * item): nothing they hid was taken as deleted, and the albums are walked again later
   * (`album-walk-retry.ts`).
   */
  readonly albumProblems?: number;
  /**
   * Every album walk since this time (ms) had problems, for a day now: told once (`workGivenUp`).
   */
  readonly albumWalkFailingSince?: number;
}

export interface DetectResult {
  readonly outcome: DetectOutcome;
  readonly runId: string;
  readonly zones: readonly ZoneReport[];
  readonly itemsEnqueued: number;
  readonly messagesEnqueued: number;
  /** Databases whose stored token CloudKit refused; read again without one (every zone listed). */
  readonly databaseTokensRefused?: readonly DatabaseScope[];
}

/** The lock one detection run holds while it walks the zones (named so a local run can break a dead one's). */
export const DETECTION_LOCK = 'detect-changes';
const LOCK_NAME = DETECTION_LOCK;
/** How often an account with no joined Shared Library looks for one (on runs that found changes). */
const SHARED_RECHECK_MS = 24 * 60 * 60 * 1000;
const DEFAULT_RESERVE_MS = 20_000;

/**
 * What a zone's `checkpoint` holds between runs (opaque JSON to the store):
 * - during a first enumeration: the records/query cursor of the current scope and the zone token
 *   captured on the very first page;
 * - while following the delta: the halves of master/asset pairs still waiting for their partner.
 */
/**
 * Scopes a first enumeration walks, in order: hidden photos are the person's photos too, and so
 * are those in Recently Deleted (iCloud serves them for 30 days; after the purge only the archive has them).
 */
const ENUMERATION_SCOPES: readonly EnumerationScope[] = ['library', 'hidden', 'recentlyDeleted'];

const sameZone = (a: ZoneRef, b: ZoneRef) => zoneId(a) === zoneId(b);

class Run {
  readonly #deps: DetectDeps;
  itemsEnqueued = 0;
  messagesEnqueued = 0;
  purgesThisRun = 0;
  /** What a purge refused on an earlier run had queued (the zones' `brake`): this run counts on from it. */
  carried = 0;
  /**
   * The archive's objects when that purge was first refused (the zones' `brakeArchive`; for a
   * brake stored without it, the archive as this run reads it plus the carried count): the limit
   * weighs the carried count and this run's against the archive they came out of.
   */
  carriedArchive: number | undefined;
  /** The entries whose purge the run has counted (`assetId`). */
  readonly purged = new Set<string>();
  /** The archive's counted objects as this run first read them. */
  counted: number | undefined;
  /** What the limit was last weighed against (saved with a refusal: `brakeArchive`). */
  archiveObjects: number | undefined;

  /** Counts on from a zone's refused purge (its checkpoint's `brake` and `brakeArchive`). */
  carry(brake: number, brakeArchive: number | undefined): void {
    if (brake === 0) return;
    this.carried = Math.max(this.carried, brake);
    if (brakeArchive !== undefined) this.carriedArchive = Math.max(this.carriedArchive ?? 0, brakeArchive);
  }
  /** The zones this run syncs, in order; zones added while it runs are synced too (S141). */
  readonly zones: ZoneRef[] = [];
  /** The database tokens this run read. */
  readonly read = new Map<DatabaseScope, string>();
  /**
   * Databases of zones whose token was captured before this run (an album walk, or a walk begun
   * on an earlier run): what changed meanwhile is behind the token this run read, so the one read
   * when the walk began is saved instead (none known: the stored one stays), and the next run
   * lists the zone if it changed.
   */
  readonly tokenBehind = new Map<DatabaseScope, string | undefined>();

  behind(database: DatabaseScope, token: string | undefined): void {
    const known = this.tokenBehind;
    known.set(database, known.has(database) && known.get(database) !== token ? undefined : token);
  }

  constructor(deps: DetectDeps) {
    this.#deps = deps;
  }

  add(zone: ZoneRef): void {
    if (!this.zones.some((z) => sameZone(z, zone))) this.zones.push(zone);
  }

  hasTimeFor(): boolean {
    return this.#deps.remainingMs() > (this.#deps.reserveMs ?? DEFAULT_RESERVE_MS);
  }

  /**
   * The assets of this run's pages that are not purged, by master (mirror only): each will record
   * itself as a user of its master when its worker archives it.
   */
  readonly liveUsers = new Map<string, Set<string>>();

  noteLiveUsers(changes: readonly ZoneChange[]): void {
    for (const change of changes) {
      const live =
        change.type === 'asset' ? change.asset : change.type === 'assetOnly' ? change.change : undefined;
      if (live === undefined || live.isExpunged) continue;
      const users = this.liveUsers.get(live.masterRecordName) ?? new Set<string>();
      users.add(assetId(live));
      this.liveUsers.set(live.masterRecordName, users);
    }
  }

  /** Another asset of this run uses the entry's master: its worker keeps every object of it. */
  hasLiveUserInRun(entry: ManifestEntry): boolean {
    const users = this.liveUsers.get(entry.masterRecordName);
    if (users === undefined) return false;
    const self = assetId(entry);
    for (const user of users) if (user !== self) return true;
    return false;
  }

  /** Refuses a page whose purges would take the run past the delete limit (mirror only). */
  async checkDeletions(changes: readonly ZoneChange[]): Promise<void> {
    const { deletePolicy, state } = this.#deps;
    if (deletePolicy.mode !== 'mirror') return;
    // What the purges would remove: the archived objects of each entry a tombstone reaches, as the
    // workers find it (an asset by its name, a master through its user in the zone). A photo's two
    // tombstones, maybe pages apart, reach one entry: counted once in the run.
    // Objects another live photo still uses stay (the workers' rule, `keysStillUsed`): a user in
    // the manifest, or one this run enqueued whose worker has not recorded it yet (a library
    // reset's new asset over the same master).
    this.noteLiveUsers(changes);
    let objects = 0;
    for (const change of changes) {
      if (change.type !== 'tombstone') continue;
      const entry = await entryForTombstone(state, change.zone, change.recordName, change.inferredType);
      if (entry === undefined || entry.status === 'purged' || this.purged.has(assetId(entry))) continue;
      this.purged.add(assetId(entry));
      if (this.hasLiveUserInRun(entry)) continue;
      const kept = await keysStillUsed(state, entry);
      objects += entry.versions.filter((v) => !kept.has(v.key)).length;
    }
    if (objects === 0) return;
    this.counted ??= (await state.getCounters()).objects;
    const { carried, purgesThisRun } = this;
    // Like with like: the carried count left the archive on earlier runs (or is leaving it), so it
    // is weighed against the archive it came out of, never against what remains.
    const before = this.carriedArchive ?? this.counted + carried;
    this.archiveObjects = carried ? Math.max(this.counted, before) : this.counted;
    const wouldDelete = carried + purgesThisRun + objects;
    const limit = deletionLimit(deletePolicy, this.archiveObjects);
    if (wouldDelete > limit) {
      throw new MassDeletionRefusedError(
        wouldDelete,
        this.archiveObjects,
        limit,
        `photos purged in iCloud${carried ? `, ${carried} on earlier runs` : ''}`,
        { items: this.itemsEnqueued, messages: this.messagesEnqueued },
        purgesThisRun,
        { policy: deletePolicy },
      );
    }
    this.purgesThisRun += objects;
  }

  /**
   * Puts a page's work on the queue; resolves only when all of it is durable. `fromDelta`: the
   * page is a change feed's, so the albums of the photos it changes get their views rewritten.
   */
  async enqueue(page: readonly ZoneChange[], fromDelta = false): Promise<void> {
    await this.checkDeletions(page);
    // Album records and memberships are state, not work: recorded here, before the page's token.
    const { albums, runStartedAt, versionPolicy } = this.#deps;
    let changes = page;
    if (albums !== undefined) {
      changes = [...page, ...(await membershipsEndedByDeletedAlbums(albums, page))];
      await recordAlbumChanges(albums, changes);
      if (fromDelta) await markAlbumsOfChangedPhotos(albums, changes);
    }
    const messages = toWorkMessages(changes, {
      runId: this.#deps.runId,
      ...(runStartedAt === undefined ? {} : { runStartedAt }),
      issuedAt: this.#deps.now(),
      ...(versionPolicy === undefined ? {} : { versionPolicy }),
      // What checkDeletions weighed the page's purges under: workers delete only under mirror too.
      deleteMode: this.#deps.deletePolicy.mode,
    });
    if (messages.length === 0) return;
    await this.#deps.queue.enqueue(messages);
    this.messagesEnqueued += messages.length;
    this.itemsEnqueued += messages.reduce((n, m) => n + m.items.length, 0);
  }
}

/**
 * Replaces the zone's state and updates `current`. The records waiting to be looked up again
 * (`current.unreadable`) and a refused purge's count (`current.brake`) go with whatever checkpoint
 * is saved: they outlive tokens and walks.
 */
async function saveZone(
  state: DetectionStateStore,
  current: ZoneStateHolder,
  zone: ZoneRef,
  next: {
    syncToken?: string;
    checkpoint?: JsonValue;
    retired?: boolean;
    lastFullScanAt?: number;
    /** `null`: the album walk is to be done again (it had problems), whatever an earlier one recorded. */
    albumsWalkedAt?: number | null;
  },
): Promise<ZoneSyncState> {
  const lastFullScanAt = next.lastFullScanAt ?? current.state?.lastFullScanAt;
  const albumsWalkedAt =
    next.albumsWalkedAt === null ? undefined : (next.albumsWalkedAt ?? current.state?.albumsWalkedAt);
  const {
    unreadable: _u,
    brake: _b,
    brakeArchive: _ba,
    albumRetry: _r,
    ...rest
  } = next.checkpoint === undefined ? {} : parseZoneCheckpoint(next.checkpoint);
  const kept = {
    ...rest,
    ...(current.unreadable.length > 0 ? { unreadable: current.unreadable } : {}),
    ...(current.brake ? { brake: current.brake } : {}),
    ...(current.brake && current.brakeArchive !== undefined ? { brakeArchive: current.brakeArchive } : {}),
    ...(current.albumRetry ? { albumRetry: current.albumRetry } : {}),
  };
  current.state = await state.saveZone(
    {
      zone,
      ...(next.syncToken === undefined ? {} : { syncToken: next.syncToken }),
      ...(Object.keys(kept).length > 0 ? { checkpoint: serialiseZoneCheckpoint(kept) } : {}),
      ...(next.retired === undefined ? {} : { retired: next.retired }),
      ...(lastFullScanAt === undefined ? {} : { lastFullScanAt }),
      ...(albumsWalkedAt === undefined ? {} : { albumsWalkedAt }),
    },
    current.state?.revision ?? 0,
  );
  return current.state;
}

/** A zone's state as last read or written in this run: every write updates it, so it is never read twice. */
interface ZoneStateHolder {
  state: ZoneSyncState | undefined;
  /** Records CloudKit would not serve, waiting to be looked up again (saved with every write). */
  unreadable: UnreadableRecord[];
  /** A refused purge's count (`ZoneCheckpoint.brake`; 0: none), saved with every write until caught up. */
  brake: number;
  /** The archive that purge is weighed against (`ZoneCheckpoint.brakeArchive`). */
  brakeArchive: number | undefined;
  /** Records given up in this run (reported). */
  readonly givenUp: string[];
  /** Failed photos still failing after a day and more of retries (reported). */
  stillFailing: string[];
  /** Problems on the pages of this run's album walk (reported). */
  albumProblems: number;
  /** Album walks with problems in a row (saved with every write until a walk reads every album). */
  albumRetry: AlbumWalkRetry | undefined;
  /** Set when this run tells that every walk since then had problems. */
  albumWalkFailingSince?: number;
}

/** The photos of `changes` served with a version `deps`' policy keeps but no download URL. */
function namesAwaitingUrl(deps: DetectDeps, photos: readonly (Asset | AssetOnlyChange)[]): string[] {
  const policy = deps.versionPolicy ?? DEFAULT_VERSION_POLICY;
  return photos.filter((p) => awaitingUrl(p, policy).length > 0).map((p) => p.assetRecordName);
}

/**
 * Keeps the names a page could not read, and those of the photos it served without a URL for a
 * version (their versions with a URL are on the queue already); the token may then move past it.
 */
function parkUnreadable(
  deps: DetectDeps,
  current: ZoneStateHolder,
  page: { readonly unreadable?: readonly string[]; readonly changes: readonly ZoneChange[] },
): boolean {
  const noUrl = namesAwaitingUrl(
    deps,
    page.changes.flatMap((c) => (c.type === 'asset' ? [c.asset] : c.type === 'assetOnly' ? [c.change] : [])),
  );
  const names = page.unreadable ?? [];
  if (names.length + noUrl.length === 0) return false;
  const parked = park(current.unreadable, names, undefined, noUrl);
  current.unreadable = parked.waiting;
  current.givenUp.push(...parked.givenUp);
  return true;
}

/**
 * Looks up again the records of this zone CloudKit would not serve on an earlier run, when due:
 * what it returns now is enqueued as ordinary asset work, what is gone leaves the list, what is
 * still unavailable waits (given up at the cap). One records/lookup per hundred names.
 */
async function retryUnreadable(deps: DetectDeps, run: Run, zone: ZoneRef, current: ZoneStateHolder) {
  const now = deps.now();
  const due = current.unreadable.filter((r) => isDue(r, now)).map((r) => r.name);
  if (due.length === 0) return;
  const found = await deps.source.lookupAssets(
    zone,
    due.map((assetRecordName) => ({ assetRecordName })),
  );
  // Still without a URL: waits again, not queued (its versions with a URL were, when it was
  // first served; one that was unreadable is queued whole once its URL is there).
  const noUrl = new Set(namesAwaitingUrl(deps, found.assets));
  await run.enqueue(
    found.assets
      .filter((asset) => !noUrl.has(asset.assetRecordName))
      .map((asset): ZoneChange => ({ type: 'asset', asset })),
  );
  // A record CloudKit answers NOT_FOUND is gone (a later delta or reconciliation says how): not
  // waited for. One answered but not read as a photo (`missing`: a shape the mapping refuses)
  // waits like an error entry, so it is given up and reported at the cap, never dropped quietly.
  const gone = new Set(found.notFound ?? []);
  const still = new Set(
    [...found.unavailable.map((u) => u.assetRecordName), ...found.missing].filter((name) => !gone.has(name)),
  );
  const next = afterLookup(current.unreadable, due, still, now, undefined, noUrl);
  current.unreadable = next.waiting;
  current.givenUp.push(...next.givenUp);
  // The state as it was (token, checkpoint, retired), with the new list of records waiting.
  await saveZone(deps.state, current, zone, current.state ?? {});
}

/**
 * Whether a fresh enumeration of a zone must reconcile (see `reconcile-enumeration.ts`): always
 * after a stale token, and on a first sync once the archive holds anything (a zone state lost
 * or reset over an existing archive). A first sync into an empty archive skips the stamps. The
 * archive as the run found it, read once for all its zones: what the workers add meanwhile is
 * this run's own work, never a zone's lost state.
 */
async function mustReconcile(deps: DetectDeps, run: Run, afterStaleToken: boolean): Promise<boolean> {
  if (afterStaleToken) return true;
  run.archiveObjects ??= (await deps.state.getCounters()).objects;
  return run.archiveObjects > 0;
}

/**
 * Enumerates a zone from its checkpoint; returns whether it finished. A reconciling enumeration
 * stamps each page's assets and, once the walk is done, reconciles before the token is saved.
 */
async function enumerateZone(
  deps: DetectDeps,
  run: Run,
  zone: ZoneRef,
  current: ZoneStateHolder,
  afterStaleToken: boolean,
) {
  const checkpoint = parseZoneCheckpoint(current.state?.checkpoint);
  const resumed = checkpoint.enumeration ?? checkpoint.albums ?? checkpoint.reconcile;
  if (resumed) run.behind(zone.database, resumed.databaseToken);
  const databaseToken = resumed ? resumed.databaseToken : run.read.get(zone.database);
  if (checkpoint.albums !== undefined) {
    const { listed, pending, problems, cursor, ...walk } = checkpoint.albums;
    const albums = {
      listed,
      pending,
      ...(problems === undefined ? {} : { problems }),
      ...(cursor === undefined ? {} : { cursor }),
    };
    return { pages: 0, ...(await finishEnumeration(deps, run, zone, current, { ...walk, albums })) };
  }
  if (checkpoint.reconcile !== undefined) {
    return { pages: 0, ...(await reconcileZone(deps, run, zone, current, checkpoint.reconcile)) };
  }
  const generation =
    checkpoint.enumeration === undefined
      ? (await mustReconcile(deps, run, afterStaleToken))
        ? deps.runId
        : undefined
      : checkpoint.enumeration.generation;
  const stamp = generation === undefined ? {} : { generation };
  let progress = checkpoint.enumeration ?? { scope: ENUMERATION_SCOPES[0] ?? 'library', ...stamp };
  let pages = 0;
  let changes = 0;
  while (run.hasTimeFor()) {
    const page = await deps.source.enumeratePage(zone, progress.cursor, progress.scope);
    pages++;
    changes += page.changes.length;
    await run.enqueue(page.changes);
    parkUnreadable(deps, current, page);
    const seen = generation === undefined ? [] : seenAssetNames(page.changes);
    if (generation !== undefined && seen.length > 0) await deps.state.markSeen(zone, generation, seen);
    const capturedToken = progress.capturedToken ?? page.cursor.syncToken;
    const nextScope = ENUMERATION_SCOPES[ENUMERATION_SCOPES.indexOf(progress.scope) + 1];
    if (page.done && nextScope === undefined) {
      if (capturedToken === undefined)
        throw new StaleSyncTokenError(zone.zoneName, 'the enumeration returned no sync token');
      const rest = await finishEnumeration(deps, run, zone, current, {
        capturedToken,
        databaseToken,
        ...(generation === undefined ? {} : { generation }),
      });
      return { pages, changes: changes + rest.changes, caughtUp: rest.caughtUp };
    }
    const token = capturedToken === undefined ? {} : { capturedToken, databaseToken };
    progress = page.done
      ? { scope: nextScope ?? 'library', ...token, ...stamp }
      : { scope: progress.scope, cursor: page.cursor, ...token, ...stamp };
    await saveZone(deps.state, current, zone, {
      checkpoint: serialiseZoneCheckpoint({ enumeration: progress }),
    });
  }
  return { pages, changes, caughtUp: false };
}

/**
 * Finishes a zone whose photos are walked: walks its albums (when albums are recorded), then
 * reconciles (when the enumeration does) or saves the token captured before the walk. Each step's
 * progress is in the checkpoint, so a run that stops part-way resumes at the same step.
 */
async function finishEnumeration(
  deps: DetectDeps,
  run: Run,
  zone: ZoneRef,
  current: ZoneStateHolder,
  walk: {
    readonly capturedToken: string;
    readonly databaseToken?: string;
    readonly generation?: string;
    readonly albums?: AlbumWalkProgress;
    readonly only?: true;
  },
): Promise<{ changes: number; caughtUp: boolean }> {
  const { capturedToken, generation, only, databaseToken } = walk;
  const albums = deps.albums;
  const albumRetry = current.albumRetry;
  const walked: { albumsWalkedAt?: number | null } = {};
  if (albums !== undefined && zoneHasAlbums(zone)) {
    const saveWalk = async (progress: AlbumWalkProgress) => {
      await saveZone(deps.state, current, zone, {
        checkpoint: serialiseZoneCheckpoint({
          albums: {
            capturedToken,
            databaseToken,
            ...(generation === undefined ? {} : { generation }),
            ...progress,
            ...(only ? { only } : {}),
          },
        }),
      });
    };
    const result = await walkAlbums(
      { source: deps.source, albums, hasTimeFor: () => run.hasTimeFor(), save: saveWalk },
      zone,
      walk.albums,
    );
    if (!result.done) {
      await saveWalk(result.progress);
      return { changes: 0, caughtUp: false };
    }
    // A walk with problems read only part of the albums: not recorded as done, so a later run
    // walks them again (`needsAlbumWalk`, with a backoff) and applies what a clean walk shows.
    current.albumProblems += result.problems;
    walked.albumsWalkedAt = result.problems > 0 ? null : deps.now();
    current.albumRetry = undefined;
    if (result.problems > 0) {
      const after = afterAlbumWalkProblems(albumRetry, deps.now());
      current.albumRetry = after.retry;
      if (after.tell) current.albumWalkFailingSince = after.retry.since;
    }
  }
  if (generation === undefined) {
    await saveZone(deps.state, current, zone, {
      syncToken: capturedToken,
      ...(only ? {} : { lastFullScanAt: deps.now() }),
      ...walked,
    });
    if (only) run.behind(zone.database, undefined);
    return { changes: 0, caughtUp: true };
  }
  // The walk is done: from here the checkpoint names the reconciliation, not the walk.
  const reconcile = { generation, capturedToken, databaseToken };
  await saveZone(deps.state, current, zone, {
    checkpoint: serialiseZoneCheckpoint({ reconcile }),
    ...walked,
  });
  return reconcileZone(deps, run, zone, current, reconcile);
}

/**
 * Reconciles a walked zone page by page, then saves the token captured before the walk: only
 * after every purge the walk implies is on the queue. Unseen entries gather until a lookup batch
 * is full; the checkpoint moves only past pages whose work is enqueued (and when the deadline
 * stops the pass), so a crash repeats a few pages of idempotent work at most.
 */
async function reconcileZone(
  deps: DetectDeps,
  run: Run,
  zone: ZoneRef,
  current: ZoneStateHolder,
  start: {
    readonly generation: string;
    readonly capturedToken: string;
    readonly databaseToken?: string;
    readonly cursor?: string;
  },
) {
  let cursor = start.cursor;
  let saved = cursor;
  let changes = 0;
  let gathered: UnseenAsset[] = [];
  const settle = async () => {
    if (gathered.length === 0) return;
    const confirmed = await confirmUnseen(deps.source, zone, gathered);
    gathered = [];
    changes += confirmed.changes.length;
    await run.enqueue(confirmed.changes);
    // Answered but unreadable: kept, and looked up again with the zone's unreadable records
    // (saved with the reconcile checkpoint or the token, whichever comes next).
    const parked = park(current.unreadable, confirmed.unreadable);
    current.unreadable = parked.waiting;
    current.givenUp.push(...parked.givenUp);
  };
  while (run.hasTimeFor()) {
    const page = await deps.state.unseenAssets(zone, start.generation, cursor);
    gathered.push(...page.assets);
    cursor = page.cursor;
    if (cursor === undefined) {
      await settle();
      await saveZone(deps.state, current, zone, {
        syncToken: start.capturedToken,
        lastFullScanAt: deps.now(),
      });
      return { changes, caughtUp: true };
    }
    if (gathered.length >= RECONCILE_LOOKUP_BATCH) {
      await settle();
      saved = await saveReconcile(deps, zone, current, start, cursor);
    }
  }
  await settle();
  if (cursor !== saved) await saveReconcile(deps, zone, current, start, cursor);
  return { changes, caughtUp: false };
}

async function saveReconcile(
  deps: DetectDeps,
  zone: ZoneRef,
  current: ZoneStateHolder,
  start: { readonly generation: string; readonly capturedToken: string; readonly databaseToken?: string },
  cursor: string | undefined,
): Promise<string | undefined> {
  const reconcile = {
    generation: start.generation,
    capturedToken: start.capturedToken,
    databaseToken: start.databaseToken,
    ...(cursor === undefined ? {} : { cursor }),
  };
  await saveZone(deps.state, current, zone, {
    checkpoint: serialiseZoneCheckpoint({ reconcile }),
  });
  return cursor;
}

/** Follows a zone's delta from its token; returns whether it caught up. */
async function followZone(
  deps: DetectDeps,
  run: Run,
  zone: ZoneRef,
  current: ZoneStateHolder,
  initial: ZoneSyncState & { syncToken: string },
) {
  const unpaired = parseZoneCheckpoint(initial.checkpoint).unpaired;
  let cursor: ZoneChangesCursor = { syncToken: initial.syncToken, ...(unpaired ? { unpaired } : {}) };
  let pages = 0;
  let changes = 0;
  while (run.hasTimeFor()) {
    const page = await deps.source.zoneChangesPage(zone, cursor);
    pages++;
    changes += page.changes.length;
    await run.enqueue(page.changes, true);
    const parked = parkUnreadable(deps, current, page);
    const waiting = page.cursor.unpaired;
    const hasWaiting = waiting !== undefined && waiting.masters.length + waiting.assets.length > 0;
    const moved = page.syncToken !== cursor.syncToken || hasWaiting || unpaired !== undefined || parked;
    // Caught up and unchanged (the quiet zone of a changed database): nothing to write.
    if (moved) {
      await saveZone(deps.state, current, zone, {
        syncToken: page.syncToken,
        ...(hasWaiting ? { checkpoint: serialiseZoneCheckpoint({ unpaired: waiting }) } : {}),
      });
    }
    cursor = page.cursor;
    if (!page.moreComing) return { pages, changes, caughtUp: true };
  }
  return { pages, changes, caughtUp: false };
}

/**
 * Syncs one zone. A retired zone gets here only when Apple lists it again (the database's change
 * list names it), or when it is the own library an earlier version retired: it is walked afresh
 * with reconciliation, as after a refused token, and what was archived stays.
 */
async function syncZone(
  deps: DetectDeps,
  run: Run,
  zone: ZoneRef,
  retries: readonly FailedPhotoRetry[],
): Promise<ZoneReport> {
  const state = await deps.state.loadZone(zone);
  const { unreadable = [], brake = 0, brakeArchive, albumRetry } = parseZoneCheckpoint(state?.checkpoint);
  const current: ZoneStateHolder = {
    state,
    unreadable: [...unreadable],
    givenUp: [],
    brake,
    brakeArchive,
    stillFailing: [],
    albumProblems: 0,
    albumRetry,
  };
  const keep = (count: number, archive: number | undefined) => {
    current.brake = count;
    current.brakeArchive = count ? archive : undefined;
    return saveZone(deps.state, current, zone, current.state ?? {});
  };
  run.carry(brake, brakeArchive);
  let report: ZoneReport;
  try {
    report = state?.retired
      ? await walkReturnedZone(deps, run, zone, current)
      : await walkZone(deps, run, zone, current, retries);
  } catch (error) {
    // A refused purge stays refused on later runs (docs/deploy.md, `DeletionRefused`): the zone
    // keeps what it had queued, and the next run counts on from there.
    // With the archive the limit weighed it against, so later runs compare like with like.
    const count = run.carried + run.purgesThisRun;
    const archive = run.archiveObjects;
    const changed = count !== brake || (count > 0 && archive !== brakeArchive);
    if (error instanceof MassDeletionRefusedError && changed) await keep(count, archive);
    throw error;
  }
  // Caught up past the refused page: a person let it through, and the stop is done.
  if (report.caughtUp && brake) await keep(0, undefined);
  return {
    ...report,
    ...(current.unreadable.length > 0 ? { unreadableWaiting: current.unreadable.length } : {}),
    ...(current.givenUp.length > 0 ? { unreadableGivenUp: current.givenUp } : {}),
    ...(current.stillFailing.length > 0 ? { stillFailing: current.stillFailing } : {}),
    ...(current.albumProblems > 0 ? { albumProblems: current.albumProblems } : {}),
    ...(current.albumWalkFailingSince === undefined
      ? {}
      : { albumWalkFailingSince: current.albumWalkFailingSince }),
  };
}

async function walkZone(
  deps: DetectDeps,
  run: Run,
  zone: ZoneRef,
  current: ZoneStateHolder,
  retries: readonly FailedPhotoRetry[],
): Promise<ZoneReport> {
  const state = current.state;
  try {
    const due = dueRetries(retries, zone, deps.now());
    if (due.length > 0) {
      // Loaded only when a failed photo is due (a bundle of its own beside the detector's).
      const { retryFailedPhotos } = await import('./retry-failed-photos.ts');
      const enqueue = (changes: readonly ZoneChange[]) => run.enqueue(changes);
      current.stillFailing = await retryFailedPhotos({ ...deps, enqueue }, zone, due);
    }
    await retryUnreadable(deps, run, zone, current);
    if (state?.syncToken !== undefined) {
      try {
        const result = await followZone(deps, run, zone, current, { ...state, syncToken: state.syncToken });
        if (!result.caughtUp || !needsAlbumWalk(deps, current.state))
          return zoneReport(zone, 'incremental', result);
        return zoneReport(zone, 'incremental', await walkAlbumsOnce(deps, run, zone, current, result));
      } catch (error) {
        if (!(error instanceof StaleSyncTokenError)) throw error;
        // The token is gone for good: enumerate afresh. Nothing already archived is archived
        // again (the manifest and key claims make the re-enumerated assets no-ops).
        await saveZone(deps.state, current, zone, {});
        const result = await enumerateZone(deps, run, zone, current, true);
        return zoneReport(zone, 'enumeration', result, 'staleToken');
      }
    }
    const result = await enumerateZone(deps, run, zone, current, false);
    return zoneReport(zone, 'enumeration', result);
  } catch (error) {
    return retireGoneZone(deps, run, current, zone, error);
  }
}

/**
 * Whether a caught-up zone still has its albums to walk: first synced before albums were recorded
 * (2026-12-06), its state has no `albumsWalkedAt`, and the change feed alone would never bring the
 * albums nobody touched since. So is one whose last walk had problems, once its backoff is over
 * (`album-walk-retry.ts`). Not while halves wait for their partner (the walk's checkpoint would
 * replace them): the next run.
 */
function needsAlbumWalk(deps: DetectDeps, state: ZoneSyncState | undefined): boolean {
  const checkpoint = parseZoneCheckpoint(state?.checkpoint);
  return (
    deps.albums !== undefined &&
    state !== undefined &&
    state.syncToken !== undefined &&
    state.albumsWalkedAt === undefined &&
    !state.retired &&
    zoneHasAlbums(state.zone) &&
    checkpoint.unpaired === undefined &&
    albumWalkDue(checkpoint.albumRetry, deps.now())
  );
}

/**
 * Walks the albums of a caught-up zone that never walked them, as a first sync's walk does after
 * its photos: from the zone's token (saved again once the walk is done, so what changed meanwhile
 * comes with the next delta), resumable across runs through the same checkpoint.
 */
async function walkAlbumsOnce(
  deps: DetectDeps,
  run: Run,
  zone: ZoneRef,
  current: ZoneStateHolder,
  followed: { readonly pages: number; readonly changes: number },
) {
  const capturedToken = current.state?.syncToken;
  if (capturedToken === undefined || !run.hasTimeFor()) return { ...followed, caughtUp: true };
  const walked = await finishEnumeration(deps, run, zone, current, { capturedToken, only: true });
  return { pages: followed.pages, changes: followed.changes + walked.changes, caughtUp: walked.caughtUp };
}

/** The report of a zone read incrementally or walked, with the note that says why, if any. */
function zoneReport(
  zone: ZoneRef,
  mode: ZoneReport['mode'],
  result: { readonly pages: number; readonly changes: number; readonly caughtUp: boolean },
  note?: ZoneReport['note'],
): ZoneReport {
  return { zone, mode, ...result, ...(note === undefined ? {} : { note }) };
}

/** A retired zone Apple lists again: walked afresh, reconciling against what the archive holds. */
async function walkReturnedZone(
  deps: DetectDeps,
  run: Run,
  zone: ZoneRef,
  current: ZoneStateHolder,
): Promise<ZoneReport> {
  try {
    const result = await enumerateZone(deps, run, zone, current, true);
    return zoneReport(zone, 'enumeration', result, 'zoneReturned');
  } catch (error) {
    return retireGoneZone(deps, run, current, zone, error);
  }
}

/**
 * ZONE_NOT_FOUND retires a Shared Library zone (left, or deleted: its archive stays as the record
 * of it, and it is followed again if Apple lists it again). The own library is retired only when
 * `zones/list` shows it under another name (S141: `PrimarySync` became `PrimarySync1`), which this
 * run then walks; otherwise its ZONE_NOT_FOUND is what Apple answers while iCloud Photos is off,
 * web access is off or Advanced Data Protection is on (docs/protocol/cloudkit.md#errors), so the
 * run fails with an account condition a person must see, and its token stays for that day.
 */
async function retireGoneZone(
  deps: DetectDeps,
  run: Run,
  current: ZoneStateHolder,
  zone: ZoneRef,
  error: unknown,
): Promise<ZoneReport> {
  if (!(error instanceof ZoneNotFoundError)) throw error;
  if (isOwnLibrary(zone)) {
    const moved = (await deps.source.discoverZones()).filter((z) => isOwnLibrary(z) && !sameZone(z, zone));
    if (moved.length === 0)
      throw new AccountConditionError(
        'photosUnavailable',
        `iCloud answered ZONE_NOT_FOUND for your photo library (${zone.zoneName}): ${PHOTOS_UNAVAILABLE_HINT}`,
        { cause: error },
      );
    for (const next of moved) run.add(next);
  }
  await saveZone(deps.state, current, zone, { retired: true });
  return { zone, mode: 'incremental', pages: 0, changes: 0, caughtUp: true, note: 'zoneGone' };
}

/**
 * Zones with unfinished work from an earlier run: an enumeration under way, records CloudKit
 * would not serve that are due for another lookup, failed photos due for a retry, or albums never
 * walked (`needsAlbumWalk`: a zone first synced before albums were recorded) (read from
 * the zone states and the retry list already loaded, so
 * an idle run costs no extra request). The own library retired by an earlier version is
 * unfinished too, unless a zone state follows it under its new name.
 */
function unfinishedZones(
  deps: DetectDeps,
  zones: readonly ZoneSyncState[],
  retries: readonly FailedPhotoRetry[],
  now: number,
): ZoneRef[] {
  const retryDue = (z: ZoneSyncState) =>
    (parseZoneCheckpoint(z.checkpoint).unreadable ?? []).some((r) => isDue(r, now)) ||
    dueRetries(retries, z.zone, now).length > 0;
  const followed = zones.some((z) => !z.retired && isOwnLibrary(z.zone));
  return zones
    .filter((z) =>
      z.retired
        ? !followed && isOwnLibrary(z.zone)
        : z.syncToken === undefined || retryDue(z) || needsAlbumWalk(deps, z),
    )
    .map((z) => z.zone);
}

/**
 * Runs one detection. Takes the lock only once there is something to write, so an idle run
 * writes nothing at all.
 */
export async function detectChanges(deps: DetectDeps): Promise<DetectResult> {
  const run = new Run(deps);
  // The failed photos waiting for a retry come with the zones, in the same read.
  const { zones: knownZones, retries } = await deps.state.loadZonesAndRetries();
  const firstRun = knownZones.length === 0;
  const pending = unfinishedZones(deps, knownZones, retries, deps.now());

  const deltas: { database: DatabaseScope; zones: ZoneRef[]; syncToken: string; revision: number }[] = [];
  const refused: DatabaseScope[] = [];
  /**
   * The database's first answer. A stored token CloudKit refuses is dropped and the database read
   * without one, once: that lists every zone, and each goes on from its own token (a quiet zone
   * costs one caught-up `changes/zone`, nothing is walked again). Any later refusal is an error.
   */
  const firstAnswer = async (database: DatabaseScope, syncToken: string | undefined) => {
    try {
      return await deps.source.changedZones(database, syncToken);
    } catch (error) {
      if (!(error instanceof StaleSyncTokenError) || error.database !== database || syncToken === undefined)
        throw error;
      refused.push(database);
      return deps.source.changedZones(database);
    }
  };
  const readDelta = async (database: DatabaseScope, stored: DatabaseSyncState | undefined) => {
    const zones: ZoneRef[] = [];
    let delta = await firstAnswer(database, stored?.syncToken);
    zones.push(...delta.zones);
    while (delta.moreComing) {
      delta = await deps.source.changedZones(database, delta.syncToken);
      zones.push(...delta.zones.filter((z) => !zones.some((known) => sameZone(known, z))));
    }
    deltas.push({ database, zones, syncToken: delta.syncToken, revision: stored?.revision ?? 0 });
    run.read.set(database, delta.syncToken);
  };
  // The shared database holds a Shared Library you joined as a participant. It is read on every
  // run once it has shown a zone; otherwise on the first run, and at most once a day on a run
  // that found changes anyway (joining a Shared Library touches PrimarySync's CPLLibraryInfo).
  // So an idle check stays one request, and a small change two.
  const sharedState = await deps.state.loadDatabaseState('shared');
  const hasSharedZones = knownZones.some((z) => z.zone.database === 'shared');
  const sharedDue = sharedState === undefined || deps.now() - sharedState.updatedAt > SHARED_RECHECK_MS;
  await readDelta('private', await deps.state.loadDatabaseState('private'));
  const privateChanged = (deltas[0]?.zones.length ?? 0) > 0;
  if (hasSharedZones || firstRun || (privateChanged && sharedDue)) await readDelta('shared', sharedState);

  const changed = deltas.flatMap((d) => d.zones);
  for (const zone of [...changed, ...pending]) run.add(zone);
  // A change in an own library has each own library followed read too (usually that very zone):
  // where Apple lists it under a new name (S141: `PrimarySync1`), the name it dropped answers
  // ZONE_NOT_FOUND and is retired in this run (retireGoneZone).
  if (changed.some(isOwnLibrary))
    for (const k of knownZones) if (!k.retired && isOwnLibrary(k.zone)) run.add(k.zone);
  const toSync = run.zones;
  const refusals = refused.length > 0 ? { databaseTokensRefused: refused } : {};
  /** A run that walked no zone. */
  const noWork = (outcome: 'idle' | 'locked'): DetectResult => ({
    outcome,
    runId: deps.runId,
    zones: [],
    itemsEnqueued: 0,
    messagesEnqueued: 0,
    ...refusals,
  });
  if (toSync.length === 0) return noWork('idle');

  const lease = await deps.state.acquireLock(
    LOCK_NAME,
    deps.runId,
    Math.max(60_000, deps.remainingMs() + 60_000),
  );
  if (!lease.acquired) return noWork('locked');
  try {
    await deps.onWorkStarting?.();
    const reports: ZoneReport[] = [];
    for (const zone of toSync) {
      if (!run.hasTimeFor()) {
        reports.push({ zone, mode: 'incremental', pages: 0, changes: 0, caughtUp: false });
        continue;
      }
      reports.push(await syncZone(deps, run, zone, retries));
    }
    const allCaughtUp = reports.every((r) => r.caughtUp);
    if (allCaughtUp) {
      for (const { database, syncToken, revision } of deltas) {
        const token = run.tokenBehind.has(database) ? run.tokenBehind.get(database) : syncToken;
        if (token !== undefined) await deps.state.saveDatabaseToken(database, token, revision);
      }
    }
    return {
      outcome: allCaughtUp ? 'caughtUp' : 'continued',
      runId: deps.runId,
      zones: reports,
      itemsEnqueued: run.itemsEnqueued,
      messagesEnqueued: run.messagesEnqueued,
      ...refusals,
    };
  } finally {
    await deps.state.releaseLock(lease.lease);
  }
}
