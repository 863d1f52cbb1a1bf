/**
 * XMP sidecars read back by ExifTool (Debian's libimage-exiftool-perl; .ci/run installs it): every
 * property a sidecar carries comes out as written, and a sync with sidecars on puts one beside each
 * original that agrees with the catalog.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { CatalogRecord } from '#domain/catalog/catalog-record.ts';
import { CATALOG_SHARD_PREFIX, decodeShard } from '#domain/catalog/catalog-shard.ts';
import { buildXmpSidecar } from '#domain/catalog/xmp-sidecar.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

type ExifToolTags = Record<string, unknown>;

/** ExifTool's reading of `files` (`-n`: numbers as numbers, GPS signed decimal degrees). */
function exiftool(files: readonly string[]): Promise<ExifToolTags[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'exiftool',
      ['-j', '-n', '-XMP:all', ...files],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        if (error && stdout === '') reject(error);
        else resolve(JSON.parse(stdout) as ExifToolTags[]);
      },
    );
  });
}

/** ExifTool's date form of an RFC 3339 time (`2024:07:14 23:30:00.250-08:00`). */
const exifDate = (rfc3339: string) =>
  rfc3339.replace(/^(\d{4})-(\d{2})-(\d{2})T/, '$1:$2:$3 ').replace(/Z$/, 'Z');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-xmp-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const record: CatalogRecord = {
  v: 1,
  zone: { database: 'private', zoneName: 'PrimarySync' },
  asset: 'A1',
  master: 'M1',
  assetChangeTag: 't',
  status: 'archived',
  captured: '2024-07-14T23:30:00.250-08:00',
  capturedAt: 1_721_028_600_250,
  location: { latitude: -33.856784, longitude: 151.215297, altitude: -3.5 },
  favorite: true,
  hidden: false,
  recentlyDeleted: false,
  title: 'Opera House <at> dusk & "friends"',
  caption: 'Ünïcödé caption\nsecond line',
  keywords: ['harbour', 'Sydney'],
  albums: ['album-1'],
  versions: [
    {
      kind: 'original',
      key: 'library/2024/2024-07-14/IMG_0001.HEIC',
      size: 1,
      sha256: '0'.repeat(64),
      md5: '0'.repeat(32),
      fileChecksum: 'c',
      archivedAt: '2024-07-15T00:00:00.000Z',
    },
  ],
};

describe('XMP sidecars', () => {
  it('ExifTool reads capture time with its offset, GPS, rating, title, caption and keywords', async () => {
    const file = join(dir, 'IMG_0001.HEIC.xmp');
    await writeFile(file, buildXmpSidecar(record, ['Trip to Australia']) ?? '');

    const [tags] = await exiftool([file]);

    expect(tags).toMatchObject({
      DateTimeOriginal: '2024:07:14 23:30:00.250-08:00',
      CreateDate: '2024:07:14 23:30:00.250-08:00',
      Rating: 5,
      Title: 'Opera House <at> dusk & "friends"',
      Description: 'Ünïcödé caption\nsecond line',
      Subject: ['Trip to Australia', 'harbour', 'Sydney'],
      GPSAltitude: 3.5,
      GPSAltitudeRef: 1,
    });
    expect(tags?.['GPSLatitude']).toBeCloseTo(-33.856784, 6);
    expect(tags?.['GPSLongitude']).toBeCloseTo(151.215297, 6);
  });

  it('a sync with sidecars on writes one beside each original, agreeing with the catalog', async () => {
    const sim = await startTestSimulator({ assets: 12, seed: 21 });
    try {
      const control = controlClient(sim);
      const library = await control.library<{ assets: { assetRecordName: string; isDeleted: boolean }[] }>();
      const favourite = library.assets.find((a) => !a.isDeleted)?.assetRecordName ?? '';
      await control.mutate({ op: 'favorite', assetRecordName: favourite });
      const data = join(dir, 'data');
      const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
      await runLocalSync({
        dataDir: data,
        ...signedIn,
        logger: createLogger({ level: 'SILENT' }),
        xmpSidecars: true,
      });

      const stack = await openLocalAwsStack({ dataDir: data });
      const records: CatalogRecord[] = [];
      const sidecars = new Map<string, string>();
      try {
        for await (const object of stack.objects.list('')) {
          const found = await stack.objects.getStream(object.key);
          const text = Buffer.concat(await found!.body.toArray()).toString('utf8');
          if (object.key.startsWith(CATALOG_SHARD_PREFIX)) records.push(...decodeShard(text));
          else if (object.key.endsWith('.xmp')) sidecars.set(object.key, text);
        }
      } finally {
        await stack.stop();
      }
      const originals = records.flatMap((r) =>
        r.versions.filter((v) => v.kind === 'original').map((v) => ({ r, v })),
      );
      expect([...sidecars.keys()].sort()).toEqual(originals.map(({ v }) => `${v.key}.xmp`).sort());
      const files = await Promise.all(
        originals.map(async ({ v }, i) => {
          const file = join(dir, `sidecar-${i}.xmp`);
          await writeFile(file, sidecars.get(`${v.key}.xmp`) ?? '');
          return file;
        }),
      );
      const read = await exiftool(files);
      originals.forEach(({ r }, i) => {
        const tags = read[i];
        expect(tags?.['DateTimeOriginal']).toBe(exifDate(r.captured ?? ''));
        expect(tags?.['Rating']).toBe(r.favorite ? 5 : 0);
        expect(tags?.['GPSLatitude']).toBeCloseTo(r.location?.latitude ?? Number.NaN, 5);
        expect(tags?.['GPSLongitude']).toBeCloseTo(r.location?.longitude ?? Number.NaN, 5);
      });
      expect(originals.find(({ r }) => r.asset === favourite)?.r.favorite).toBe(true);
    } finally {
      await sim.stop();
    }
  });
});
