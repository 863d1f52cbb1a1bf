/**
 * Every object of a local archive's bucket with what shows a write (ETag and LastModified), and
 * the derived objects' text: the album views, the catalog's shards and the XMP sidecars. Two
 * readings compared say exactly which objects a run wrote, moved or removed.
 */
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { AlbumViewDocument } from '#domain/albums/album-view.ts';
import type { CatalogRecord } from '#domain/catalog/catalog-record.ts';
import { CATALOG_SHARD_PREFIX, decodeShard } from '#domain/catalog/catalog-shard.ts';
import type { ObjectStore } from '#ports/object-store.ts';

export interface BucketObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
  /** User metadata (HEAD) of archived files; empty for derived objects. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface BucketContents {
  readonly objects: ReadonlyMap<string, BucketObject>;
  /** `albums/….json` key -> its document. */
  readonly views: ReadonlyMap<string, AlbumViewDocument>;
  /** `albums/….m3u8` key -> its text. */
  readonly playlists: ReadonlyMap<string, string>;
  /** `catalog/assets/<shard>.jsonl` key -> its records. */
  readonly shards: ReadonlyMap<string, readonly CatalogRecord[]>;
  /** `<original>.xmp` key -> its text. */
  readonly sidecars: ReadonlyMap<string, string>;
  readonly records: readonly CatalogRecord[];
}

export async function readBucketContents(dataDir: string): Promise<BucketContents> {
  const stack = await openLocalAwsStack({ dataDir });
  try {
    return await readStoreContents(stack.objects);
  } finally {
    await stack.stop();
  }
}

/** The same reading over any object store (the fault matrix's in-memory bucket). */
export async function readStoreContents(store: ObjectStore): Promise<BucketContents> {
  const text = async (key: string) => {
    const found = await store.getStream(key);
    return found === undefined ? '' : Buffer.concat(await found.body.toArray()).toString('utf8');
  };
  const objects = new Map<string, BucketObject>();
  const views = new Map<string, AlbumViewDocument>();
  const playlists = new Map<string, string>();
  const shards = new Map<string, CatalogRecord[]>();
  const sidecars = new Map<string, string>();
  for await (const listed of store.list('')) {
    const { key } = listed;
    let metadata: Readonly<Record<string, string>> = {};
    if (key.startsWith('albums/') && key.endsWith('.json')) views.set(key, JSON.parse(await text(key)));
    else if (key.startsWith('albums/') && key.endsWith('.m3u8')) playlists.set(key, await text(key));
    else if (key.startsWith(CATALOG_SHARD_PREFIX)) shards.set(key, decodeShard(await text(key)));
    else if (key.endsWith('.xmp')) sidecars.set(key, await text(key));
    else if (!key.startsWith('catalog/')) metadata = (await store.head(key))?.metadata ?? {};
    objects.set(key, { ...listed, metadata });
  }
  return { objects, views, playlists, shards, sidecars, records: [...shards.values()].flat() };
}

/** Keys written (new ETag or LastModified), added or removed between two readings, sorted. */
export function rewrittenKeys(before: BucketContents, after: BucketContents): string[] {
  const keys = new Set([...before.objects.keys(), ...after.objects.keys()]);
  return [...keys]
    .filter((key) => {
      const a = before.objects.get(key);
      const b = after.objects.get(key);
      return a?.etag !== b?.etag || a?.lastModified !== b?.lastModified;
    })
    .sort();
}
