/**
 * The worker's side of finding 91: a Shared Album gone item that comes before the detector's list
 * save is retried without a warning (expected now and then, nothing for a person to do), and one
 * whose save was lost does nothing and says so at info level.
 */
import { describe, expect, it } from 'vitest';
import { archiveSharedWork } from '#app/shared-albums-work.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { GONE_SAVE_WAIT_MS } from '#domain/shared-albums/archive-shared-album.ts';
import { GoneNotRecordedError } from '#domain/shared-albums/errors.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import type { IcloudDownloadConnection } from '#ports/icloud-connection.ts';
import type { Logger } from '#shared/logger.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

const album: SharedAlbum = {
  albumguid: 'A',
  name: 'Family',
  location: 'https://p101-sharedstreams.icloud.com:443/A/sharedstreams/',
  ctag: '1',
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
};
const NOW = 10_000_000;
const library: MessageResult = {
  items: 0,
  archived: 0,
  unchanged: 0,
  updated: 0,
  purged: 0,
  purgedKept: 0,
  failed: 0,
  versionsArchived: 0,
  bytesArchived: 0,
  failures: [],
  changes: {},
};

async function deliver(issuedAt: number) {
  const state = new InMemorySharedAlbumStateStore();
  // Archived, and the detector's save that records it gone not (yet) there.
  await state.saveAlbums({ albums: { A: { album, archivedCtag: '1', folder: 'Family' } } }, 0);
  const lines: { level: string; message: string }[] = [];
  const logger = {
    info: (message: string) => lines.push({ level: 'info', message }),
    warn: (message: string) => lines.push({ level: 'warn', message }),
  } as unknown as Logger;
  const icloud = {
    sharedAlbums: new ListedSharedAlbumSource(),
    downloader: new ByteServingDownloader(),
  } as unknown as IcloudDownloadConnection;
  const run = archiveSharedWork(
    {
      archive: { state: new InMemorySyncStateStore(), objects: new InMemoryObjectStore(), now: () => NOW },
      logger,
      sharedAlbums: { state, deletePolicy: { ...DEFAULT_DELETE_POLICY, mode: 'mirror' }, comments: false },
      count: () => undefined,
    },
    icloud,
    {
      v: 1,
      runId: 'r',
      runStartedAt: issuedAt,
      issuedAt,
      items: [{ type: 'sharedAlbum', album, gone: true }],
    },
    library,
    new AbortController().signal,
  );
  return { run, lines };
}

describe('a Shared Album gone item the album list does not record', () => {
  it('delivered while the detector may still save: retried, logged at info', async () => {
    const { run, lines } = await deliver(NOW - 2_000);
    await expect(run).rejects.toBeInstanceOf(GoneNotRecordedError);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(lines.map((l) => l.message)).toEqual(['shared album gone item waits for the list to record it']);
  });

  it('delivered once the save can no longer land: does nothing, logged at info', async () => {
    const { run, lines } = await deliver(NOW - GONE_SAVE_WAIT_MS);
    await expect(run).resolves.toEqual(library);
    expect(lines).toEqual([{ level: 'info', message: 'shared album gone item did nothing' }]);
  });
});
