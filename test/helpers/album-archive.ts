/**
 * What a local archive holds about albums: the album store (albums and members) and the views
 * under `albums/` with their content, for tests that compare them with the simulator's truth.
 */
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { AlbumViewDocument } from '#domain/albums/album-view.ts';
import type { AlbumMember, StoredAlbum } from '#domain/model/album.ts';

export interface AlbumView {
  readonly key: string;
  readonly document: AlbumViewDocument;
  readonly playlist: string;
}

export interface AlbumArchive {
  readonly albums: readonly StoredAlbum[];
  /** Members by album record name, in album order. */
  readonly members: ReadonlyMap<string, readonly AlbumMember[]>;
  /** Every key under `albums/`, sorted. */
  readonly viewKeys: readonly string[];
  /** The view an album's store record points at, read from the bucket. */
  viewOf(recordName: string): AlbumView | undefined;
}

export async function readAlbumArchive(dataDir: string): Promise<AlbumArchive> {
  const stack = await openLocalAwsStack({ dataDir });
  try {
    const albums = await stack.albums.loadAlbums();
    const members = new Map<string, AlbumMember[]>();
    for (const album of albums) members.set(album.recordName, await stack.albums.albumMembers(album));
    const viewKeys: string[] = [];
    for await (const listed of stack.objects.list('albums/')) viewKeys.push(listed.key);
    const read = async (key: string) => {
      const got = await stack.objects.getStream(key);
      if (got === undefined) return undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of got.body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    };
    const views = new Map<string, AlbumView>();
    for (const album of albums) {
      if (album.view === undefined || album.deleted) continue;
      const json = await read(`${album.view.path}.json`);
      const playlist = await read(`${album.view.path}.m3u8`);
      if (json === undefined || playlist === undefined) continue;
      views.set(album.recordName, {
        key: `${album.view.path}.json`,
        document: JSON.parse(json) as AlbumViewDocument,
        playlist,
      });
    }
    return { albums, members, viewKeys: viewKeys.sort(), viewOf: (name) => views.get(name) };
  } finally {
    await stack.stop();
  }
}
