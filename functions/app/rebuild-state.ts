/**
 * Rebuilds the state store from the bucket alone (`icloud-s3 rebuild-state`): the manifest from the
 * catalog's records, completed by the metadata of archived objects the catalog does not list yet
 * (archived after its last fold), with each object's key claim and recorded key, its master's users and the
 * archive's totals; then the Shared Albums' state from their own catalog lines
 * (rebuild-shared-albums.ts), with the items stored once with the library recorded among its
 * masters' users. No photo is downloaded: catalog shards are read, other objects only HEADed.
 *
 * Sync tokens are not rebuilt: the next sync walks the whole library once, and finds every asset
 * already archived (docs/archive-layout.md#11-state-from-the-bucket).
 */

import { SHA256_METADATA_KEY } from '#domain/archive/verified-copy.ts';
import { type CatalogRecord, catalogIdOf } from '#domain/catalog/catalog-record.ts';
import { CATALOG_SHARD_PREFIX, decodeShard, shardOfKey } from '#domain/catalog/catalog-shard.ts';
import { isDerivedKey } from '#domain/catalog/derived-keys.ts';
import { VERSION_KINDS, type VersionKind } from '#domain/model/asset.ts';
import type { ArchivedVersion, ManifestEntryInput } from '#domain/model/manifest.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { LIBRARY_PREFIX } from '#domain/plan/object-key.ts';
import { METADATA_KEYS } from '#domain/plan/object-metadata.ts';
import { objectIdOf } from '#domain/plan/plan-versions.ts';
import { etagCanBeMd5, isMd5Etag } from '#domain/verify/object-md5.ts';
import type { ObjectHead, ObjectStore } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import type { Logger } from '#shared/logger.ts';
import { readText } from './catalog-upkeep.ts';
import { type RebuiltSharedAlbums, rebuildSharedAlbums } from './rebuild-shared-albums.ts';

export interface RebuildStateDeps {
  readonly state: SyncStateStore;
  readonly objects: ObjectStore;
  /** The Shared Albums' state (same table); without it their state is not rebuilt. */
  readonly sharedState?: SharedAlbumStateStore;
  readonly now?: () => number;
  readonly logger: Logger;
  readonly onProgress?: (progress: { readonly phase: 'catalog' | 'objects'; readonly done: number }) => void;
}

export interface RebuildStateResult extends Partial<RebuiltSharedAlbums> {
  readonly catalogShards: number;
  readonly catalogRecords: number;
  /** Archived objects the catalog did not list, read from their metadata. */
  readonly objectsFromMetadata: number;
  /** Objects whose metadata does not say which asset they belong to: left alone. */
  readonly objectsUnknown: readonly string[];
  /** Manifest entries written. */
  readonly entriesWritten: number;
  /** Entries the state store already had (left as they were). */
  readonly entriesKept: number;
  readonly objectsCounted: number;
  /** Keys another object already claims (reported, never taken over). */
  readonly claimConflicts: readonly string[];
}

interface Building {
  input: ManifestEntryInput;
}

function fromRecord(record: CatalogRecord): ManifestEntryInput {
  return {
    zone: record.zone,
    assetRecordName: record.asset,
    masterRecordName: record.master,
    assetChangeTag: record.assetChangeTag,
    ...(record.masterChangeTag === undefined ? {} : { masterChangeTag: record.masterChangeTag }),
    status: record.status,
    flags: { isFavorite: record.favorite, isHidden: record.hidden, isDeleted: record.recentlyDeleted },
    albums: record.albums,
    versions: record.versions.map((v) => ({
      kind: v.kind,
      key: v.key,
      size: v.size,
      sha256: v.sha256,
      md5: v.md5,
      fileChecksum: v.fileChecksum,
      archivedAt: Date.parse(v.archivedAt),
      ...(v.etag === undefined ? {} : { etag: v.etag }),
      ...(v.versionId === undefined ? {} : { versionId: v.versionId }),
      ...(v.current === false ? { current: v.current } : {}),
    })),
    deletions: (record.deletions ?? []).map((d) => ({
      kind: d.kind,
      key: d.key,
      deletedAt: Date.parse(d.deletedAt),
      reason: d.reason,
    })),
  };
}

const decoded = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** An archived object's version, from its metadata (what the archive step wrote; docs/archive-layout.md#4-metadata-on-each-object). */
function versionFromHead(
  head: ObjectHead,
): { asset: string; master: string; zoneName: string; version: ArchivedVersion } | undefined {
  const m = head.metadata;
  const asset = decoded(m[METADATA_KEYS.asset]);
  const master = decoded(m[METADATA_KEYS.master]);
  const zoneName = decoded(m[METADATA_KEYS.zone]);
  const fileChecksum = decoded(m[METADATA_KEYS.fileChecksum]);
  const kind = m[METADATA_KEYS.version];
  const sha256 = m[SHA256_METADATA_KEY];
  const md5 =
    head.md5Base64 !== undefined
      ? Buffer.from(head.md5Base64, 'base64').toString('hex')
      : isMd5Etag(head.etag) && etagCanBeMd5(head.encryption)
        ? head.etag
        : undefined;
  if (
    asset === undefined ||
    master === undefined ||
    zoneName === undefined ||
    fileChecksum === undefined ||
    sha256 === undefined ||
    md5 === undefined ||
    !(VERSION_KINDS as readonly string[]).includes(kind ?? '')
  )
    return undefined;
  return {
    asset,
    master,
    zoneName,
    version: {
      kind: kind as VersionKind,
      key: head.key,
      size: head.size,
      sha256,
      md5,
      fileChecksum,
      archivedAt: head.lastModified,
      etag: head.etag,
      ...(head.versionId === undefined ? {} : { versionId: head.versionId }),
    },
  };
}

/**
 * The zone an object's metadata names (only its name is there): a zone the catalog knows by that
 * name, else your own library's (`private`).
 */
function zoneNamed(zoneName: string, known: ReadonlyMap<string, ZoneRef>): ZoneRef {
  return known.get(zoneName) ?? { database: 'private', zoneName };
}

export async function rebuildState(deps: RebuildStateDeps): Promise<RebuildStateResult> {
  const building = new Map<string, Building>();
  const zones = new Map<string, ZoneRef>();
  let catalogShards = 0;
  let catalogRecords = 0;
  for await (const object of deps.objects.list(CATALOG_SHARD_PREFIX)) {
    if (shardOfKey(object.key) === undefined) continue;
    const text = await readText(deps.objects, object.key);
    if (text === undefined) continue;
    catalogShards++;
    for (const record of decodeShard(text)) {
      catalogRecords++;
      zones.set(record.zone.zoneName, record.zone);
      building.set(catalogIdOf({ zone: record.zone, assetRecordName: record.asset }), {
        input: fromRecord(record),
      });
    }
    deps.onProgress?.({ phase: 'catalog', done: catalogShards });
  }

  const listed = new Set([...building.values()].flatMap((b) => b.input.versions.map((v) => v.key)));
  let objectsFromMetadata = 0;
  const objectsUnknown: string[] = [];
  let seen = 0;
  for await (const object of deps.objects.list(`${LIBRARY_PREFIX}/`)) {
    deps.onProgress?.({ phase: 'objects', done: ++seen });
    if (listed.has(object.key) || isDerivedKey(object.key)) continue;
    const head = await deps.objects.head(object.key);
    const found = head === undefined ? undefined : versionFromHead(head);
    if (found === undefined) {
      objectsUnknown.push(object.key);
      continue;
    }
    objectsFromMetadata++;
    const zone = zoneNamed(found.zoneName, zones);
    const id = catalogIdOf({ zone, assetRecordName: found.asset });
    const current = building.get(id);
    if (current === undefined) {
      building.set(id, {
        input: {
          zone,
          assetRecordName: found.asset,
          masterRecordName: found.master,
          // Unknown: the next sync sees another tag, finds every version archived and only updates the entry.
          assetChangeTag: '',
          status: 'archived',
          flags: { isFavorite: false, isHidden: false, isDeleted: false },
          albums: [],
          versions: [found.version],
          deletions: [],
        },
      });
    } else {
      current.input = { ...current.input, versions: [...current.input.versions, found.version] };
    }
  }

  const inputs = [...building.values()].map((b) => b.input);
  const existing = new Set(
    [...(await deps.state.getEntries(inputs)).values()].map((e) =>
      catalogIdOf({ zone: e.zone, assetRecordName: e.assetRecordName }),
    ),
  );
  let entriesWritten = 0;
  let objectsCounted = 0;
  const claimConflicts: string[] = [];
  for (const input of inputs) {
    if (existing.has(catalogIdOf(input))) continue;
    // The same order as the archive step: claims and master users before the entry lists the objects.
    if (input.status !== 'purged') await deps.state.addMasterUser(input.masterRecordName, input);
    for (const version of input.versions) {
      const objectId = objectIdOf(input.masterRecordName, version.kind, version.fileChecksum);
      const claim = await deps.state.claimKey(version.key, objectId);
      if (!claim.claimed) claimConflicts.push(version.key);
      // Where the object is, for another asset of its master whose date differs (docs/state.md).
      else await deps.state.putObjectKey(objectId, version.key);
      await deps.state.countObject(version.key, version.size);
      objectsCounted++;
    }
    await deps.state.putEntry(input, 0);
    entriesWritten++;
  }
  const shared =
    deps.sharedState === undefined
      ? undefined
      : await rebuildSharedAlbums(
          {
            state: deps.state,
            sharedState: deps.sharedState,
            objects: deps.objects,
            now: deps.now ?? Date.now,
          },
          (zone, assetRecordName) =>
            building.get(catalogIdOf({ zone, assetRecordName }))?.input.masterRecordName,
        );
  const result = {
    catalogShards,
    catalogRecords,
    objectsFromMetadata,
    objectsUnknown,
    entriesWritten,
    entriesKept: existing.size,
    objectsCounted,
    claimConflicts,
    ...shared,
  };
  deps.logger.info('state rebuilt from the bucket', {
    ...result,
    objectsUnknown: objectsUnknown.length,
    claimConflicts: claimConflicts.length,
    ...(shared === undefined ? {} : { unresolvedReferences: shared.unresolvedReferences.length }),
  });
  return result;
}
