/**
 * `verify` for albums: reads iCloud's albums afresh (the album list and every album's members,
 * 1 + F + Σ max(1, ⌊(members + 56) / 61⌋) requests) and checks each album's view in the bucket against
 * them: there, named as in Photos, listing exactly the archived photos iCloud has in the album,
 * in album order; and no view left for an album iCloud no longer has.
 *
 * A read in part (an album or member CloudKit served as an error item) says so (`problems`) and
 * shows nothing as extra: a list with problems reports no view as one of no album (the album, or a
 * folder's albums, may be the ones it lacks), and a members read with problems reports the photos
 * a view lacks, never those it lists beyond the read, nor their order.
 */
import { albumViewPaths } from '#domain/albums/album-paths.ts';
import { type AlbumViewDocument, viewItem } from '#domain/albums/album-view.ts';
import type { StoredAlbum } from '#domain/model/album.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { AssetSource } from '#ports/asset-source.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import { mergeAlbum } from './record-albums.ts';
import { listEveryAlbum, readMembers, zoneHasAlbums } from './walk-albums.ts';

export type AlbumFinding =
  | { readonly type: 'viewMissing'; readonly album: string; readonly name: string; readonly path: string }
  | {
      readonly type: 'nameDiffers';
      readonly album: string;
      readonly path: string;
      readonly expected: string;
      readonly actual: string;
    }
  | {
      readonly type: 'membersDiffer';
      readonly album: string;
      readonly path: string;
      /** Archived photos iCloud has in the album that the view lacks, and the reverse. */
      readonly missing: readonly string[];
      readonly extra: readonly string[];
      /** Same photos, another order. */
      readonly orderDiffers: boolean;
    }
  | { readonly type: 'viewNotInIcloud'; readonly key: string };

export interface AlbumVerifyReport {
  readonly ok: boolean;
  /** Albums (not folders) iCloud listed and whose views were checked. */
  readonly albumsChecked: number;
  readonly findings: readonly AlbumFinding[];
  /**
   * Albums or members iCloud served as error items (absent: none): views of albums not listed and
   * photos not read were not reported (docs/commands.md, verify).
   */
  readonly problems?: number;
}

export interface AlbumVerifyDeps {
  readonly source: AssetSource;
  readonly state: SyncStateStore;
  readonly objects: ObjectStore;
}

async function readText(objects: ObjectStore, key: string): Promise<string | undefined> {
  const got = await objects.getStream(key);
  if (got === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of got.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** iCloud's albums as the store would hold them, to compute where their views belong. */
function asStored(album: Parameters<typeof mergeAlbum>[1]): StoredAlbum {
  return { ...mergeAlbum(undefined, album), updatedAt: 0, revision: 0 };
}

export async function verifyAlbums(
  deps: AlbumVerifyDeps,
  zones: readonly ZoneRef[],
  viewsPrefix: string,
): Promise<AlbumVerifyReport> {
  const findings: AlbumFinding[] = [];
  const expectedKeys = new Set<string>();
  let albumsChecked = 0;
  let problems = 0;
  let listedInPart = false;
  for (const zone of zones.filter(zoneHasAlbums)) {
    const list = await listEveryAlbum(deps.source, zone);
    problems += list.problems;
    listedInPart ||= list.problems > 0;
    const albums = list.albums.filter((a) => !a.isDeleted).map(asStored);
    const paths = albumViewPaths(albums);
    for (const album of albums) {
      const path = paths.get(album.recordName);
      if (path === undefined) continue;
      albumsChecked += 1;
      expectedKeys.add(`${path}.json`).add(`${path}.m3u8`);
      const text = await readText(deps.objects, `${path}.json`);
      if (text === undefined) {
        findings.push({ type: 'viewMissing', album: album.recordName, name: album.name, path });
        continue;
      }
      const document = JSON.parse(text) as AlbumViewDocument;
      if (document.name !== album.name) {
        findings.push({
          type: 'nameDiffers',
          album: album.recordName,
          path,
          expected: album.name,
          actual: document.name,
        });
      }
      const expected: string[] = [];
      const read = await readMembers(deps.source, zone, album.recordName);
      problems += read.problems;
      for (const member of read.members) {
        const entry = await deps.state.getEntry({ zone, assetRecordName: member.assetRecordName });
        if (entry !== undefined && viewItem(entry) !== undefined) expected.push(member.assetRecordName);
      }
      const actual = document.items.map((i) => i.assetRecordName);
      const missing = expected.filter((name) => !actual.includes(name));
      // A photo the read did not show may be one the read could not serve.
      const extra = read.problems > 0 ? [] : actual.filter((name) => !expected.includes(name));
      const orderDiffers =
        read.problems === 0 && missing.length + extra.length === 0 && expected.join() !== actual.join();
      if (missing.length + extra.length > 0 || orderDiffers) {
        findings.push({ type: 'membersDiffer', album: album.recordName, path, missing, extra, orderDiffers });
      }
    }
  }
  // A view of an album the list lacked is not one of no album.
  if (!listedInPart)
    for await (const object of deps.objects.list(viewsPrefix)) {
      if (!expectedKeys.has(object.key)) findings.push({ type: 'viewNotInIcloud', key: object.key });
    }
  return { ok: findings.length === 0, albumsChecked, findings, ...(problems > 0 ? { problems } : {}) };
}
