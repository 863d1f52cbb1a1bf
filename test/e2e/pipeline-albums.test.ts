/**
 * Albums end to end: the first sync records every album, folder and membership the simulator
 * holds (its ground truth, `GET /__sim/library/albums`) and writes one view per album under
 * `albums/`; every album change (create, rename, move, delete, add, remove, reorder) arrives
 * through the delta with at most two detection requests and rewrites exactly the views it
 * touches; an idle run stays one request and writes nothing.
 */
import { execFile, spawn } from 'node:child_process';
import { access, cp, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { AlbumSummary } from '#domain/albums/album-summary.ts';
import type { AlbumVerifyReport } from '#domain/albums/verify-albums.ts';
import type { StoredAlbum } from '#domain/model/album.ts';
import { sanitizeSegment } from '#domain/plan/sanitize.ts';
import type { GroundTruthAlbum } from '#simulator/src/library/index.ts';
import { readAlbumArchive } from '#test/helpers/album-archive.ts';
import {
  detectionRequests,
  objectEtags,
  type PipelineHarness,
  startPipelineHarness,
} from '#test/helpers/pipeline-harness.ts';
import { CLI_ENTRY, runCli } from '#test/helpers/run-cli.ts';

let h: PipelineHarness;

async function truthAlbums(): Promise<GroundTruthAlbum[]> {
  const reply = await fetch(`${h.sim.controlUrl}/library/albums`);
  return ((await reply.json()) as { albums: GroundTruthAlbum[] }).albums;
}

/** The truth's live albums and folders (sentinels left out), by record name. */
async function liveTruth(): Promise<Map<string, GroundTruthAlbum>> {
  return new Map(
    (await truthAlbums()).filter((a) => !a.sentinel && !a.deleted).map((a) => [a.recordName, a]),
  );
}

/** The folder names above an album in the truth, outermost first. */
function truthFolders(album: GroundTruthAlbum, all: Map<string, GroundTruthAlbum>): string[] {
  const names: string[] = [];
  for (let p = album.parentRecordName; p !== null; ) {
    const folder = all.get(p);
    if (folder === undefined) break;
    names.unshift(folder.name ?? '');
    p = folder.parentRecordName;
  }
  return names;
}

/** Store and views equal the truth: names, folders, kinds, members in order, one view per album. */
async function expectArchiveEqualsTruth(): Promise<void> {
  const truth = await liveTruth();
  const archive = await readAlbumArchive(h.dataDir);
  const live = archive.albums.filter((a) => !a.deleted);
  expect(new Set(live.map((a) => a.recordName))).toEqual(new Set(truth.keys()));
  const snapshot = await h.snapshot();
  const archived = new Set(
    snapshot.entries.filter((e) => e.versions.length > 0).map((e) => e.assetRecordName),
  );
  // Apple's album index lists neither hidden photos nor those in Recently Deleted; Photos shows neither.
  const shown = new Set(
    (await h.truth()).filter((a) => !a.isHidden && !a.isDeleted).map((a) => a.assetRecordName),
  );
  for (const album of live) {
    const expected = truth.get(album.recordName)!;
    expect(album.name.normalize('NFC')).toBe(expected.name?.normalize('NFC'));
    expect(album.kind).toBe(expected.albumType === 3 ? 'folder' : 'album');
    expect(album.parentRecordName ?? null).toBe(expected.parentRecordName);
    const members = expected.members.map((m) => m.assetRecordName).filter((m) => shown.has(m));
    // Hidden members come only through the delta (a reorder re-sends every relation): kept when known.
    const stored = archive.members.get(album.recordName)?.map((m) => m.assetRecordName) ?? [];
    expect(
      stored.filter((m) => shown.has(m)),
      `members of ${album.name}`,
    ).toEqual(members);
    const all = new Set(expected.members.map((m) => m.assetRecordName));
    expect(stored.filter((m) => !all.has(m))).toEqual([]);
    if (album.kind !== 'album') continue;
    const view = archive.viewOf(album.recordName);
    expect(view, `view of ${album.name}`).toBeDefined();
    expect(view?.document.name.normalize('NFC')).toBe(expected.name?.normalize('NFC'));
    expect(view?.document.folders).toEqual(truthFolders(expected, truth));
    expect(view?.document.items.map((i) => i.assetRecordName)).toEqual(
      members.filter((m) => archived.has(m)),
    );
    // Stale only while a member has no archived object (it is rewritten once it has).
    expect(album.viewStale).toBe(!stored.every((m) => archived.has(m)));
  }
  // Exactly one JSON view and one playlist per live album, nothing else under albums/.
  const albums = live.filter((a) => a.kind === 'album');
  expect(archive.viewKeys.length).toBe(albums.length * 2);
}

/** The view keys whose etag differs (written), appeared or disappeared between two snapshots. */
function changedViews(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>) {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).sort();
}

function storedByName(albums: readonly StoredAlbum[], name: string): StoredAlbum {
  const found = albums.find((a) => a.name === name && !a.deleted);
  if (found === undefined) throw new Error(`no album ${name}`);
  return found;
}

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 60, seed: 14 });
  // Nested folders and a hostile name, made before the first sync: only the album walk finds them.
  await h.mutate({ op: 'create-album', name: 'Reisen', folder: true });
  await h.mutate({ op: 'create-album', name: '2024', folder: true, parent: 'Reisen' });
  await h.mutate({ op: 'create-album', name: 'Lissabon', parent: '2024' });
  await h.mutate({ op: 'create-album', name: ' .hidden:name?*\u202Egpj.exe ', parent: 'Reisen' });
  const photos = (await h.truth()).filter((a) => a.zone === 'PrimarySync' && !a.isDeleted).slice(0, 3);
  for (const photo of photos) {
    await h.mutate({ op: 'album-add', assetRecordName: photo.assetRecordName, album: 'Lissabon' });
  }
  const first = await h.sync();
  expect(first.outcome).toBe('succeeded');
});

afterAll(async () => {
  await h?.stop();
});

describe('the first sync', () => {
  it('records every album, folder and membership of the library and writes a view per album', async () => {
    await expectArchiveEqualsTruth();
  });

  it('names views by folder and album, each segment safe as object keys are', async () => {
    const archive = await readAlbumArchive(h.dataDir);
    for (const key of archive.viewKeys) {
      for (const segment of key.split('/')) expect(sanitizeSegment(segment)).toBe(segment);
    }
    expect(archive.viewKeys).toContain('albums/Reisen/2024/Lissabon.json');
    expect(archive.viewKeys).toContain('albums/Reisen/2024/Lissabon.m3u8');
    expect(archive.viewKeys).toContain('albums/Family/Kids.json');
    expect(archive.viewKeys).toContain('albums/Kids.json');
    expect(archive.viewKeys).toContain('albums/_CON.json');
    expect(archive.viewKeys).toContain('albums/Garage vorher_nachher.json');
    // NFC and NFD twins would be one file on a NAS: the second gets a piece of its record name.
    expect(archive.viewKeys.filter((k) => k.startsWith('albums/Jörg')).length).toBe(4);
  });

  it('lists the objects in album order, and the playlist names them relative to itself', async () => {
    const archive = await readAlbumArchive(h.dataDir);
    const lissabon = archive.viewOf(storedByName(archive.albums, 'Lissabon').recordName)!;
    expect(lissabon.document.items).toHaveLength(3);
    const snapshot = await h.snapshot();
    for (const item of lissabon.document.items) expect(snapshot.object(item.key)).toBeDefined();
    const lines = lissabon.playlist.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual(lissabon.document.items.map((i) => `../../../${i.key}`));
  });
});

describe('an idle run', () => {
  it('asks Apple once and writes no view', async () => {
    const before = await h.snapshot();
    const { summary, stats } = await h.measuredSync();
    expect(summary.outcome).toBe('idle');
    expect(stats.requests).toEqual({ 'changes/database': 1 });
    expect(summary.albumViews?.written).toBe(0);
    const after = await h.snapshot();
    expect(after.views).toEqual(before.views);
    expect(objectEtags(after)).toEqual(objectEtags(before));
  });
});

describe('verify', () => {
  /** `verify --json` on `dataDir` against the simulator, as a person runs it. */
  async function verify(dataDir: string) {
    const run = await runCli([
      'verify',
      '--local',
      dataDir,
      '--endpoint',
      h.sim.controlUrl,
      '--session-file',
      join(dirname(h.dataDir), 'session.json'),
      '--json',
    ]);
    return { ...run, result: JSON.parse(run.stdout) as { status: string; albums?: AlbumVerifyReport } };
  }

  it('finds every album view equal to iCloud', async () => {
    const { code, result } = await verify(h.dataDir);
    const albums = (await liveTruth()).values();
    expect(result.albums).toEqual({
      ok: true,
      albumsChecked: [...albums].filter((a) => a.albumType === 0).length,
      findings: [],
    });
    expect(result.status).toBe('ok');
    expect(code).toBe(0);
  });

  it('reports a missing view and a view of no album', async () => {
    const copy = join(dirname(h.dataDir), 'damaged');
    await cp(h.dataDir, copy, { recursive: true });
    const stack = await openLocalAwsStack({ dataDir: copy });
    try {
      await stack.objects.delete('albums/Reisen/2024/Lissabon.json');
      const body = Buffer.from('{"format":"icloud-s3/album@1","name":"Stray","items":[]}');
      await stack.objects.putStream('albums/Stray.json', Readable.from([body]), {
        contentType: 'application/json',
        contentLength: body.length,
      });
    } finally {
      await stack.stop();
    }
    const { code, result } = await verify(copy);
    expect(result.status).toBe('differences');
    expect(result.albums?.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'viewMissing', path: 'albums/Reisen/2024/Lissabon' }),
        { type: 'viewNotInIcloud', key: 'albums/Stray.json' },
      ]),
    );
    expect(result.albums?.findings).toHaveLength(2);
    expect(code).toBe(5);
    await rm(copy, { recursive: true, force: true });
  });
});

describe('status and library', () => {
  it('status counts and names the albums the archive holds', async () => {
    const run = await runCli(['status', '--local', h.dataDir, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { albums } = JSON.parse(run.stdout) as { albums: AlbumSummary };
    const truth = [...(await liveTruth()).values()];
    expect(albums.albums).toBe(truth.filter((a) => a.albumType === 0).length);
    expect(albums.folders).toBe(truth.filter((a) => a.albumType === 3).length);
    expect(albums.views).toBe(albums.albums);
    expect(albums.list).toContainEqual(
      expect.objectContaining({ name: 'Lissabon', folders: ['Reisen', '2024'], kind: 'album', members: 3 }),
    );
    const text = await runCli(['status', '--local', h.dataDir]);
    expect(text.stdout).toMatch(/Albums\s+\d+ in \d+ folders/);
    expect(text.stdout).toContain('Reisen / 2024 / Lissabon  (3 photos)');
  });

  it('library lists the albums iCloud holds, with their folders', async () => {
    const run = await runCli([
      'library',
      '--endpoint',
      h.sim.controlUrl,
      '--session-file',
      join(dirname(h.dataDir), 'session.json'),
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const { zones } = JSON.parse(run.stdout) as {
      zones: { zoneName: string; albums?: { name: string; folders: string[]; kind: string }[] }[];
    };
    const primary = zones.find((z) => z.zoneName === 'PrimarySync');
    expect(primary?.albums).toContainEqual({ name: 'Lissabon', folders: ['Reisen', '2024'], kind: 'album' });
    expect(primary?.albums?.length).toBe((await liveTruth()).size);
  });
});

describe('album changes through the delta', () => {
  /** Mutates, syncs, and checks cost, truth, and which views were written. */
  async function change(mutation: Record<string, unknown>) {
    const step = await h.step(mutation);
    expect(step.summary.outcome).toBe('succeeded');
    expect(detectionRequests(step.stats)).toBeLessThanOrEqual(2);
    expect(step.stats.requests['records/query'] ?? 0).toBe(0);
    await expectArchiveEqualsTruth();
    // No photo object is written, renamed or removed by an album change.
    expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
    return changedViews(step.before.views, step.after.views);
  }

  it('creates a view for a new album and fills it as photos join', async () => {
    expect(await change({ op: 'create-album', name: 'Sommer', parent: 'Reisen' })).toEqual([
      'albums/Reisen/Sommer.json',
      'albums/Reisen/Sommer.m3u8',
    ]);
    const photo = (await h.truth()).find((a) => a.zone === 'PrimarySync' && !a.isDeleted && !a.isHidden)!;
    expect(
      await change({ op: 'album-add', assetRecordName: photo.assetRecordName, album: 'Sommer' }),
    ).toEqual(['albums/Reisen/Sommer.json', 'albums/Reisen/Sommer.m3u8']);
  });

  it('rewrites only the album a photo left', async () => {
    const lissabon = (await truthAlbums()).find((a) => a.name === 'Lissabon')!;
    expect(
      await change({
        op: 'album-remove',
        assetRecordName: lissabon.members[0]!.assetRecordName,
        album: lissabon.recordName,
      }),
    ).toEqual(['albums/Reisen/2024/Lissabon.json', 'albums/Reisen/2024/Lissabon.m3u8']);
  });

  it('rewrites a reordered album in its new order', async () => {
    const album = (await truthAlbums()).find((a) => a.name === 'Lissabon')!;
    expect(album.members.length).toBeGreaterThan(1);
    const order = album.members.map((m) => m.assetRecordName).reverse();
    expect(await change({ op: 'reorder-album', album: album.recordName, assetRecordNames: order })).toEqual([
      'albums/Reisen/2024/Lissabon.json',
      'albums/Reisen/2024/Lissabon.m3u8',
    ]);
    const archive = await readAlbumArchive(h.dataDir);
    expect(archive.viewOf(album.recordName)?.document.items.map((i) => i.assetRecordName)).toEqual(order);
  });

  it('moves the view of a renamed album and removes the old one', async () => {
    expect(await change({ op: 'rename-album', album: 'Sommer', name: 'Sommer 2024' })).toEqual([
      'albums/Reisen/Sommer 2024.json',
      'albums/Reisen/Sommer 2024.m3u8',
      'albums/Reisen/Sommer.json',
      'albums/Reisen/Sommer.m3u8',
    ]);
  });

  it('moves every view inside a renamed folder', async () => {
    const written = await change({ op: 'rename-album', album: '2024', name: 'Portugal' });
    expect(written).toEqual([
      'albums/Reisen/2024/Lissabon.json',
      'albums/Reisen/2024/Lissabon.m3u8',
      'albums/Reisen/Portugal/Lissabon.json',
      'albums/Reisen/Portugal/Lissabon.m3u8',
    ]);
  });

  it('moves the view of an album moved to the top level', async () => {
    expect(await change({ op: 'move-album', album: 'Sommer 2024', parent: null })).toEqual([
      'albums/Reisen/Sommer 2024.json',
      'albums/Reisen/Sommer 2024.m3u8',
      'albums/Sommer 2024.json',
      'albums/Sommer 2024.m3u8',
    ]);
  });

  it('removes the views of a deleted folder and every album inside it', async () => {
    const written = await change({ op: 'delete-album', album: 'Reisen' });
    expect(written.every((k) => k.startsWith('albums/Reisen/'))).toBe(true);
    const archive = await readAlbumArchive(h.dataDir);
    expect(archive.viewKeys.filter((k) => k.startsWith('albums/Reisen/'))).toEqual([]);
  });
});

describe('rclone copy of the bucket to a folder', () => {
  /** Serves the archive as S3 (`icloud-s3 local serve`), as the NAS recipe in docs/rclone.md does. */
  async function serve(dataDir: string) {
    const server = spawn(
      process.execPath,
      ['--import', 'tsx', CLI_ENTRY, 'local', 'serve', '--local', dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`local serve exited with ${code}`)));
    });
    const served = JSON.parse(firstLine) as Record<
      'endpoint' | 'bucket' | 'region' | 'accessKeyId' | 'secretAccessKey',
      string
    >;
    const stop = async () => {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    };
    return { served, stop };
  }

  it('carries every album view, and each lists files the copy holds', async () => {
    const target = join(dirname(h.dataDir), 'nas');
    const { served, stop } = await serve(h.dataDir);
    try {
      const inherited = Object.fromEntries(
        Object.entries(process.env).filter(([n]) => !n.startsWith('AWS_')),
      );
      const env = {
        ...inherited,
        RCLONE_CONFIG: join(dirname(h.dataDir), 'rclone.conf'),
        RCLONE_CONFIG_ICS3_TYPE: 's3',
        RCLONE_CONFIG_ICS3_PROVIDER: 'Other',
        RCLONE_CONFIG_ICS3_ENDPOINT: served.endpoint,
        RCLONE_CONFIG_ICS3_ACCESS_KEY_ID: served.accessKeyId,
        RCLONE_CONFIG_ICS3_SECRET_ACCESS_KEY: served.secretAccessKey,
        RCLONE_CONFIG_ICS3_REGION: served.region,
        RCLONE_CONFIG_ICS3_FORCE_PATH_STYLE: 'true',
      };
      await promisify(execFile)('rclone', ['copy', `ics3:${served.bucket}`, target], { env });
    } finally {
      await stop();
    }
    // From here on only the folder: no tool, no table.
    const files = (await readdir(target, { recursive: true })).map((f) => f.split(sep).join('/'));
    const views = files.filter((f) => f.startsWith('albums/') && f.endsWith('.json'));
    const truth = [...(await liveTruth()).values()].filter((a) => a.albumType === 0);
    expect(views).toHaveLength(truth.length);
    const names = [];
    for (const view of views) {
      const document = JSON.parse(await readFile(join(target, view), 'utf8')) as {
        name: string;
        items: { key: string; versions: Record<string, string> }[];
      };
      names.push(document.name.normalize('NFC'));
      for (const item of document.items) {
        for (const key of Object.values(item.versions)) expect(files).toContain(key);
      }
      const playlist = view.replace(/\.json$/u, '.m3u8');
      const lines = (await readFile(join(target, playlist), 'utf8')).split('\n');
      const paths = lines.filter((l) => l !== '' && !l.startsWith('#'));
      expect(paths).toHaveLength(document.items.length);
      for (const path of paths) await access(join(target, dirname(playlist), path));
    }
    expect(names.sort()).toEqual(truth.map((a) => a.name?.normalize('NFC')).sort());
  });
});
