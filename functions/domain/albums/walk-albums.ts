/**
 * The album part of a zone's first sync (and of a fresh enumeration after a stale token): the
 * whole album list, folder by folder, then each album's members in album order. The change feed
 * carries albums only as they change, so without this walk the albums a person made before the
 * first sync would never be known (docs/protocol/cloudkit.md#albums-and-folders).
 *
 * Cost (requests to Apple), for a zone with A albums in F folders and m_i photos in album i:
 * 1 + F album-list pages (each up to 200 albums) + sum of max(1, floor((m_i + 56) / 61)) contents
 * pages (66 members a page, a member being three records, docs/protocol/cloudkit.md#records-query;
 * each page after the first starts 5 members back, docs/reliability.md finding 31). Nothing on an
 * idle run.
 *
 * Resumable: the list is read in one go (small), then albums are read one at a time. A run that
 * stops for its deadline saves `pending` and the next resumes at the next album; the deadline
 * stops the read of a long album too, between its pages (`cursor`), so an album longer than one
 * invocation reads is walked over several runs instead of having every run killed at it. In between,
 * progress is saved once `PAGES_BETWEEN_SAVES` pages (the list's and the contents') have been read
 * since the last save, not after the list and every album (a library of many small albums paid a
 * state write per album): a crash redoes at most that many pages (and the enumeration's last
 * page, whose checkpoint the walk's first save replaces); recording the list and replacing an
 * album's members are idempotent.
 *
 * A page with problems (a record CloudKit served as an error item, one the mapping cannot read)
 * was read only in part: what it did not show is not gone. A list with problems records what it
 * lists and marks nothing deleted; a members page with problems adds and moves members, removes
 * none. The walk counts its problems (`problems`), and detection then does not record the walk
 * as done (`albumsWalkedAt`), so the next run walks again (docs/reliability.md, the album walk's
 * unreadable items).
 */
import type { AlbumMember } from '#domain/model/album.ts';
import type { Album } from '#domain/model/asset.ts';
import { isOwnLibrary, type ZoneRef, zoneId } from '#domain/model/zone.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { AlbumMembersCursor, AssetSource } from '#ports/asset-source.ts';
import { recordAlbumList, replaceAlbumMembers } from './record-albums.ts';

/** Where a walk stands (stored in the zone checkpoint: plain JSON). */
export interface AlbumWalkProgress {
  /** The album list is recorded. */
  readonly listed: boolean;
  /** Albums whose members are still to be read, in order. */
  readonly pending: readonly string[];
  /** Problems on the pages read so far (absent: none): the walk showed only part of the albums. */
  readonly problems?: number;
  /** Where the read of `pending[0]` stopped at a deadline: its members so far are stored. */
  readonly cursor?: AlbumMembersCursor;
}

export interface AlbumWalkDeps {
  readonly source: AssetSource;
  readonly albums: AlbumStore;
  /** False once the run must stop taking new requests. */
  readonly hasTimeFor: () => boolean;
  /** Persists progress (every `PAGES_BETWEEN_SAVES` pages read, and at a stop). */
  readonly save: (progress: AlbumWalkProgress) => Promise<void>;
}

/** Only the own library has album indexes; shared zones lack them (docs/protocol/cloudkit.md#indexes). */
export const zoneHasAlbums: (zone: ZoneRef) => boolean = isOwnLibrary;

/**
 * Every album and folder of the zone: the top level, then each folder's children, to any depth;
 * the list pages it took, and their problems (an album or folder served as an error item: the
 * list lacks it, and a folder's albums).
 */
export async function listEveryAlbum(source: AssetSource, zone: ZoneRef) {
  const all: Album[] = [];
  const parents: (string | undefined)[] = [undefined];
  const visited = new Set<string>();
  let pages = 0;
  let problems = 0;
  while (parents.length > 0) {
    const parent = parents.shift();
    let marker: string | undefined;
    do {
      const page = await source.listAlbums(zone, parent, marker);
      pages += 1;
      problems += page.problems.length;
      for (const album of page.albums) {
        if (visited.has(album.recordName)) continue;
        visited.add(album.recordName);
        all.push(album);
        if (album.albumType === 3 && !album.isDeleted) parents.push(album.recordName);
      }
      marker = page.continuationMarker;
    } while (marker !== undefined);
  }
  return { albums: all, pages, problems };
}

/** Contents pages (requests to Apple) a crash may make a walk read again: its saves come no closer. */
export const PAGES_BETWEEN_SAVES = 50;

/**
 * Every member of one album, in album order, the contents pages it took, and their problems (a
 * member served as an error item: the read lacks it).
 */
export async function readMembers(
  source: AssetSource,
  zone: ZoneRef,
  album: string,
  from?: AlbumMembersCursor,
  hasTimeFor: () => boolean = () => true,
): Promise<{ members: AlbumMember[]; pages: number; problems: number; stoppedAt?: AlbumMembersCursor }> {
  const members: AlbumMember[] = [];
  let pages = 0;
  let problems = 0;
  let cursor = from;
  do {
    // At least one page a call, so a walk resumed at this album always moves on.
    if (pages > 0 && cursor !== undefined && !hasTimeFor())
      return { members, pages, problems, stoppedAt: cursor };
    const page = await source.albumMembersPage(zone, album, cursor);
    pages += 1;
    problems += page.problems.length;
    members.push(...page.members);
    cursor = page.next;
  } while (cursor !== undefined);
  return { members, pages, problems };
}

/** Walks (or resumes walking) a zone's albums; returns whether the walk is complete. */
export async function walkAlbums(
  deps: AlbumWalkDeps,
  zone: ZoneRef,
  from: AlbumWalkProgress | undefined,
): Promise<{ readonly done: boolean; readonly progress: AlbumWalkProgress; readonly problems: number }> {
  let progress = from ?? { listed: false, pending: [] };
  // Requests to Apple a crash would make the walk repeat (the list's pages count too).
  let pagesSinceSave = 0;
  if (!progress.listed) {
    if (!deps.hasTimeFor()) return { done: false, progress, problems: progress.problems ?? 0 };
    const { albums, pages, problems } = await listEveryAlbum(deps.source, zone);
    await recordAlbumList(deps.albums, albums, zoneId(zone), { complete: problems === 0 });
    progress = {
      listed: true,
      pending: albums.filter((a) => a.albumType === 0 && !a.isDeleted).map((a) => a.recordName),
      ...withProblems(problems),
    };
    pagesSinceSave = pages;
  }
  while (progress.pending.length > 0) {
    if (!deps.hasTimeFor()) return { done: false, progress, problems: progress.problems ?? 0 };
    const [recordName, ...rest] = progress.pending;
    if (recordName === undefined) break;
    const ref = { zone, recordName };
    const read = await readMembers(deps.source, zone, recordName, progress.cursor, deps.hasTimeFor);
    // Read over more than one run (an album longer than what one reads): its members are stored
    // as they come, and none removed (what an earlier run read is not in this read).
    const whole = progress.cursor === undefined && read.stoppedAt === undefined;
    await replaceAlbumMembers(deps.albums, ref, read.members, () => deps.albums.loadAlbum(ref), {
      complete: whole && read.problems === 0,
    });
    const problems = withProblems((progress.problems ?? 0) + read.problems);
    if (read.stoppedAt !== undefined) {
      progress = { listed: true, pending: progress.pending, cursor: read.stoppedAt, ...problems };
      return { done: false, progress, problems: progress.problems ?? 0 };
    }
    progress = { listed: true, pending: rest, ...problems };
    pagesSinceSave += read.pages;
    if (rest.length > 0 && pagesSinceSave >= PAGES_BETWEEN_SAVES) {
      await deps.save(progress);
      pagesSinceSave = 0;
    }
  }
  return { done: true, progress, problems: progress.problems ?? 0 };
}

/** The progress field counting a walk's problems: absent while there are none (older checkpoints). */
function withProblems(problems: number): { problems?: number } {
  return problems > 0 ? { problems } : {};
}
