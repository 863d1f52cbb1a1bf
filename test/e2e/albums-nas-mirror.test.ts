/**
 * Issue 14's second "done when": the bucket of a library with albums in folders inside folders,
 * synced with XMP sidecars on, is served by `icloud-s3 local serve` and mirrored by rclone to a
 * folder (the NAS recipe of docs/rclone.md). From then on the test reads the folder alone, as a
 * person or a NAS app would: plain files, JSON, a playlist, a small XML read and ExifTool (Debian's
 * libimage-exiftool-perl and rclone; .ci/run installs both). No project code reads it and no state
 * table is opened; the simulator's ground truth is what it is compared with.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, readdir, readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroundTruthAlbum } from '#simulator/src/library/index.ts';
import { expectedDigests } from '#test/helpers/local-archive.ts';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';
import { CLI_ENTRY } from '#test/helpers/run-cli.ts';

const run = promisify(execFile);

let h: PipelineHarness;
let nas: string;
/** Every file of the mirror, as `/`-separated paths relative to it. */
let files: string[];

/** `icloud-s3 local serve` on the archive, then `rclone copy` of the served bucket to `target`. */
async function mirror(dataDir: string, target: string): Promise<void> {
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', CLI_ENTRY, 'local', 'serve', '--local', dataDir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`local serve exited with ${code}`)));
    });
    const served = JSON.parse(firstLine) as Record<
      'endpoint' | 'bucket' | 'region' | 'accessKeyId' | 'secretAccessKey',
      string
    >;
    // rclone's AWS SDK fails on AWS_CA_BUNDLE: the remote is configured entirely here.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([n]) => !n.startsWith('AWS_')));
    await run('rclone', ['copy', `ics3:${served.bucket}`, target], {
      env: {
        ...inherited,
        RCLONE_CONFIG: join(dirname(dataDir), 'rclone.conf'),
        RCLONE_CONFIG_ICS3_TYPE: 's3',
        RCLONE_CONFIG_ICS3_PROVIDER: 'Other',
        RCLONE_CONFIG_ICS3_ENDPOINT: served.endpoint,
        RCLONE_CONFIG_ICS3_ACCESS_KEY_ID: served.accessKeyId,
        RCLONE_CONFIG_ICS3_SECRET_ACCESS_KEY: served.secretAccessKey,
        RCLONE_CONFIG_ICS3_REGION: served.region,
        RCLONE_CONFIG_ICS3_FORCE_PATH_STYLE: 'true',
      },
    });
  } finally {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  }
}

/** An album view as a person reads it: the fields docs/archive-layout.md §8 names. */
interface ViewFile {
  readonly path: string;
  readonly name: string;
  readonly folders: string[];
  readonly recordName: string;
  readonly items: { assetRecordName: string; key: string; versions: Record<string, string> }[];
}

async function readViews(): Promise<ViewFile[]> {
  const views = files.filter((f) => f.startsWith('albums/') && f.endsWith('.json'));
  return Promise.all(
    views.map(async (path) => ({ path, ...JSON.parse(await readFile(join(nas, path), 'utf8')) }) as ViewFile),
  );
}

/** The catalog's records, read as JSON Lines (only the fields this test needs). */
async function readCatalog(): Promise<
  { asset: string; versions: { kind: string; key: string; sha256: string }[] }[]
> {
  const shards = files.filter((f) => f.startsWith('catalog/assets/') && f.endsWith('.jsonl'));
  const lines = await Promise.all(
    shards.map(async (s) => (await readFile(join(nas, s), 'utf8')).split('\n')),
  );
  return lines
    .flat()
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

/** `dc:subject`'s keywords of a sidecar, read from its XML (entities unescaped). */
function subjects(xmp: string): string[] {
  const bag = /<dc:subject>\s*<rdf:Bag>([\s\S]*?)<\/rdf:Bag>/u.exec(xmp)?.[1] ?? '';
  return [...bag.matchAll(/<rdf:li>([\s\S]*?)<\/rdf:li>/gu)].map((m) =>
    (m[1] ?? '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&'),
  );
}

const nfc = (text: string | null | undefined) => (text ?? '').normalize('NFC');

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 24, seed: 21 });
  await h.mutate({ op: 'create-album', name: 'Reisen', folder: true });
  await h.mutate({ op: 'create-album', name: '2024', folder: true, parent: 'Reisen' });
  await h.mutate({ op: 'create-album', name: 'Lissabon & "Porto"', parent: '2024' });
  await h.mutate({ op: 'create-album', name: 'Wandern', parent: 'Reisen' });
  const photos = (await h.truth()).filter(
    (a) => a.zone === 'PrimarySync' && a.zoneOwner === 'owner' && !a.isDeleted && !a.isHidden,
  );
  for (const photo of photos.slice(0, 4)) {
    await h.mutate({ op: 'album-add', assetRecordName: photo.assetRecordName, album: 'Lissabon & "Porto"' });
  }
  await h.mutate({ op: 'album-add', assetRecordName: photos[2]!.assetRecordName, album: 'Wandern' });
  const summary = await h.sync({ xmpSidecars: true });
  expect(summary.outcome).toBe('succeeded');
  nas = join(dirname(h.dataDir), 'nas');
  await mirror(h.dataDir, nas);
  // From here on only the folder: no tool, no table.
  files = (await readdir(nas, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) =>
      join(d.parentPath, d.name)
        .slice(nas.length + 1)
        .split(sep)
        .join('/'),
    );
});

afterAll(async () => {
  await h?.stop();
});

describe('a NAS copy of the bucket, read without the tool', () => {
  it('finds every album of iCloud, in its folders, with its photos in album order', async () => {
    const reply = await fetch(`${h.sim.controlUrl}/library/albums`);
    const all = ((await reply.json()) as { albums: GroundTruthAlbum[] }).albums.filter(
      (a) => !a.sentinel && !a.deleted,
    );
    const byRecord = new Map(all.map((a) => [a.recordName, a]));
    const shown = new Set(
      (await h.truth()).filter((a) => !a.isDeleted && !a.isHidden).map((a) => a.assetRecordName),
    );
    const views = await readViews();
    const albums = all.filter((a) => a.albumType === 0);
    expect(views.map((v) => v.recordName).sort()).toEqual(albums.map((a) => a.recordName).sort());
    for (const album of albums) {
      const view = views.find((v) => v.recordName === album.recordName)!;
      const folders: string[] = [];
      for (let p = album.parentRecordName; p !== null; p = byRecord.get(p)?.parentRecordName ?? null) {
        folders.unshift(nfc(byRecord.get(p)?.name));
      }
      expect(nfc(view.name)).toBe(nfc(album.name));
      expect(view.folders.map(nfc)).toEqual(folders);
      expect(view.items.map((i) => i.assetRecordName)).toEqual(
        album.members.map((m) => m.assetRecordName).filter((m) => shown.has(m)),
      );
    }
    const lissabon = views.find((v) => v.name === 'Lissabon & "Porto"');
    expect(lissabon?.path).toBe('albums/Reisen/2024/Lissabon & _Porto_.json');
    expect(lissabon?.items).toHaveLength(4);
  });

  it('every key a view lists is a file of the copy, and each playlist path resolves beside the playlist', async () => {
    const held = new Set(files);
    for (const view of await readViews()) {
      for (const item of view.items) {
        expect(held.has(item.key), item.key).toBe(true);
        for (const key of Object.values(item.versions)) expect(held.has(key), key).toBe(true);
      }
      const playlist = view.path.replace(/\.json$/u, '.m3u8');
      const lines = (await readFile(join(nas, playlist), 'utf8')).split('\n');
      expect(lines[0]).toBe('#EXTM3U');
      const paths = lines.filter((l) => l !== '' && !l.startsWith('#'));
      expect(paths).toHaveLength(view.items.length);
      for (const [i, path] of paths.entries()) {
        await access(join(nas, dirname(playlist), path));
        expect(join(dirname(playlist), path).split(sep).join('/')).toBe(view.items[i]?.key);
      }
    }
  });

  it('holds every file iCloud has, each named in the catalog, each original with its sidecar', async () => {
    const archived = files.filter((f) => f.startsWith('library/') && !f.endsWith('.xmp'));
    const digests = new Set(
      await Promise.all(
        archived.map(async (f) =>
          createHash('sha256')
            .update(await readFile(join(nas, f)))
            .digest('hex'),
        ),
      ),
    );
    expect(digests).toEqual(expectedDigests(await h.truth()));
    const records = await readCatalog();
    const versions = records.flatMap((r) => r.versions);
    expect(new Set(versions.map((v) => v.key))).toEqual(new Set(archived));
    const originals = [...new Set(versions.filter((v) => v.kind === 'original').map((v) => v.key))];
    expect(originals.length).toBeGreaterThan(0);
    expect(files.filter((f) => f.endsWith('.xmp')).sort()).toEqual(originals.map((k) => `${k}.xmp`).sort());
  });

  it('ExifTool reads every sidecar: capture time, rating, and the names of the photo’s albums as keywords', async () => {
    const sidecars = files.filter((f) => f.endsWith('.xmp'));
    const { stdout } = await run('exiftool', ['-j', '-n', '-XMP:all', ...sidecars.map((f) => join(nas, f))], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const tags = new Map(
      (JSON.parse(stdout) as { SourceFile: string }[]).map((t) => [
        t.SourceFile.slice(nas.length + 1)
          .split(sep)
          .join('/'),
        t as Record<string, unknown>,
      ]),
    );
    expect(tags.size).toBe(sidecars.length);
    for (const [file, tag] of tags) {
      expect(tag['DateTimeOriginal'], file).toMatch(/^\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}/u);
      expect([0, 5]).toContain(tag['Rating']);
    }
    // Each photo's sidecar names every album whose view lists it, as ExifTool and the XML both say.
    for (const view of await readViews()) {
      for (const item of view.items) {
        const sidecar = `${item.versions['original'] ?? item.key}.xmp`;
        const keywords = [tags.get(sidecar)?.['Subject'] ?? []].flat().map((k) => nfc(String(k)));
        expect(keywords, sidecar).toContain(nfc(view.name));
        expect(subjects(await readFile(join(nas, sidecar), 'utf8')).map(nfc)).toContain(nfc(view.name));
      }
    }
  });
});
