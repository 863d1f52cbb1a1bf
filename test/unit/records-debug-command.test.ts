import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORDED_DIR } from '#test/fixtures/recorded-cloudkit.ts';
import { asset, master, tombstone } from '#test/fixtures/scripted-cloudkit.ts';
import { debugRecords } from '../../functions/cli/commands/debug-records.ts';

const M1 = 'AbCdEfGhIjKlMnOpQrStUvWx+/01';
const A1 = '11111111-1111-4111-8111-111111111111';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'debug-records-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('icloud-s3 debug records', () => {
  it('maps a raw changes/zone body, naming each version as the archive would', async () => {
    const file = join(dir, 'changes.json');
    const body = {
      zones: [
        {
          zoneID: { zoneName: 'PrimarySync' },
          syncToken: 'T',
          moreComing: false,
          records: [master(M1, 'IMG_1.HEIC', 42), asset(A1, M1), tombstone('ZZ')],
        },
      ],
    };
    await writeFile(file, JSON.stringify(body));

    const [result] = (await debugRecords(file, {})) as {
      changes: { type: string; asset?: { versions: unknown[] } }[];
    }[];

    expect(result?.changes.map((c) => c.type)).toEqual(['asset', 'tombstone']);
    expect(result?.changes[0]?.asset?.versions).toEqual([
      {
        kind: 'original',
        resourceField: 'resOriginalRes',
        size: 42,
        uti: 'public.heic',
        fileChecksum: M1,
        fileName: 'IMG_1.HEIC',
        planned: 'primary',
      },
    ]);
  });

  it('takes the zone a changes/zone entry names when its records name none (a PrimarySync1 library)', async () => {
    const file = join(dir, 'changes-primary-sync1.json');
    const zoneID = { zoneName: 'PrimarySync1' };
    const records = [master(M1, 'IMG_1.HEIC', 42), asset(A1, M1)].map(({ zoneID: _, ...r }) => r);
    await writeFile(
      file,
      JSON.stringify({ zones: [{ zoneID, syncToken: 'T', moreComing: false, records }] }),
    );

    const [result] = (await debugRecords(file, {})) as { zone: unknown }[];

    expect(result?.zone).toEqual({ database: 'private', zoneName: 'PrimarySync1' });
  });

  it('reads every CloudKit answer of a recorded cassette', async () => {
    const lists = (await debugRecords(join(RECORDED_DIR, 'icloudpd', 'listing_videos.json'), {})) as {
      source: string;
      zone: { database: string; zoneName: string };
      changes: unknown[];
    }[];
    const page = lists.find((l) => l.changes.length === 100);
    expect(page?.zone).toEqual({ database: 'private', zoneName: 'PrimarySync' });
    expect(lists.some((l) => l.zone.database === 'shared')).toBe(true);
  });

  it('refuses a file that holds no records list', async () => {
    const file = join(dir, 'empty.json');
    await writeFile(file, '{"hello": 1}');
    await expect(debugRecords(file, {})).rejects.toThrow(/no CloudKit records list/);
  });
});
