/**
 * Shared Albums' part of detection: one listing per run (none when the cadence says not yet, or
 * when the session lists no service), nothing written when nothing changed, one work item per
 * changed album, gone albums marked, and the mirror safety stop before anything is handed out.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DELETE_POLICY, MassDeletionRefusedError } from '#domain/plan/delete-policy.ts';
import {
  detectSharedAlbums,
  type SharedAlbumDetectionDeps,
} from '#domain/shared-albums/detect-shared-albums.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import { sharedAlbumsStatus } from '#domain/shared-albums/shared-albums-status.ts';
import type { SharedAlbumSource } from '#ports/shared-album-source.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

const album = (guid: string, ctag = '1'): SharedAlbum => ({
  albumguid: guid,
  name: `Album ${guid}`,
  location: `https://p101-sharedstreams.icloud.com:443/${guid}/sharedstreams/`,
  ctag,
  ownerDsid: '100',
  sharingType: 'owned',
  isPublic: false,
});

function setup(overrides: Partial<SharedAlbumDetectionDeps> = {}) {
  const source = new ListedSharedAlbumSource();
  const state = new InMemorySharedAlbumStateStore();
  const queue = new InMemoryWorkQueue();
  let clock = 1_000_000;
  const deps = (): SharedAlbumDetectionDeps => ({
    source,
    state,
    queue,
    deletePolicy: DEFAULT_DELETE_POLICY,
    archiveObjects: async () => 1000,
    cadenceMs: 0,
    now: () => clock,
    runId: 'run',
    runStartedAt: clock,
    ...overrides,
  });
  /** The workers finished every album handed out: its ctag is archived, with `items` items. */
  const finishAll = async (items = 3) => {
    const current = (await state.loadAlbums())!;
    const albums = Object.fromEntries(
      Object.entries(current.albums).map(([guid, a]) => [
        guid,
        { ...a, ...(a.enqueuedCtag ? { archivedCtag: a.enqueuedCtag } : {}), itemCount: items },
      ]),
    );
    await state.saveAlbums(
      { ...(current.checkedAt ? { checkedAt: current.checkedAt } : {}), albums },
      current.revision,
    );
    queue.receive(100);
  };
  return { source, state, queue, deps, finishAll, tick: (ms: number) => (clock += ms) };
}

describe('detectSharedAlbums', () => {
  it('hands each new album to the workers as one work item', async () => {
    const s = setup();
    s.source.put(album('A'));
    s.source.put(album('B'));
    const result = await detectSharedAlbums(s.deps());
    expect(result).toMatchObject({ outcome: 'changed', albums: 2, changedAlbums: 2, messagesEnqueued: 2 });
    expect(s.queue.peek().map((w) => w.message.items[0])).toEqual([
      { type: 'sharedAlbum', album: album('A') },
      { type: 'sharedAlbum', album: album('B') },
    ]);
  });

  it('costs one listing and writes nothing when no album changed', async () => {
    const s = setup();
    s.source.put(album('A'));
    await detectSharedAlbums(s.deps());
    await s.finishAll();
    const writes = s.state.writes;
    s.source.requests.list = 0;
    const result = await detectSharedAlbums(s.deps());
    expect(result.outcome).toBe('idle');
    expect(s.source.requests.list).toBe(1);
    expect(s.state.writes).toBe(writes);
    expect(s.queue.peek()).toEqual([]);
  });

  it('hands an album again only when its ctag moved', async () => {
    const s = setup();
    s.source.put(album('A'));
    s.source.put(album('B'));
    await detectSharedAlbums(s.deps());
    await s.finishAll();
    s.source.put(album('B', '2'));
    const result = await detectSharedAlbums(s.deps());
    expect(result.changedAlbums).toBe(1);
    expect(s.queue.peek().map((w) => w.message.items[0])).toEqual([
      { type: 'sharedAlbum', album: album('B', '2') },
    ]);
  });

  it('does not hand the same ctag twice while the first work is young', async () => {
    const s = setup();
    s.source.put(album('A'));
    await detectSharedAlbums(s.deps());
    s.queue.receive(100);
    expect((await detectSharedAlbums(s.deps())).outcome).toBe('idle');
    expect(s.queue.peek()).toEqual([]);
  });

  it('asks nothing before the cadence is due, and lists again after it', async () => {
    const s = setup({ cadenceMs: 60 * 60_000 });
    s.source.put(album('A'));
    await detectSharedAlbums(s.deps());
    await s.finishAll();
    s.source.requests.list = 0;
    s.tick(30 * 60_000);
    expect((await detectSharedAlbums(s.deps())).outcome).toBe('skipped');
    expect(s.source.requests.list).toBe(0);
    s.tick(31 * 60_000);
    expect((await detectSharedAlbums(s.deps())).outcome).toBe('idle');
    expect(s.source.requests.list).toBe(1);
  });

  it('reports the service missing without asking or writing anything', async () => {
    const s = setup();
    s.source.available = false;
    expect((await detectSharedAlbums(s.deps())).outcome).toBe('unavailable');
    expect(s.state.writes).toBe(0);
  });

  it('marks an album that left the list as gone and, under keep, hands it to the workers to say so in its view (files kept)', async () => {
    const s = setup();
    s.source.put(album('A'));
    await detectSharedAlbums(s.deps());
    await s.finishAll();
    s.source.albums.delete('A');
    const result = await detectSharedAlbums(s.deps());
    expect(result).toMatchObject({ outcome: 'changed', goneAlbums: 1, messagesEnqueued: 1 });
    expect((await s.state.loadAlbums())!.albums['A']!.goneAt).toBeDefined();
    expect(s.queue.peek().map((w) => w.message.items[0])).toEqual([
      { type: 'sharedAlbum', album: album('A'), gone: true },
    ]);
  });

  it('under mirror hands a gone album to the workers to delete its files', async () => {
    const s = setup({ deletePolicy: { ...DEFAULT_DELETE_POLICY, mode: 'mirror' } });
    s.source.put(album('A'));
    await detectSharedAlbums(s.deps());
    await s.finishAll(3);
    s.source.albums.delete('A');
    await detectSharedAlbums(s.deps());
    expect(s.queue.peek().map((w) => w.message.items[0])).toEqual([
      { type: 'sharedAlbum', album: album('A'), gone: true },
    ]);
  });

  it('refuses, writing and handing out nothing, when gone albums would delete more than the safety stop allows', async () => {
    const s = setup({
      deletePolicy: { ...DEFAULT_DELETE_POLICY, mode: 'mirror' },
      archiveObjects: async () => 100,
    });
    s.source.put(album('A'));
    await detectSharedAlbums(s.deps());
    await s.finishAll(40);
    const before = await s.state.loadAlbums();
    s.source.albums.delete('A');
    await expect(detectSharedAlbums(s.deps())).rejects.toBeInstanceOf(MassDeletionRefusedError);
    expect(await s.state.loadAlbums()).toEqual(before);
    expect(s.queue.peek()).toEqual([]);
  });
});

describe('detectSharedAlbums: asking every database for new-generation albums', () => {
  /** A source that records what it was told and says it asked every database when told to. */
  const recording = () => {
    const asked: boolean[] = [];
    const source: SharedAlbumDetectionDeps['source'] = {
      listAlbums: async (known) => {
        asked.push(known?.askEveryDatabase ?? true);
        return { available: true, albums: [], everyDatabaseAsked: known?.askEveryDatabase ?? true };
      },
      itemsPage: async () => ({ items: [], problems: [] }),
      comments: async () => [],
    };
    return { asked, source };
  };

  it('asks every database on the first listing, then not again for a day, then again (remembered in state)', async () => {
    const r = recording();
    const s = setup({ source: r.source });
    await detectSharedAlbums(s.deps());
    const writes = s.state.writes;
    await detectSharedAlbums(s.deps());
    // The second listing relied on the library's changes, and wrote nothing.
    expect(s.state.writes).toBe(writes);
    s.tick(24 * 60 * 60 * 1000);
    await detectSharedAlbums(s.deps());
    expect(r.asked).toEqual([true, false, true]);
    expect((await s.state.loadAlbums())?.everyDatabaseAskedAt).toBe(1_000_000 + 24 * 60 * 60 * 1000);
  });

  it('asks every database on every listing when a cadence skips runs', async () => {
    const r = recording();
    const s = setup({ source: r.source, cadenceMs: 60_000 });
    await detectSharedAlbums(s.deps());
    s.tick(60_000);
    await detectSharedAlbums(s.deps());
    expect(r.asked).toEqual([true, true]);
  });
});

describe('detectSharedAlbums: a session stored without the legacy service', () => {
  /**
   * A session stored without the legacy service: asking the account (`lookUpService`) costs one
   * lookup, and finds the service only when the account lists it.
   */
  const withoutService = (accountListsService: boolean) => {
    let inSession = false;
    const lookups: number[] = [];
    const source: SharedAlbumSource = {
      listAlbums: async (known) => {
        if (!inSession && known?.lookUpService) {
          lookups.push(1);
          inSession = accountListsService;
          if (!inSession) return { available: false, albums: [], serviceLookup: 'none' };
          return { available: true, albums: [album('A')], serviceLookup: 'found' };
        }
        return inSession ? { available: true, albums: [album('A')] } : { available: false, albums: [] };
      },
      itemsPage: async () => ({ items: [], problems: [] }),
      comments: async () => [],
    };
    return { lookups, source };
  };

  it('asks the account for a service the session lacks, and lists what it finds', async () => {
    const w = withoutService(true);
    const s = setup({ source: w.source });
    const result = await detectSharedAlbums(s.deps());
    expect(result).toMatchObject({ outcome: 'changed', albums: 1 });
    await detectSharedAlbums(s.deps());
    expect(w.lookups).toHaveLength(1);
    expect((await s.state.loadAlbums())?.legacyServiceMissingAt).toBeUndefined();
  });

  it('remembers an account without the service, and asks again only a day later', async () => {
    const w = withoutService(false);
    const s = setup({ source: w.source });
    expect((await detectSharedAlbums(s.deps())).outcome).toBe('unavailable');
    expect((await s.state.loadAlbums())?.legacyServiceMissingAt).toBe(1_000_000);
    const writes = s.state.writes;
    s.tick(23 * 60 * 60 * 1000);
    expect((await detectSharedAlbums(s.deps())).outcome).toBe('unavailable');
    expect(w.lookups).toHaveLength(1);
    expect(s.state.writes).toBe(writes);
    s.tick(60 * 60 * 1000);
    await detectSharedAlbums(s.deps());
    expect(w.lookups).toHaveLength(2);
    expect(sharedAlbumsStatus(await s.state.loadAlbums()).legacyServiceMissingSince).toBe(
      new Date(1_000_000 + 24 * 60 * 60 * 1000).toISOString(),
    );
  });
});
