/**
 * The state table's item layout (docs/state.md): key builders and zod schemas for reading items
 * back. The table is ours, so reads are strict about the attributes each item type must have.
 */
import { createHash } from 'node:crypto';
import type { AlbumRef } from '#domain/model/album.ts';
import { VERSION_KINDS } from '#domain/model/asset.ts';
import { foldKey } from '#domain/model/key-fold.ts';
import type { AssetRef } from '#domain/model/manifest.ts';
import type { SharedAlbumsFailing } from '#domain/model/sync-state.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { zoneId } from '#domain/model/zone.ts';
import * as z from '#shared/zod.ts';

/** Manifest entries spread over this many partitions (a photo library is written in bursts). */
export const MANIFEST_SHARDS = 16;

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

function manifestSortKey(ref: AssetRef): string {
  return `${zoneId(ref.zone)}#${ref.assetRecordName}`;
}

function shardOf(sortKey: string): number {
  return createHash('sha256').update(sortKey).digest()[0]! % MANIFEST_SHARDS;
}

/** Sort-key prefix of the retry items in the zone partition (zone sort keys start with a database). */
export const RETRY_PREFIX = 'retry#';

export const keys = {
  database: (database: string): ItemKey => ({ pk: 'database', sk: database }),
  zone: (zone: ZoneRef): ItemKey => ({ pk: 'zone', sk: zoneId(zone) }),
  zones: 'zone',
  /**
   * A failed photo waiting for detection to try it again: beside the zone states, so the Query
   * that loads them brings the list along (no request more on an idle run).
   */
  retry: (ref: AssetRef): ItemKey => ({ pk: 'zone', sk: `${RETRY_PREFIX}${manifestSortKey(ref)}` }),
  lock: (name: string): ItemKey => ({ pk: `lock#${name}`, sk: 'lock' }),
  manifest: (ref: AssetRef): ItemKey => {
    const sk = manifestSortKey(ref);
    return { pk: manifestShard(shardOf(sk)), sk };
  },
  /**
   * An enumeration's stamp on an asset: same sort key as its manifest entry, in the matching
   * `seen#NN` partition, so a page of entries finds its stamps in one batch read.
   */
  seen: (ref: AssetRef): ItemKey => {
    const sk = manifestSortKey(ref);
    return { pk: `seen#${String(shardOf(sk)).padStart(2, '0')}`, sk };
  },
  keyClaim: (key: string): ItemKey => ({ pk: `key#${foldKey(key)}`, sk: 'key' }),
  /** Where an object is stored, whichever asset stored it: found by its `objectId`, not its key. */
  objectKey: (objectId: string): ItemKey => ({ pk: `objectKey#${objectId}`, sk: 'key' }),
  /** One item per (master, asset using it); all users of a master share the partition key. */
  masterUser: (masterRecordName: string, user: AssetRef): ItemKey => ({
    pk: `master#${masterRecordName}`,
    sk: `user#${zoneId(user.zone)}#${user.assetRecordName}`,
  }),
  masterUsers: (masterRecordName: string): string => `master#${masterRecordName}`,
  runs: 'run',
  /** Zero-padded start time first, so the sort key orders runs by start. */
  run: (runId: string, startedAt: number): ItemKey => ({
    pk: 'run',
    sk: `${String(startedAt).padStart(15, '0')}#${runId}`,
  }),
  counters: (): ItemKey => ({ pk: 'counters', sk: 'archive' }),
  /** When detection last asked iCloud (`lastCheckedAt`), idle checks included. */
  lastCheck: (): ItemKey => ({ pk: 'check', sk: 'detect' }),
  /** The settings the archive was last synced with (version policy, sidecars, deletion policy). */
  archiveSettings: (): ItemKey => ({ pk: 'settings', sk: 'archive' }),
  /** The Apple ID account the archive belongs to (`ArchiveOwner`), recorded by its first run. */
  archiveOwner: (): ItemKey => ({ pk: 'account', sk: 'owner' }),
  /**
   * A count kept on a key claim that was applied to the totals (docs/state.md, "Counting objects"):
   * written in batches once applied, so the claim needs no write of its own to say so.
   */
  settledCount: (nonce: string): ItemKey => ({ pk: `counted#${nonce}`, sk: 'count' }),
  /** One item per counted object: the archive totals count each object through it exactly once. */
  countedObject: (key: string): ItemKey => ({ pk: `object#${foldKey(key)}`, sk: 'object' }),
  /** Every album of every zone in one partition: albums are few, one Query lists them. */
  albums: 'album',
  album: (ref: AlbumRef): ItemKey => ({ pk: 'album', sk: `${zoneId(ref.zone)}#${ref.recordName}` }),
  /** An album's members share its partition, one item each (an album of any size stays small items). */
  albumMembers: (ref: AlbumRef): string => `albumMember#${zoneId(ref.zone)}#${ref.recordName}`,
  albumMember: (ref: AlbumRef, assetRecordName: string): ItemKey => ({
    pk: `albumMember#${zoneId(ref.zone)}#${ref.recordName}`,
    sk: assetRecordName,
  }),
  /** The inverse of an album member: which albums an asset is in (one Query per asset). */
  assetAlbums: (zone: ZoneRef, assetRecordName: string): string =>
    `albumMember#asset#${zoneId(zone)}#${assetRecordName}`,
  assetAlbum: (ref: AlbumRef, assetRecordName: string): ItemKey => ({
    pk: `albumMember#asset#${zoneId(ref.zone)}#${assetRecordName}`,
    sk: ref.recordName,
  }),
} as const;

export function manifestShard(shard: number): string {
  return `manifest#${String(shard).padStart(2, '0')}`;
}

export const zoneRefSchema = z.strictObject({
  database: z.enum(['private', 'shared']),
  zoneName: z.string(),
  ownerRecordName: z.optional(z.string()),
});

const assetRefShape = { zone: zoneRefSchema, assetRecordName: z.string() };

const versionKind = z.enum(VERSION_KINDS);
const manifestStatus = z.enum(['pending', 'archived', 'failed', 'trashed', 'purged']);

const item = { pk: z.string(), sk: z.string() };

export const databaseItemSchema = z.strictObject({
  ...item,
  database: z.enum(['private', 'shared']),
  syncToken: z.string(),
  updatedAt: z.number(),
  revision: z.number(),
});

export const zoneItemSchema = z.strictObject({
  ...item,
  zone: zoneRefSchema,
  syncToken: z.optional(z.string()),
  checkpoint: z.optional(z.string()),
  retired: z.optional(z.boolean()),
  lastFullScanAt: z.optional(z.number()),
  albumsWalkedAt: z.optional(z.number()),
  updatedAt: z.number(),
  revision: z.number(),
});

export const retryItemSchema = z.strictObject({
  ...item,
  ...assetRefShape,
  failedAt: z.number(),
  tries: z.number(),
  lastTriedAt: z.optional(z.number()),
});

export const lockItemSchema = z.strictObject({ ...item, owner: z.string(), expiresAt: z.number() });

export const manifestItemSchema = z.strictObject({
  ...item,
  ...assetRefShape,
  masterRecordName: z.string(),
  assetChangeTag: z.string(),
  masterChangeTag: z.optional(z.string()),
  status: manifestStatus,
  flags: z.strictObject({ isFavorite: z.boolean(), isHidden: z.boolean(), isDeleted: z.boolean() }),
  albums: z.array(z.string()),
  versions: z.array(
    z.strictObject({
      kind: versionKind,
      key: z.string(),
      size: z.number(),
      sha256: z.string(),
      md5: z.string(),
      fileChecksum: z.string(),
      archivedAt: z.number(),
      etag: z.optional(z.string()),
      versionId: z.optional(z.string()),
      current: z.optional(z.literal(false)),
    }),
  ),
  deletions: z.array(
    z.strictObject({ kind: versionKind, key: z.string(), deletedAt: z.number(), reason: z.string() }),
  ),
  failure: z.optional(
    z.strictObject({
      reason: z.string(),
      at: z.number(),
      attempts: z.number(),
      issuedAt: z.optional(z.number()),
    }),
  ),
  stateAt: z.optional(z.number()),
  updatedAt: z.number(),
  revision: z.number(),
});

/** The attributes `unseenAssets` projects from a manifest entry. */
export const unseenItemSchema = z.strictObject({
  assetRecordName: z.string(),
  masterRecordName: z.string(),
  status: manifestStatus,
});

export const seenItemSchema = z.strictObject({ ...item, generation: z.string() });

/** Where a walk over one zone's manifest entries stands: a shard and the last sort key read there. */
export const manifestWalkCursorSchema = z.strictObject({
  shard: z.int().check(z.nonnegative()),
  after: z.optional(z.string()),
});

/**
 * A resumable upload's checkpoint, kept on its object's key claim (`UploadCheckpoint`,
 * archive/resumable-transfer.ts): the S3 upload, the parts it holds from part 1, the hashes' states.
 */
export const transferCheckpointSchema = z.strictObject({
  uploadId: z.string(),
  contentLength: z.number(),
  bodyId: z.optional(z.string()),
  partSize: z.number(),
  parts: z.number(),
  bytes: z.number(),
  md5State: z.string(),
  sha256State: z.string(),
  etag: z.optional(z.string()),
});

export const keyClaimItemSchema = z.strictObject({
  ...item,
  owner: z.string(),
  key: z.string(),
  /** The worker storing the object now (the transfer lease), and until when (ms). */
  leaseHolder: z.optional(z.string()),
  leaseExpiresAt: z.optional(z.number()),
  /**
   * The object's place in the archive totals (docs/state.md, "Counting objects"):
   * `p:<nonce>:<size>` a count under way, `u:<nonce>:<size>` an uncount under way, `c:<size>`
   * counted. Absent on claims from before (their objects are counted by `object#` items).
   */
  count: z.optional(z.string()),
  /** How far a resumable upload of the object got (written under its transfer lease). */
  checkpoint: z.optional(transferCheckpointSchema),
});

export const OBJECT_KEY_PREFIX = 'objectKey#';
export const objectKeyItemSchema = z.strictObject({ ...item, key: z.string() });

export const masterUserItemSchema = z.strictObject({ ...item, ...assetRefShape });

export const runItemSchema = z.strictObject({
  ...item,
  runId: z.string(),
  kind: z.enum(['detect', 'download', 'verify']),
  startedAt: z.number(),
  endedAt: z.optional(z.number()),
  outcome: z.enum(['running', 'succeeded', 'partial', 'failed', 'reauthRequired', 'skipped']),
  counts: z.record(z.string(), z.number()),
  appleRequests: z.record(z.string(), z.number()),
  failures: z.array(z.strictObject({ subject: z.string(), reason: z.string() })),
  message: z.optional(z.string()),
});

export const archiveSettingsItemSchema = z.strictObject({
  ...item,
  versionPolicy: z.string(),
  xmpSidecars: z.boolean(),
  deleteMode: z.enum(['keep', 'mirror']),
  versionsBehind: z.optional(z.strictObject({ policy: z.string(), since: z.int() })),
  sidecarsOnSince: z.optional(z.int()),
  mirrorSince: z.optional(z.int()),
  updatedAt: z.number(),
  revision: z.number(),
});

/** The Shared Albums failing streak's attributes on the last-check item (absent while not failing). */
export const SHARED_ALBUMS_FAILING = [
  'sharedAlbumsFailingSince',
  'sharedAlbumsLastFailedAt',
  'sharedAlbumsErrorClass',
  'sharedAlbumsMessage',
  'sharedAlbumsReportedAt',
] as const;

/** The archive's account (domain/model/archive-owner.ts): a hash of the dsid, never the dsid. */
export const archiveOwnerItemSchema = z.strictObject({
  ...item,
  accountId: z.string().check(z.minLength(1)),
  label: z.optional(z.string()),
  since: z.int(),
});

export const lastCheckItemSchema = z.strictObject({
  ...item,
  lastCheckedAt: z.int(),
  sharedAlbumsFailingSince: z.optional(z.int()),
  sharedAlbumsLastFailedAt: z.optional(z.int()),
  sharedAlbumsErrorClass: z.optional(z.enum(['retryable', 'fatal', 'reauth'])),
  sharedAlbumsMessage: z.optional(z.string()),
  sharedAlbumsReportedAt: z.optional(z.int()),
});

/** The streak a last-check item holds, if any. */
export function sharedAlbumsFailingOf(
  check: z.infer<typeof lastCheckItemSchema>,
): SharedAlbumsFailing | undefined {
  const since = check.sharedAlbumsFailingSince;
  if (since === undefined) return undefined;
  return {
    since,
    lastFailedAt: check.sharedAlbumsLastFailedAt ?? since,
    errorClass: check.sharedAlbumsErrorClass ?? 'retryable',
    message: check.sharedAlbumsMessage ?? '',
    ...(check.sharedAlbumsReportedAt === undefined ? {} : { reportedAt: check.sharedAlbumsReportedAt }),
  };
}
export const countersItemSchema = z.catchall(
  z.object({
    ...item,
    objects: z.number(),
    bytes: z.number(),
    /** Nonces of object counts applied to the totals whose object item is not settled yet. */
    applied: z.optional(z.set(z.string())),
  }),
  // `applied_<nonce>`: the same for counts kept on key claims, one attribute each (dropped in batches).
  z.number(),
);

/** The counters item's attribute that says the count under `nonce` reached the totals. */
/** The marker of a count applied to the totals: its keys alone. */
export const settledCountItemSchema = z.strictObject({ ...item });

export function appliedAttribute(nonce: string): string {
  return `applied_${nonce}`;
}

/** A count kept on a key claim, parsed (`keyClaimItemSchema.count`). */
export type ClaimCount =
  | { readonly state: 'pending'; readonly change: 1 | -1; readonly nonce: string; readonly size: number }
  | { readonly state: 'counted'; readonly size: number };

export function parseClaimCount(value: string): ClaimCount {
  const [tag, a, b] = value.split(':');
  if (tag === 'c' && a !== undefined && b === undefined) return { state: 'counted', size: Number(a) };
  if ((tag === 'p' || tag === 'u') && a !== undefined && b !== undefined)
    return { state: 'pending', change: tag === 'p' ? 1 : -1, nonce: a, size: Number(b) };
  throw new Error(`unreadable count on a key claim: ${value}`);
}

export function claimCountText(count: ClaimCount): string {
  return count.state === 'counted'
    ? `c:${count.size}`
    : `${count.change === 1 ? 'p' : 'u'}:${count.nonce}:${count.size}`;
}

/**
 * A counted object. `pending` (a nonce) and `change` (+1 counting, -1 uncounting) are present
 * while a count is under way; the next call finishes it with the same nonce.
 */
export const countedObjectItemSchema = z.strictObject({
  ...item,
  key: z.string(),
  size: z.number(),
  pending: z.optional(z.string()),
  change: z.optional(z.union([z.literal(1), z.literal(-1)])),
});

export const albumItemSchema = z.strictObject({
  ...item,
  zone: zoneRefSchema,
  recordName: z.string(),
  name: z.string(),
  kind: z.enum(['album', 'folder', 'smart', 'other']),
  albumType: z.int(),
  parentRecordName: z.optional(z.string()),
  position: z.optional(z.number()),
  deleted: z.boolean(),
  viewStale: z.boolean(),
  view: z.optional(
    z.strictObject({
      path: z.string(),
      hash: z.string(),
      recheck: z.optional(z.strictObject({ tries: z.int(), lastTriedAt: z.number() })),
    }),
  ),
  updatedAt: z.number(),
  revision: z.number(),
});

export const assetAlbumItemSchema = z.strictObject({ ...item, albumRecordName: z.string() });

export const albumMemberItemSchema = z.strictObject({
  ...item,
  assetRecordName: z.string(),
  position: z.number(),
});

/** Our values are plain data; a JSON round trip drops `undefined` fields DynamoDB would refuse. */
export function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Removes the table keys from a parsed item. */
export function withoutKeys<T extends { pk: string; sk: string }>(value: T): Omit<T, 'pk' | 'sk'> {
  const { pk: _pk, sk: _sk, ...rest } = value;
  return rest;
}
