/**
 * Gathers what `compareArchive` compares, through the ports: a fresh full enumeration of every
 * photo zone (library, hidden, Recently Deleted), every manifest entry, and every object in the
 * bucket with its head read where the listing does not state an MD5 and, with `deep`, its bytes
 * hashed. Reads only; requests to Apple are the enumeration's `records/query` pages.
 */
import { createHash } from 'node:crypto';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { mapAtMost } from '#shared/map-at-most.ts';
import type { AssetSource, EnumerationCursor } from '../../ports/asset-source.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { SyncStateStore } from '../../ports/sync-state-store.ts';
import { isDerivedKey } from '../catalog/derived-keys.ts';
import type { VersionPolicy } from '../plan/version-policy.ts';
import type { ContentDigest, StoredObject } from './compare-objects.ts';
import { type LibraryAsset, type LibraryScope, libraryAssetOf } from './library-asset.ts';
import { needsHeadForMd5 } from './object-md5.ts';

const SCOPES: readonly LibraryScope[] = ['library', 'hidden', 'recentlyDeleted'];

export interface LibraryListing {
  readonly assets: LibraryAsset[];
  readonly zones: number;
  /** Records CloudKit could not serve: the listing may lack these assets. */
  readonly problems: number;
}

/** Walks every zone's library, hidden and Recently Deleted indexes to the end. */
export async function enumerateLibrary(
  source: AssetSource,
  policy: VersionPolicy,
  onAsset: (listed: number) => void = () => undefined,
): Promise<LibraryListing> {
  const assets: LibraryAsset[] = [];
  let problems = 0;
  const zones = await source.discoverZones();
  for (const zone of zones) {
    for (const scope of SCOPES) {
      let cursor: EnumerationCursor | undefined;
      for (;;) {
        const page = await source.enumeratePage(zone, cursor, scope);
        problems += page.problems.length;
        for (const change of page.changes) {
          if (change.type === 'asset') assets.push(libraryAssetOf(change.asset, scope, policy));
        }
        onAsset(assets.length);
        if (page.done) break;
        cursor = page.cursor;
      }
    }
  }
  return { assets, zones: zones.length, problems };
}

export async function readManifest(state: SyncStateStore): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for await (const entry of state.entries()) entries.push(entry);
  return entries;
}

async function digestOf(objects: ObjectStore, key: string): Promise<ContentDigest | undefined> {
  const read = await objects.getStream(key);
  if (read === undefined) return undefined;
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  for await (const chunk of read.body) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    sha256.update(buffer);
    md5.update(buffer);
  }
  return { bytes, sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

export interface ObjectReadOptions {
  /** Keys the manifest references: only these need a head or a read-back. */
  readonly referenced: ReadonlySet<string>;
  /** False for an SSE-KMS bucket: every referenced object's head is read for `md5chksum`. */
  readonly etagsAreMd5: boolean;
  /**
   * The MD5 the manifest recorded for each referenced key: an object whose ETag disagrees has its
   * head read (its encryption may make the ETag no MD5) before the comparison calls it a mismatch.
   */
  readonly recordedMd5?: ReadonlyMap<string, string>;
  /** Re-read every referenced object and hash it. */
  readonly deep: boolean;
  /** Requests in flight at once. */
  readonly concurrency?: number;
  readonly onObject?: (done: number, total: number) => void;
}

/**
 * Every photo object in the bucket, with what the comparison needs to know about it. The album
 * views under `albums/` are not photos: they are checked against iCloud's albums on their own.
 */
export async function readObjects(objects: ObjectStore, options: ObjectReadOptions): Promise<StoredObject[]> {
  const listed = [];
  for await (const object of objects.list('')) {
    // The catalog, album views and sidecars are derived from the manifest, not files from iCloud.
    if (!isDerivedKey(object.key) || options.referenced.has(object.key)) listed.push(object);
  }
  let done = 0;
  return mapAtMost(listed, options.concurrency ?? 8, async (object): Promise<StoredObject> => {
    const base: StoredObject = { key: object.key, size: object.size, etag: object.etag };
    const referenced = options.referenced.has(object.key);
    const head =
      referenced && needsHeadForMd5(object.etag, options.etagsAreMd5, options.recordedMd5?.get(object.key))
        ? await objects.head(object.key)
        : undefined;
    const content = referenced && options.deep ? await digestOf(objects, object.key) : undefined;
    options.onObject?.(++done, listed.length);
    return {
      ...base,
      ...(head?.md5Base64 === undefined ? {} : { md5Base64: head.md5Base64 }),
      ...(head?.encryption === undefined ? {} : { encryption: head.encryption }),
      ...(content === undefined ? {} : { content }),
    };
  });
}
