/**
 * `verify` and `library` when iCloud serves an album or an album's member as an error item (a page
 * with `problems`): a read in part. Before session 15 both ignored the problems, so `verify`
 * reported the views of the album it could not read as views of no album (`viewNotInIcloud`) and
 * the member it could not read as extra in its album's view, and `library` left the album out
 * without a word. A partial read now says so (`problems`), and nothing is reported as extra from it.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { verifyAlbums } from '#domain/albums/verify-albums.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { AlbumMember } from '#domain/model/album.ts';
import type { Album } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { AlbumListPage, AlbumMembersPage, AssetSource } from '#ports/asset-source.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { albumsOf } from '../../functions/cli/commands/library.ts';

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const album = (recordName: string, name: string): Album => ({
  zone: ZONE,
  recordName,
  name,
  albumType: 0,
  isDeleted: false,
});
const member = (assetRecordName: string, position: number): AlbumMember => ({ assetRecordName, position });
const errorItem = (recordName: string) =>
  new UnexpectedResponseError(`CloudKit could not serve record ${recordName} in records/query: THROTTLED`);

/** A source answering one album list page and one members page per album, as given. */
function sourceOf(list: AlbumListPage, members: Record<string, AlbumMembersPage> = {}): AssetSource {
  return {
    async listAlbums(): Promise<AlbumListPage> {
      return list;
    },
    async albumMembersPage(_zone: ZoneRef, recordName: string): Promise<AlbumMembersPage> {
      return members[recordName] ?? { members: [], problems: [] };
    },
  } as unknown as AssetSource;
}

/** An archive whose photos P1 and P2 are archived, with the views of Lissabon (P1, P2) and Porto. */
async function archive() {
  const state = new InMemorySyncStateStore();
  for (const name of ['P1', 'P2'])
    await state.putEntry(
      {
        zone: ZONE,
        assetRecordName: name,
        masterRecordName: `M-${name}`,
        assetChangeTag: 't',
        status: 'archived',
        flags: { isFavorite: false, isHidden: false, isDeleted: false },
        albums: [],
        versions: [
          {
            kind: 'original',
            key: `library/2026/${name}.JPG`,
            size: 1,
            sha256: 'x',
            md5: 'y',
            fileChecksum: 'z',
            archivedAt: 1,
          },
        ],
        deletions: [],
      },
      0,
    );
  const objects = new InMemoryObjectStore();
  const put = async (key: string, text: string) => {
    const body = Buffer.from(text);
    await objects.putStream(key, Readable.from([body]), {
      contentType: 'text/plain',
      contentLength: body.length,
    });
  };
  const view = (name: string, items: string[]) =>
    JSON.stringify({
      format: 'icloud-s3/album@1',
      name,
      folders: [],
      recordName: name,
      kind: 'album',
      items: items.map((n) => ({ assetRecordName: n, key: `library/2026/${n}.JPG`, versions: {} })),
    });
  await put('albums/Lissabon.json', view('Lissabon', ['P1', 'P2']));
  await put('albums/Lissabon.m3u8', '#EXTM3U\n');
  await put('albums/Porto.json', view('Porto', []));
  await put('albums/Porto.m3u8', '#EXTM3U\n');
  return { state, objects };
}

describe('verify of album views when iCloud serves an album as an error item', () => {
  it('reports no view of the album it could not read as a view of no album, and counts the problem', async () => {
    const { state, objects } = await archive();
    const source = sourceOf(
      { albums: [album('A1', 'Lissabon')], problems: [errorItem('A2')] },
      { A1: { members: [member('P1', 0), member('P2', 1)], problems: [] } },
    );
    const report = await verifyAlbums({ source, state, objects }, [ZONE], 'albums/');
    expect(report.findings).toEqual([]);
    expect(report.problems).toBe(1);
  });

  it('still reports a view of no album when iCloud served every album', async () => {
    const { state, objects } = await archive();
    const source = sourceOf(
      { albums: [album('A1', 'Lissabon')], problems: [] },
      { A1: { members: [member('P1', 0), member('P2', 1)], problems: [] } },
    );
    const report = await verifyAlbums({ source, state, objects }, [ZONE], 'albums/');
    expect(report.findings.map((f) => f.type)).toEqual(['viewNotInIcloud', 'viewNotInIcloud']);
    expect(report.problems ?? 0).toBe(0);
  });
});

describe('verify of album views when iCloud serves a member as an error item', () => {
  it('reports no photo of the view as extra, and counts the problem', async () => {
    const { state, objects } = await archive();
    const source = sourceOf(
      { albums: [album('A1', 'Lissabon'), album('A2', 'Porto')], problems: [] },
      { A1: { members: [member('P1', 0)], problems: [errorItem('REL-P2')] } },
    );
    const report = await verifyAlbums({ source, state, objects }, [ZONE], 'albums/');
    expect(report.findings).toEqual([]);
    expect(report.problems).toBe(1);
  });

  it('still reports a photo the view lacks', async () => {
    const { state, objects } = await archive();
    const source = sourceOf(
      { albums: [album('A1', 'Lissabon'), album('A2', 'Porto')], problems: [] },
      {
        A1: { members: [member('P1', 0), member('P2', 1)], problems: [] },
        A2: { members: [member('P1', 0)], problems: [errorItem('REL-P9')] },
      },
    );
    const report = await verifyAlbums({ source, state, objects }, [ZONE], 'albums/');
    expect(report.findings).toEqual([
      expect.objectContaining({ type: 'membersDiffer', path: 'albums/Porto', missing: ['P1'], extra: [] }),
    ]);
  });
});

describe('library when iCloud serves an album as an error item', () => {
  it('lists what it read and says how many albums it could not read', async () => {
    const source = sourceOf({ albums: [album('A1', 'Lissabon')], problems: [errorItem('A2')] });
    const listed = await albumsOf(source, ZONE);
    expect(listed).toEqual({ albums: [{ name: 'Lissabon', folders: [], kind: 'album' }], problems: 1 });
  });
});
