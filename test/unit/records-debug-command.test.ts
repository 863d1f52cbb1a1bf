import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { keyCandidates } from '#domain/archive/message-claims.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
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

/**
 * A HEIC Live Photo's video is named as the archive would name it under the configured
 * LIVE_VIDEO_NAME (`--live-video-name`, else `$LIVE_VIDEO_NAME`, else `suffix`), resolved as `sync`
 * resolves it (reliability finding 106).
 */
describe('icloud-s3 debug records, a Live Photo', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const livePhoto = async () => {
    const file = join(dir, 'live.json');
    const still = master(M1, 'IMG_1.HEIC', 42);
    const fields = still['fields'] as Record<string, unknown>;
    fields['resOriginalVidComplRes'] = {
      value: { fileChecksum: 'V1', size: 7, downloadURL: 'https://cvws.icloud-content.com/B/V1/video' },
      type: 'ASSETID',
    };
    fields['resOriginalVidComplFileType'] = { value: 'com.apple.quicktime-movie', type: 'STRING' };
    await writeFile(file, JSON.stringify({ records: [still, asset(A1, M1)] }));
    return file;
  };
  /** The still's and the video's file names, as `debug records` prints them. */
  const names = async (options: { liveVideoName?: string }) => {
    const [result] = (await debugRecords(await livePhoto(), options)) as {
      changes: { asset?: { versions: { kind: string; fileName: string }[] } }[];
    }[];
    const versions = result?.changes[0]?.asset?.versions ?? [];
    const named = (kind: string) => versions.find((v) => v.kind === kind)?.fileName;
    return { still: named('original'), video: named('live') };
  };

  it('names the video with the _HEVC suffix by default', async () => {
    vi.stubEnv('LIVE_VIDEO_NAME', '');
    expect(await names({})).toEqual({ still: 'IMG_1.HEIC', video: 'IMG_1_HEVC.MOV' });
  });

  it('names it after its still under LIVE_VIDEO_NAME=original', async () => {
    vi.stubEnv('LIVE_VIDEO_NAME', 'original');
    expect((await names({})).video).toBe('IMG_1.MOV');
  });

  it("shows the name the archive's key for the video takes, under either naming", async () => {
    const { mapRecords } = await import('#adapters/icloud/records/map-records.ts');
    const [photo] = mapRecords(JSON.parse(await readFile(await livePhoto(), 'utf8')).records, {
      database: 'private',
      zoneName: 'PrimarySync',
    }).changes.flatMap((c) => (c.type === 'asset' ? [c.asset] : []));
    const live = photo && planVersions(photo, DEFAULT_VERSION_POLICY).find((p) => p.kind === 'live');
    for (const naming of ['suffix', 'original'] as const) {
      vi.stubEnv('LIVE_VIDEO_NAME', naming);
      // The key the archive tries first: the day's folder and the file name (object-key.ts).
      const [key = ''] = photo && live ? keyCandidates(photo, live, undefined, naming) : [];
      expect(key.split('/').at(-1)).toBe((await names({})).video);
    }
  });

  it('takes --live-video-name over the environment, and refuses a naming it does not know', async () => {
    vi.stubEnv('LIVE_VIDEO_NAME', 'original');
    expect((await names({ liveVideoName: 'suffix' })).video).toBe('IMG_1_HEVC.MOV');
    vi.stubEnv('LIVE_VIDEO_NAME', '');
    expect((await names({ liveVideoName: 'original' })).video).toBe('IMG_1.MOV');
    await expect(names({ liveVideoName: 'hevc' })).rejects.toThrow(/LIVE_VIDEO_NAME: "hevc" is not one of/);
  });
});
