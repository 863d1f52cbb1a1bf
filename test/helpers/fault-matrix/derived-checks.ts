/**
 * What a fault-matrix case checks beyond the library's files: the catalog in the bucket equals
 * what the archive holds (one record per manifest entry, its status and every version as archived,
 * its albums as iCloud has them), nothing waits in the catalog's journal once the pipeline is
 * caught up, and every Shared Album the account sees has each of its items archived.
 */

import { CATALOG_JOURNAL_PREFIX } from '#domain/catalog/catalog-journal.ts';
import type { CatalogRecord } from '#domain/catalog/catalog-record.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { zoneId } from '#domain/model/zone.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { BucketContents } from '../bucket-contents.ts';
import type { ControlClient } from '../simulator.ts';

/** A live asset of the simulator's truth with its albums (`/library`). */
export interface TruthAlbumsOf {
  readonly assetRecordName: string;
  readonly isDeleted: boolean;
  readonly albumRecordNames?: readonly string[];
}

const refOf = (zone: { zoneName: string; database?: string }, asset: string) => `${zone.zoneName}/${asset}`;

/** Every way the catalog differs from the manifest and iCloud's albums; empty when it is exact. */
export function catalogDifferences(
  bucket: BucketContents,
  entries: readonly ManifestEntry[],
  truth: readonly TruthAlbumsOf[],
): string[] {
  const problems: string[] = [];
  const records = new Map<string, CatalogRecord>();
  for (const record of bucket.records) {
    const ref = refOf(record.zone, record.asset);
    if (records.has(ref)) problems.push(`catalog: two records of ${ref}`);
    records.set(ref, record);
  }
  const albumsOf = new Map(truth.map((a) => [a.assetRecordName, [...(a.albumRecordNames ?? [])].sort()]));
  for (const entry of entries) {
    const ref = refOf(entry.zone, entry.assetRecordName);
    const record = records.get(ref);
    records.delete(ref);
    if (record === undefined) {
      problems.push(`catalog: no record of ${ref} (${entry.status}, zone ${zoneId(entry.zone)})`);
      continue;
    }
    if (record.status !== entry.status)
      problems.push(`catalog: ${ref} is ${record.status}, the manifest says ${entry.status}`);
    const archived = (vs: readonly { key: string; size: number; sha256: string }[]) =>
      vs.map((v) => `${v.key}:${v.size}:${v.sha256}`).sort();
    if (JSON.stringify(archived(record.versions)) !== JSON.stringify(archived(entry.versions)))
      problems.push(`catalog: the versions of ${ref} differ from the manifest's`);
    const albums = albumsOf.get(entry.assetRecordName);
    // The album index lists live photos only: one first met in Recently Deleted (archived as
    // trashed, reliability finding 100) has no album the archive can know until it is restored.
    const unknowable = entry.status === 'trashed' && record.albums.length === 0;
    if (
      albums !== undefined &&
      !unknowable &&
      JSON.stringify([...record.albums].sort()) !== JSON.stringify(albums)
    )
      problems.push(`catalog: the albums of ${ref} are [${record.albums}], iCloud says [${albums}]`);
  }
  for (const ref of records.keys()) problems.push(`catalog: a record of ${ref}, which no manifest entry has`);
  const waiting = [...bucket.objects.keys()].filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX));
  if (waiting.length > 0) problems.push(`catalog: ${waiting.length} journal objects left unfolded`);
  return problems;
}

interface SharedTruth {
  albums: {
    albumguid: string;
    name: string;
    deleted: boolean;
    owner: { dsid: string };
    subscribers: { dsid: string }[];
    items: { assetGuid: string }[];
  }[];
}

/** Shared Albums the account sees whose items are not all archived, or stored items iCloud no longer has. */
export async function sharedAlbumDifferences(
  control: ControlClient,
  me: string,
  state: SharedAlbumStateStore,
  objectKeys: ReadonlySet<string>,
): Promise<string[]> {
  const problems: string[] = [];
  const truth = await control.call<SharedTruth>('GET', '/sharedstreams');
  const visible = truth.albums.filter(
    (a) => !a.deleted && (a.owner.dsid === me || a.subscribers.some((s) => s.dsid === me)),
  );
  for (const album of visible) {
    const stored = (await state.loadItems(album.albumguid)).filter((i) => i.removedAt === undefined);
    const byGuid = new Map(stored.map((i) => [i.assetGuid, i]));
    for (const item of album.items) {
      const mine = byGuid.get(item.assetGuid);
      if (mine === undefined)
        problems.push(`shared album ${album.name}: item ${item.assetGuid} not archived`);
      else if (!objectKeys.has(mine.key))
        problems.push(`shared album ${album.name}: ${mine.key} has no object`);
      byGuid.delete(item.assetGuid);
    }
    for (const guid of byGuid.keys())
      problems.push(`shared album ${album.name}: item ${guid} is gone from iCloud`);
  }
  return problems;
}
