/**
 * `AssetSource` over CloudKit: zone discovery, change feeds, full enumerations, lookups and counts,
 * with records mapped to the domain and masters paired with their assets across pages.
 *
 * Pairing and crash safety. A photo's CPLMaster and CPLAsset may arrive on different pages (spec
 * docs/protocol/cloudkit.md#query-pages, docs/protocol/sync-tokens.md#changes-zone) while the pipeline persists its cursor after every page. A half still waiting at
 * a page boundary is therefore carried in the cursor by record name (`unpaired`), never dropped.
 * The same instance keeps the records in memory and pairs them when the partner comes; a new
 * instance (after a crash, or in the next Lambda invocation) fetches the named records again with
 * one records/lookup — current state, fresh URLs — and goes on pairing. At the end of a change
 * feed, a lone asset is an asset-only change (its master did not change) and a lone master is
 * reported in `unpairedMasters`; at the end of an enumeration, a lone asset's master is looked up.
 *
 * Cursor size: names are about 40 bytes each. Enumeration pages hold whole pairs by default, so the
 * carry stays tiny. A change feed can carry many halves (a bulk favourite sends thousands of
 * CPLAssets without their masters), so past `MAX_CARRIED_HALVES` it settles them mid-feed: the lone
 * assets' masters are looked up and the photos emitted whole; the lone masters are let go, as at
 * the feed's end (an asset of theirs still to come is settled the same way).
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { AlbumMember } from '#domain/model/album.ts';
import type { Asset, ZoneChange } from '#domain/model/asset.ts';
import { type DatabaseScope, type ZoneRef, zoneId } from '#domain/model/zone.ts';
import type {
  AlbumListPage,
  AlbumMembersCursor,
  AlbumMembersPage,
  AssetCounts,
  AssetLookupKey,
  AssetSource,
  ChangedZones,
  EnumerationCursor,
  EnumerationPage,
  EnumerationScope,
  LookedUpAssets,
  UnpairedHalves,
  ZoneChangesCursor,
  ZoneChangesPage,
} from '#ports/asset-source.ts';
import { mapMembership } from '../records/album.ts';
import { AssetPairer } from '../records/asset-pairer.ts';
import { type AssetRecord, joinAsset, type MasterRecord } from '../records/master-asset.ts';
import { parseRecordItem, type RecordErrorItem } from '../records/record-envelope.ts';
import { type SortedRecords, sortRecords } from '../records/record-page.ts';
import { lookupAssets, lookupSorted } from './cloudkit-asset-lookup.ts';
import { type CloudKitClient, MAX_RESULTS_LIMIT, type QueryFilter } from './cloudkit-client.ts';
import { stepWalk, walkNamed } from './rank-walk.ts';
import { photoZonesOf } from './zone-discovery.ts';

/** List index (query) and object index (count) of each enumeration scope (docs/protocol/cloudkit.md#indexes). */
const SCOPE_INDEXES: Readonly<Record<EnumerationScope, { readonly list: string; readonly count: string }>> = {
  library: {
    list: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted',
    count: 'CPLAssetByAssetDateWithoutHiddenOrDeleted',
  },
  hidden: { list: 'CPLAssetAndMasterHiddenByAssetDate', count: 'CPLAssetHiddenByAssetDate' },
  recentlyDeleted: {
    list: 'CPLAssetAndMasterDeletedByExpungedDate',
    count: 'CPLAssetDeletedByExpungedDate',
  },
};

const COUNT_INDEXES: Readonly<Record<keyof AssetCounts, string>> = {
  library: 'CPLAssetByAssetDateWithoutHiddenOrDeleted',
  hidden: 'CPLAssetHiddenByAssetDate',
  recentlyDeleted: 'CPLAssetDeletedByExpungedDate',
  favorites: 'CPLAssetInSmartAlbumByAssetDate:Favorite',
  videos: 'CPLAssetInSmartAlbumByAssetDate:Video',
  livePhotos: 'CPLAssetInSmartAlbumByAssetDate:Live',
  screenshots: 'CPLAssetInSmartAlbumByAssetDate:Screenshot',
  slomo: 'CPLAssetInSmartAlbumByAssetDate:Slomo',
  panoramas: 'CPLAssetInSmartAlbumByAssetDate:Panorama',
  timelapses: 'CPLAssetInSmartAlbumByAssetDate:Timelapse',
  bursts: 'CPLAssetBurstStackAssetByAssetDate',
};

/** Index of a zone's albums and folders (docs/protocol/cloudkit.md#albums-and-folders). */
const ALBUM_LIST_INDEX = 'CPLAlbumByPositionLive';
/** Index of an album's contents in album order (docs/protocol/cloudkit.md#indexes). */
const ALBUM_CONTENTS_INDEX = 'CPLContainerRelationLiveByPosition';
/**
 * What an album's contents page needs: the relation's ends and position. The asset and master
 * that come with each relation (a triple per member, docs/protocol/cloudkit.md#records-query)
 * carry nothing then, so a page stays small.
 */
const MEMBER_KEYS = ['containerId', 'itemId', 'position'] as const;
/** Members per album-contents page, and the records they come in: whole triples (200 is CloudKit's cap). */
const CONTENTS_MEMBERS = 66;
const CONTENTS_PAGE = CONTENTS_MEMBERS * 3;

/** An `EQUALS` filter of a records/query. */
const equals = (fieldName: string, type: string, value: unknown): QueryFilter => ({
  fieldName,
  comparator: 'EQUALS',
  fieldValue: { type, value },
});

/** The filters of a page by rank: from `startRank` on, in index order (docs/protocol/cloudkit.md#paging). */
const fromRank = (startRank: number): QueryFilter[] => [
  equals('startRank', 'INT64', startRank),
  equals('direction', 'STRING', 'ASCENDING'),
];

export interface CloudKitAssetSourceOptions {
  readonly client: CloudKitClient;
  /** Records per page (at most 200; a photo is two records). */
  readonly pageSize?: number;
  /** Empty enumeration pages to probe past before concluding the index is exhausted (kei: 5). */
  readonly maxEmptyProbes?: number;
}

interface PairingState {
  readonly pairer: AssetPairer;
  /** The cursor this state answered last, serialised: a matching cursor resumes in memory. */
  readonly cursorKey: string;
}

function recordProblem(item: RecordErrorItem, operation: string): UnexpectedResponseError {
  return new UnexpectedResponseError(
    `CloudKit could not serve record ${item.recordName ?? '(unnamed)'} in ${operation}: ${item.serverErrorCode}`,
  );
}

/**
 * Halves a change feed carries in its cursor before it settles them (`#settle`): about 80 KB of
 * names, well under the zone checkpoint's limit (MAX_CHECKPOINT_BYTES, 256 KiB), which more than
 * ~6,000 names overran; a settle costs a records/lookup per hundred lone assets.
 */
export const MAX_CARRIED_HALVES = 2_000;

/**
 * The members on an album-contents page: its relations only. The asset and master of each triple
 * came without fields (`MEMBER_KEYS`) and are not read. A relation's missing position falls back
 * to its place on the page, so the order is still Apple's.
 */
function readMembers(
  rawRecords: unknown,
  zone: ZoneRef,
  albumRecordName: string,
): { members: AlbumMember[]; problems: UnexpectedResponseError[] } {
  if (!Array.isArray(rawRecords)) {
    throw new UnexpectedResponseError('CloudKit sent a records list that is not an array');
  }
  const members: AlbumMember[] = [];
  const problems: UnexpectedResponseError[] = [];
  rawRecords.forEach((raw, index) => {
    try {
      const item = parseRecordItem(raw);
      if (item.kind === 'error') {
        problems.push(recordProblem(item.error, 'records/query'));
        return;
      }
      if (item.record.recordType !== 'CPLContainerRelation') return;
      const membership = mapMembership(item.record, zone);
      if (membership === undefined || !membership.present) return;
      if (membership.albumRecordName !== albumRecordName) return;
      members.push({ assetRecordName: membership.assetRecordName, position: membership.position ?? index });
    } catch (error) {
      if (!(error instanceof UnexpectedResponseError)) throw error;
      problems.push(error);
    }
  });
  return { members, problems };
}

/** Names of the records answered as error entries: looked up again on later runs (never dropped). */
function namesOf(items: readonly RecordErrorItem[]): string[] {
  return items.flatMap((item) => (item.recordName === undefined ? [] : [item.recordName]));
}

/**
 * The page without what the last page already read (`overlap`, rank-walk.ts): its assets, and
 * masters that came only with those. A master still waiting for its asset is kept, so the pair
 * completes; so is one whose asset is not on this page (a half split by the page's end).
 */
function withoutReread(
  sorted: SortedRecords,
  overlap: ReadonlySet<string>,
  waiting: ReadonlySet<string>,
): SortedRecords {
  if (overlap.size === 0) return sorted;
  const assets = sorted.assets.filter((a) => !overlap.has(a.recordName));
  const needed = new Set(assets.map((a) => a.masterRecordName));
  const withAsset = new Set(sorted.assets.map((a) => a.masterRecordName));
  const masters = sorted.masters.filter(
    (m) => waiting.has(m.recordName) || needed.has(m.recordName) || !withAsset.has(m.recordName),
  );
  // A master read last page and waiting no more (its asset came) is not read again.
  return {
    ...sorted,
    assets,
    masters: masters.filter(
      (m) => !overlap.has(m.recordName) || waiting.has(m.recordName) || needed.has(m.recordName),
    ),
  };
}

/**
 * Names of the CPLAssets on a page the mapping refused (a shape it cannot read: no masterRef, ...),
 * read one by one only when the page has problems. Detection keeps them like error entries, since
 * the token moves past the page.
 */
function refusedAssets(rawRecords: unknown, sorted: SortedRecords, zone: ZoneRef): string[] {
  if (sorted.problems.length === 0 || !Array.isArray(rawRecords)) return [];
  return rawRecords.flatMap((raw) => {
    const { recordType, recordName } = (raw ?? {}) as { recordType?: unknown; recordName?: unknown };
    if (recordType !== 'CPLAsset' || typeof recordName !== 'string') return [];
    return sortRecords([raw], zone).problems.length > 0 ? [recordName] : [];
  });
}

/** Names of `fed` assets neither joined nor still waiting: their join failed (no date, ...). */
function failedJoins(fed: readonly string[], joined: readonly Asset[], waiting: readonly string[]): string[] {
  const done = new Set([...joined.map((a) => a.assetRecordName), ...waiting]);
  return fed.filter((name) => !done.has(name));
}

function nonEmpty(halves: UnpairedHalves): UnpairedHalves | undefined {
  return halves.masters.length + halves.assets.length > 0 ? halves : undefined;
}

/** Albums first, then assets, then memberships and tombstones (so memberships can name known albums). */
function ordered(
  sorted: SortedRecords,
  assets: readonly Asset[],
  extra: readonly ZoneChange[] = [],
): ZoneChange[] {
  return [
    ...sorted.changes.filter((c) => c.type === 'album'),
    ...assets.map((asset): ZoneChange => ({ type: 'asset', asset })),
    ...extra,
    ...sorted.changes.filter((c) => c.type !== 'album'),
  ];
}

export class CloudKitAssetSource implements AssetSource {
  readonly #client: CloudKitClient;
  readonly #pageSize: number;
  readonly #maxEmptyProbes: number;
  readonly #states = new Map<string, PairingState>();

  constructor(options: CloudKitAssetSourceOptions) {
    this.#client = options.client;
    this.#pageSize = Math.max(2, Math.min(options.pageSize ?? MAX_RESULTS_LIMIT, MAX_RESULTS_LIMIT));
    this.#maxEmptyProbes = options.maxEmptyProbes ?? 5;
  }

  async discoverZones(): Promise<readonly ZoneRef[]> {
    const [own, others] = await Promise.all([
      this.#client.zonesList('private'),
      this.#client.zonesList('shared'),
    ]);
    const zones = photoZonesOf('private', own.zones);
    const ownNames = new Set(zones.map((z) => z.zoneName));
    return [...zones, ...photoZonesOf('shared', others.zones).filter((z) => !ownNames.has(z.zoneName))];
  }

  async changedZones(database: DatabaseScope, syncToken?: string): Promise<ChangedZones> {
    const result = await this.#client.changesDatabase(database, syncToken);
    return {
      zones: photoZonesOf(database, result.zones),
      syncToken: result.syncToken,
      moreComing: result.moreComing,
    };
  }

  async zoneChangesPage(zone: ZoneRef, cursor?: ZoneChangesCursor): Promise<ZoneChangesPage> {
    const { pairer, restored } = await this.#pairingFor('changes', zone, cursor ?? {}, cursor?.unpaired);
    const requestToken = cursor?.syncToken === '' ? undefined : cursor?.syncToken;
    const page = await this.#client.changesZone(zone, requestToken, this.#pageSize);
    const sorted = sortRecords(page.records, zone);
    const fed = [...pairer.pending().assets, ...sorted.assets.map((a) => a.recordName)];
    const paired = pairer.add(sorted.masters, sorted.assets);
    // moreComing null (docs/protocol/sync-tokens.md#changes-zone): more only if the token moved on; a caught-up feed repeats its token.
    const moreComing = page.moreComing ?? page.syncToken !== requestToken;
    const problems = [
      ...restored.problems,
      ...sorted.problems,
      ...paired.problems,
      ...sorted.errorItems.map((item) => recordProblem(item, 'changes/zone')),
    ];
    const unreadable = [
      ...restored.unreadable,
      ...namesOf(sorted.errorItems),
      ...refusedAssets(page.records, sorted, zone),
      ...(paired.problems.length > 0 ? failedJoins(fed, paired.assets, pairer.pending().assets) : []),
    ];
    const assets = [...restored.assets, ...paired.assets];
    if (!moreComing) {
      const flushed = pairer.flush();
      this.#states.delete(`changes:${zoneId(zone)}`);
      return {
        changes: ordered(sorted, assets, flushed.changes),
        cursor: { syncToken: page.syncToken },
        syncToken: page.syncToken,
        moreComing: false,
        unpairedMasters: flushed.unpairedMasters,
        problems: [...problems, ...flushed.problems],
        unreadable,
      };
    }
    const pending = pairer.pending();
    const settled =
      pending.masters.length + pending.assets.length > MAX_CARRIED_HALVES
        ? await this.#settle(zone, pairer)
        : { assets: [], assetOnly: [], problems: [], unreadable: [] };
    const unpaired = nonEmpty(pairer.pending());
    const next: ZoneChangesCursor = { syncToken: page.syncToken, ...(unpaired ? { unpaired } : {}) };
    this.#remember('changes', zone, pairer, next);
    return {
      changes: ordered(sorted, [...assets, ...settled.assets], settled.assetOnly),
      cursor: next,
      syncToken: page.syncToken,
      moreComing: true,
      unpairedMasters: [],
      problems: [...problems, ...settled.problems],
      unreadable: [...unreadable, ...settled.unreadable],
    };
  }

  async enumeratePage(
    zone: ZoneRef,
    cursor?: EnumerationCursor,
    scope: EnumerationScope = 'library',
  ): Promise<EnumerationPage> {
    const current: EnumerationCursor = cursor ?? { scope, startRank: 0 };
    const indexes = SCOPE_INDEXES[current.scope];
    const { pairer, restored } = await this.#pairingFor('enumeration', zone, current, current.unpaired);
    const expectedCount =
      current.expectedCount ??
      (cursor === undefined
        ? (await this.#client.countBatch(zone, [indexes.count])).get(indexes.count)
        : undefined);
    const response = await this.#client.recordsQuery(zone, {
      recordType: indexes.list,
      filterBy: fromRank(current.startRank),
      resultsLimit: this.#pageSize,
      ...(current.continuationMarker ? { continuationMarker: current.continuationMarker } : {}),
    });
    const syncToken = current.syncToken ?? response.syncToken;
    const kept = {
      scope: current.scope,
      ...(syncToken ? { syncToken } : {}),
      ...(expectedCount !== undefined ? { expectedCount } : {}),
    };
    const all = sortRecords(response.records, zone);
    const overlap = new Set(current.overlap ?? []);
    const sorted = withoutReread(all, overlap, new Set(pairer.pending().masters));
    const capacity = Math.floor(this.#pageSize / 2);
    const present = [...all.masters, ...all.assets].map((r) => r.recordName).concat(namesOf(all.errorItems));
    const step = stepWalk(
      current,
      {
        // The rank unit: one per photo (master); a page of lone assets still moves on (kei).
        ranks: all.masters.length > 0 ? all.masters.length : all.assets.length,
        present,
        // A master still waiting, read again, is not new.
        fresh: sorted.assets.length + sorted.masters.filter((m) => !overlap.has(m.recordName)).length,
        read: [], // set below, once the page is paired
      },
      capacity,
    );
    if (step.kind === 'retreat') {
      // Not the continuation of what was read (rank-walk.ts): nothing of it is taken.
      const back: EnumerationCursor = {
        ...kept,
        ...step.next,
        ...(current.unpaired ? { unpaired: current.unpaired } : {}),
      };
      this.#remember('enumeration', zone, pairer, back);
      return {
        changes: [],
        cursor: back,
        done: false,
        problems: restored.problems,
        unreadable: restored.unreadable,
      };
    }
    const fed = [...pairer.pending().assets, ...sorted.assets.map((a) => a.recordName)];
    const paired = pairer.add(sorted.masters, sorted.assets);
    // What the next page must contain one of: this page's assets, and its masters still waiting.
    const waiting = new Set(pairer.pending().masters);
    const read = [
      ...all.assets.map((r) => r.recordName),
      ...all.masters.map((m) => m.recordName).filter((n) => waiting.has(n)),
      ...namesOf(all.errorItems),
    ];
    const walked = step.next.overlap === undefined ? step.next : { ...step.next, overlap: read };
    const problems = [
      ...restored.problems,
      ...sorted.problems,
      ...paired.problems,
      ...sorted.errorItems.map((item) => recordProblem(item, 'records/query')),
    ];
    const unreadable = [
      ...restored.unreadable,
      ...namesOf(sorted.errorItems),
      ...refusedAssets(response.records, all, zone),
      ...(paired.problems.length > 0 ? failedJoins(fed, paired.assets, pairer.pending().assets) : []),
    ];
    const assets = [...restored.assets, ...paired.assets];
    const emptyPagesInARow = step.end ? (current.emptyPagesInARow ?? 0) + 1 : 0;
    const exhausted =
      step.end &&
      response.continuationMarker === undefined &&
      ((expectedCount !== undefined && step.ranksRead >= expectedCount) ||
        emptyPagesInARow > this.#maxEmptyProbes);
    // The next page goes by rank alone: a marker would continue where this page ended, not a
    // few photos before it (every peer pages by rank, docs/protocol/cloudkit.md#paging).
    const next: EnumerationCursor = {
      ...kept,
      ...walked,
      ...(emptyPagesInARow > 0 ? { emptyPagesInARow } : {}),
    };
    if (exhausted) {
      const finished = await this.#finishEnumeration(zone, pairer);
      this.#states.delete(`enumeration:${zoneId(zone)}`);
      return {
        changes: ordered(sorted, [...assets, ...finished.assets]),
        cursor: next,
        done: true,
        problems: [...problems, ...finished.problems],
        unreadable: [...unreadable, ...finished.unreadable],
      };
    }
    const unpaired = nonEmpty(pairer.pending());
    const withCarry: EnumerationCursor = { ...next, ...(unpaired ? { unpaired } : {}) };
    this.#remember('enumeration', zone, pairer, withCarry);
    return { changes: ordered(sorted, assets), cursor: withCarry, done: false, problems, unreadable };
  }

  /** Current copies of the assets (fresh URLs): cloudkit-asset-lookup.ts. */
  lookupAssets(zone: ZoneRef, keys: readonly AssetLookupKey[]): Promise<LookedUpAssets> {
    return lookupAssets(this.#client, zone, keys);
  }

  async countAssets(zone: ZoneRef): Promise<AssetCounts> {
    const counts = await this.#client.countBatch(zone, Object.values(COUNT_INDEXES));
    const result = {} as Record<keyof AssetCounts, number | undefined>;
    for (const [kind, index] of Object.entries(COUNT_INDEXES) as [keyof AssetCounts, string][]) {
      result[kind] = counts.get(index);
    }
    return result;
  }

  /** The pairer for this feed: the in-memory one when `cursor` is the one it answered, else rebuilt. */
  async listAlbums(
    zone: ZoneRef,
    parentRecordName?: string,
    continuationMarker?: string,
  ): Promise<AlbumListPage> {
    const response = await this.#client.recordsQuery(zone, {
      recordType: ALBUM_LIST_INDEX,
      ...(parentRecordName === undefined
        ? {}
        : { filterBy: [equals('parentId', 'STRING', parentRecordName)] }),
      resultsLimit: MAX_RESULTS_LIMIT,
      ...(continuationMarker ? { continuationMarker } : {}),
    });
    const sorted = sortRecords(response.records, zone);
    return {
      albums: sorted.changes.flatMap((c) => (c.type === 'album' ? [c.album] : [])),
      ...(response.continuationMarker ? { continuationMarker: response.continuationMarker } : {}),
      problems: [
        ...sorted.problems,
        ...sorted.errorItems.map((item) => recordProblem(item, 'records/query')),
      ],
    };
  }

  async albumMembersPage(
    zone: ZoneRef,
    albumRecordName: string,
    cursor: AlbumMembersCursor = { startRank: 0 },
  ): Promise<AlbumMembersPage> {
    // By rank alone, a few members back (rank-walk.ts): a marker would go on where the page ended.
    const response = await this.#client.recordsQuery(zone, {
      recordType: ALBUM_CONTENTS_INDEX,
      filterBy: [equals('parentId', 'STRING', albumRecordName), ...fromRank(cursor.startRank)],
      resultsLimit: CONTENTS_PAGE,
      desiredKeys: MEMBER_KEYS,
    });
    const { members, problems } = readMembers(response.records, zone, albumRecordName);
    // A page with a marker, or a full page, may have more behind it.
    const more = response.continuationMarker !== undefined || response.records.length >= CONTENTS_PAGE;
    return { ...walkNamed(cursor, members, more, CONTENTS_MEMBERS), problems };
  }

  async #pairingFor(
    feed: 'changes' | 'enumeration',
    zone: ZoneRef,
    cursor: object,
    unpaired: UnpairedHalves | undefined,
  ): Promise<{
    pairer: AssetPairer;
    restored: { assets: Asset[]; problems: UnexpectedResponseError[]; unreadable: string[] };
  }> {
    const state = this.#states.get(`${feed}:${zoneId(zone)}`);
    if (state && state.cursorKey === JSON.stringify(cursor)) {
      return { pairer: state.pairer, restored: { assets: [], problems: [], unreadable: [] } };
    }
    const pairer = new AssetPairer(zone);
    const names = unpaired ? [...unpaired.masters, ...unpaired.assets] : [];
    if (names.length === 0) return { pairer, restored: { assets: [], problems: [], unreadable: [] } };
    // Resumed in a new process: fetch the waiting halves again (current state, fresh URLs).
    const sorted = await lookupSorted(this.#client, zone, names);
    const paired = pairer.add(sorted.masters, sorted.assets);
    // A half lookup cannot return (an error entry in its place) is reported, never dropped silently;
    // so is an asset it returned in a shape the mapping refuses (kept to look up again).
    const failed = sorted.errorItems.map((item) => recordProblem(item, 'records/lookup'));
    const returned = new Set([
      ...sorted.masters.map((m) => m.recordName),
      ...sorted.assets.map((a) => a.recordName),
      ...namesOf(sorted.errorItems),
    ]);
    const fed = sorted.assets.map((a) => a.recordName);
    return {
      pairer,
      restored: {
        assets: paired.assets,
        problems: [...sorted.problems, ...paired.problems, ...failed],
        unreadable: [
          ...namesOf(sorted.errorItems),
          ...(sorted.problems.length > 0 ? (unpaired?.assets ?? []).filter((n) => !returned.has(n)) : []),
          ...(paired.problems.length > 0 ? failedJoins(fed, paired.assets, pairer.pending().assets) : []),
        ],
      },
    };
  }

  #remember(feed: 'changes' | 'enumeration', zone: ZoneRef, pairer: AssetPairer, cursor: object): void {
    this.#states.set(`${feed}:${zoneId(zone)}`, { pairer, cursorKey: JSON.stringify(cursor) });
  }

  /** End of an enumeration: every lone asset gets its master by lookup; what stays alone is a problem. */
  async #finishEnumeration(
    zone: ZoneRef,
    pairer: AssetPairer,
  ): Promise<{ assets: Asset[]; problems: UnexpectedResponseError[]; unreadable: string[] }> {
    const flushed = pairer.flush();
    const joined = await this.#joinByLookup(zone, flushed.loneAssets);
    const problems = [...flushed.problems, ...joined.problems];
    for (const record of joined.masterless) {
      problems.push(
        new UnexpectedResponseError(`CPLAsset ${record.recordName} has no master ${record.masterRecordName}`),
      );
    }
    for (const name of flushed.unpairedMasters) {
      problems.push(new UnexpectedResponseError(`CPLMaster ${name} came without an asset`));
    }
    return { assets: joined.assets, problems, unreadable: joined.unreadable };
  }

  /**
   * Mid-feed, too many halves waiting (`MAX_CARRIED_HALVES`): the lone assets get their masters by
   * lookup and go out whole; one whose master is not returned goes out as an asset-only change
   * (what the feed's end would make of it; the worker looks the photo up if it needs it). The lone
   * masters are let go, as at the feed's end. The pairer is empty afterwards.
   */
  async #settle(
    zone: ZoneRef,
    pairer: AssetPairer,
  ): Promise<{
    assets: Asset[];
    assetOnly: ZoneChange[];
    problems: UnexpectedResponseError[];
    unreadable: string[];
  }> {
    const flushed = pairer.flush();
    const joined = await this.#joinByLookup(zone, flushed.loneAssets);
    // Not returned and no error entry in its place: for the worker to look up (asset-only change).
    const unreadable = new Set(joined.unreadable);
    const masterless = new Set(joined.masterless.map((r) => r.recordName).filter((n) => !unreadable.has(n)));
    const assetOnly = flushed.changes.filter(
      (c) => c.type === 'assetOnly' && masterless.has(c.change.assetRecordName),
    );
    return {
      assets: joined.assets,
      assetOnly,
      problems: [...flushed.problems, ...joined.problems],
      unreadable: joined.unreadable,
    };
  }

  /**
   * Lone assets joined with their masters, looked up (a hundred names per request). `unreadable`:
   * assets whose master CloudKit answered with an error entry, looked up again later;
   * `masterless`: assets whose master did not come (those too).
   */
  async #joinByLookup(
    zone: ZoneRef,
    lone: readonly AssetRecord[],
  ): Promise<{
    assets: Asset[];
    masterless: AssetRecord[];
    problems: UnexpectedResponseError[];
    unreadable: string[];
  }> {
    const joined = {
      assets: [] as Asset[],
      masterless: [] as AssetRecord[],
      problems: [] as UnexpectedResponseError[],
      unreadable: [] as string[],
    };
    if (lone.length === 0) return joined;
    const sorted = await lookupSorted(this.#client, zone, [...new Set(lone.map((a) => a.masterRecordName))]);
    const masters = new Map<string, MasterRecord>(sorted.masters.map((m) => [m.recordName, m]));
    const unserved = new Set(namesOf(sorted.errorItems));
    joined.problems.push(
      ...sorted.problems,
      ...sorted.errorItems.map((item) => recordProblem(item, 'records/lookup')),
    );
    for (const record of lone) {
      const master = masters.get(record.masterRecordName);
      if (master === undefined) {
        if (unserved.has(record.masterRecordName)) joined.unreadable.push(record.recordName);
        joined.masterless.push(record);
        continue;
      }
      try {
        joined.assets.push(joinAsset(master, record, zone));
      } catch (error) {
        if (!(error instanceof UnexpectedResponseError)) throw error;
        joined.problems.push(error);
        joined.unreadable.push(record.recordName);
      }
    }
    return joined;
  }
}
