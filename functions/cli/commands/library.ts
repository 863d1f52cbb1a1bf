/**
 * `icloud-s3 library`: signs in with the stored session and prints what the library holds, per
 * photo zone, by kind, its albums, and the Shared Albums it owns or joined. Costs two `zones/list`
 * requests plus one count batch per zone (docs/protocol/cloudkit.md#counts), for the personal
 * library one album-list request plus one per folder (docs/protocol/cloudkit.md#albums-and-folders),
 * and one `webgetalbumslist` (docs/protocol/shared-albums.md).
 */
import { Command } from 'commander';
import { listEveryAlbum, zoneHasAlbums } from '#domain/albums/walk-albums.ts';
import { type AlbumKind, albumKindOf } from '#domain/model/album.ts';
import { isOwnLibrary, type ZoneRef } from '#domain/model/zone.ts';
import type { AssetCounts, AssetSource } from '#ports/asset-source.ts';
import type { Output } from '../io/output.ts';
import { traceOption } from '../io/trace-option.ts';

const LABELS: Readonly<Record<keyof AssetCounts, string>> = {
  library: 'photos and videos (not hidden, not deleted)',
  videos: 'videos',
  livePhotos: 'Live Photos',
  screenshots: 'screenshots',
  favorites: 'favourites',
  slomo: 'slo-mo',
  panoramas: 'panoramas',
  timelapses: 'time-lapses',
  bursts: 'bursts',
  hidden: 'hidden',
  recentlyDeleted: 'Recently Deleted',
};

function describeZone(zone: ZoneRef): string {
  const kind = isOwnLibrary(zone) ? 'personal library' : 'Shared Library';
  return `${kind} (${zone.database}/${zone.zoneName})`;
}

interface LibraryAlbum {
  readonly name: string;
  /** Folder names above it, outermost first. */
  readonly folders: readonly string[];
  readonly kind: AlbumKind;
}

/**
 * The zone's albums and folders, each with the folders above it, in folder order; `problems`:
 * albums or folders iCloud served as error items, which the list lacks (with a folder's albums).
 */
export async function albumsOf(
  source: AssetSource,
  zone: ZoneRef,
): Promise<{ albums: LibraryAlbum[]; problems: number }> {
  const list = await listEveryAlbum(source, zone);
  const albums = list.albums.filter((a) => !a.isDeleted);
  const byName = new Map(albums.map((a) => [a.recordName, a]));
  const foldersOf = (parent: string | undefined, seen = new Set<string>()): string[] => {
    const folder = parent === undefined ? undefined : byName.get(parent);
    if (folder === undefined || seen.has(folder.recordName)) return [];
    seen.add(folder.recordName);
    return [...foldersOf(folder.parentId, seen), folder.name];
  };
  const listed = albums
    .map((a) => ({ name: a.name, folders: foldersOf(a.parentId), kind: albumKindOf(a.albumType) }))
    .sort((a, b) => [...a.folders, a.name].join('/').localeCompare([...b.folders, b.name].join('/')));
  return { albums: listed, problems: list.problems };
}

function renderAlbums(output: Output, { albums, problems }: Awaited<ReturnType<typeof albumsOf>>): void {
  const of = (kind: AlbumKind) => albums.filter((a) => a.kind === kind).length;
  output.info(`  ${String(of('album')).padStart(8)}  albums, in ${of('folder')} folders`);
  if (problems > 0)
    output.warn(
      `${problems} albums or folders iCloud could not serve: the list lacks them (and a folder's albums); try again later`,
    );
  for (const album of albums.filter((a) => a.kind !== 'folder')) {
    const kind = album.kind === 'album' ? '' : ` (${album.kind})`;
    output.info(`            ${[...album.folders, album.name].join(' / ')}${kind}`);
  }
}

export function libraryCommand(): Command {
  return new Command('library')
    .description('show what your iCloud Photos library holds, per zone, by kind')
    .addOption(traceOption())
    .addHelpText(
      'after',
      `
Examples:
  npx icloud-s3 library                  counts and albums per zone, with the stored session
  npx icloud-s3 library --json           the same as one JSON object
  npx icloud-s3 library --endpoint http://127.0.0.1:4567/__sim    against the simulator
  npx icloud-s3 library --trace library-trace.json             a redacted transcript of the exchanges with Apple

Exit codes: 0 ok, 1 failure, 3 iCloud needs you to log in again, 4 Apple refused the account.`,
    )
    .action(async (_options: unknown, command: Command) => {
      // Imported when it runs: `library --help` loads no session or logging code (issue 12).
      const { cliContext } = await import('../context.ts');
      const ctx = cliContext(command);
      // Imported here, not above: `library --help` then loads no adapters (issue 12).
      const { openIcloudAdapters } = await import('#compose/icloud-adapters.ts');
      const { session, source, sharedAlbums } = await openIcloudAdapters({
        endpoint: await ctx.endpoint(),
        store: ctx.store,
        logger: ctx.logger,
        ...(ctx.observer ? { observer: ctx.observer } : {}),
      });
      const zones = await source.discoverZones();
      const counted = await Promise.all(
        zones.map(async (zone) => ({
          zone,
          counts: await source.countAssets(zone),
          albums: zoneHasAlbums(zone) ? await albumsOf(source, zone) : undefined,
        })),
      );
      // One more request (webgetalbumslist): the Shared Albums owned or joined; a failure only warns.
      const shared = await sharedAlbums?.listAlbums().catch((error: unknown) => {
        ctx.output.warn(
          `Shared Albums not listed: ${error instanceof Error ? error.message : String(error)}`,
        );
        return undefined;
      });
      await session.save();
      for (const { zone, counts, albums } of counted) {
        ctx.output.info(describeZone(zone));
        for (const [kind, label] of Object.entries(LABELS) as [keyof AssetCounts, string][]) {
          const count = counts[kind];
          if (count !== undefined) ctx.output.info(`  ${String(count).padStart(8)}  ${label}`);
        }
        if (albums !== undefined) renderAlbums(ctx.output, albums);
      }
      if (zones.length === 0) ctx.output.warn('no photo zone found: is iCloud Photos turned on?');
      const albums = shared?.albums ?? [];
      if (albums.length > 0) {
        const legacy = albums.filter((a) => a.collection === undefined).length;
        ctx.output.info(
          `Shared Albums (${albums.length}${legacy > 0 ? `; Apple keeps reduced copies in the ${legacy} older ones, not originals` : ''})`,
        );
        for (const album of albums) {
          // A new-generation album's title is in its zone, read only when it is archived.
          const name = album.name || `(new-generation album ${album.albumguid})`;
          ctx.output.info(`  ${album.sharingType === 'owned' ? 'yours ' : 'joined'}  ${name}`);
        }
      }
      ctx.output.result({
        status: 'ok',
        zones: counted.map(({ zone, counts, albums: zoneAlbums }) => ({
          ...zone,
          counts,
          ...(zoneAlbums
            ? {
                albums: zoneAlbums.albums,
                ...(zoneAlbums.problems > 0 ? { albumProblems: zoneAlbums.problems } : {}),
              }
            : {}),
        })),
        sharedAlbums: albums.map((a) => ({
          albumguid: a.albumguid,
          name: a.name,
          sharingType: a.sharingType,
          ...(a.collection === undefined ? {} : { generation: 'shared-collection' }),
        })),
      });
    });
}
