/**
 * `LIVE_VIDEO_NAME=original` through the local pipeline: a HEIC Live Photo archived after the
 * setting changed is `IMG_xxxx.HEIC` + `IMG_xxxx.MOV` (same metadata as a `_HEVC.MOV`), the
 * videos archived before keep their `_HEVC` keys, a real video of the same name the same day gets
 * a key of its own through the key claims, and verify finds nothing missing or extra.
 */
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identitySuffix } from '#domain/plan/object-key.ts';
import { expectedDigests } from '#test/helpers/local-archive.ts';
import { objectEtags, type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';
import { runCli } from '#test/helpers/run-cli.ts';

const ORIGINAL = { liveVideoName: 'original' } as const;

let h: PipelineHarness;

/** The archived key of each version kind of `name`'s entry. */
async function keysOf(name: string): Promise<Record<string, string>> {
  const entry = (await h.snapshot()).entry(name);
  return Object.fromEntries((entry?.versions ?? []).map((v) => [v.kind, v.key]));
}

/** The HEIC Live Photos among `names` (the simulator picks HEIC or JPEG stills). */
async function heicLivePhotos(names: readonly string[]) {
  const truth = await h.truth();
  return truth.filter(
    (a) => names.includes(a.assetRecordName) && a.kind === 'live' && /\.HEIC$/i.test(a.fileName),
  );
}

async function addLivePhotos(count: number) {
  const { assets } = await h.mutate({ op: 'add', kind: 'live', count });
  return heicLivePhotos(assets.map((a) => a.assetRecordName));
}

let before: Awaited<ReturnType<typeof heicLivePhotos>>;
let beforeEtags: Record<string, string>;

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 4, seed: 15 });
  before = await addLivePhotos(6);
  expect((await h.sync()).outcome).toBe('succeeded');
  beforeEtags = objectEtags(await h.snapshot());
});

afterAll(async () => {
  await h?.stop();
});

describe('LIVE_VIDEO_NAME', () => {
  it('names HEIC Live Photo videos `_HEVC.MOV` by default', async () => {
    expect(before.length).toBeGreaterThan(0);
    for (const photo of before) {
      const stem = photo.fileName.replace(/\.HEIC$/i, '');
      expect((await keysOf(photo.assetRecordName)).live).toMatch(new RegExp(`/${stem}_HEVC\\.MOV$`));
    }
  });

  it('with `original`, names a new one `IMG_xxxx.MOV` and leaves archived keys as they are', async () => {
    const added = await addLivePhotos(6);
    expect(added.length).toBeGreaterThan(0);
    expect((await h.sync(ORIGINAL)).outcome).toBe('succeeded');
    const snapshot = await h.snapshot();
    for (const photo of added) {
      const keys = await keysOf(photo.assetRecordName);
      const stem = keys.original?.replace(/\.HEIC$/i, '');
      expect(keys.original).toMatch(/\.HEIC$/i);
      expect(keys.live).toBe(`${stem}.MOV`);
      // What rclone and people read is what a `_HEVC.MOV` carries: the same metadata fields.
      const video = snapshot.object(keys.live ?? '');
      const old = snapshot.object((await keysOf(before[0]?.assetRecordName ?? '')).live ?? '');
      expect(Object.keys(video?.metadata ?? {}).sort()).toEqual(Object.keys(old?.metadata ?? {}).sort());
      expect(video?.metadata['icloud-version']).toBe('live');
    }
    // Nothing archived before was renamed or rewritten.
    for (const [key, etag] of Object.entries(beforeEtags)) expect(snapshot.object(key)?.etag).toBe(etag);
    for (const photo of before) {
      expect((await keysOf(photo.assetRecordName)).live).toMatch(/_HEVC\.MOV$/);
    }
    expect(snapshot.digests).toEqual(expectedDigests(await h.truth()));
  });

  it('gives a real video named like a HEIC Live Photo video, the same day, a key of its own', async () => {
    const day = Date.UTC(2025, 2, 3, 10, 0, 0);
    const { assets } = await h.mutate({
      op: 'add',
      kind: 'live',
      count: 6,
      captureTime: day,
      timeZoneOffsetSeconds: 0,
    });
    const [live] = await heicLivePhotos(assets.map((a) => a.assetRecordName));
    if (live === undefined) throw new Error('no HEIC Live Photo added');
    const stem = live.fileName.replace(/\.HEIC$/i, '');
    const [video] = (
      await h.mutate({
        op: 'add',
        kind: 'video',
        fileName: `${stem}.MOV`,
        captureTime: day,
        timeZoneOffsetSeconds: 0,
      })
    ).assets;
    if (video === undefined) throw new Error('no video added');
    expect((await h.sync(ORIGINAL)).outcome).toBe('succeeded');
    const folder = 'library/2025/2025-03-03';
    const videoKey = (await keysOf(video.assetRecordName)).original;
    const liveKeys = await keysOf(live.assetRecordName);
    expect(liveKeys.original).toMatch(new RegExp(`^${folder}/${stem}(_[a-z2-7]{7})?\\.HEIC$`, 'i'));
    // Whichever claimed `<stem>.MOV` first keeps it; the other takes its master's suffix.
    const loser = videoKey === `${folder}/${stem}.MOV` ? live : video;
    expect([videoKey, liveKeys.live].sort()).toEqual(
      [`${folder}/${stem}.MOV`, `${folder}/${stem}${identitySuffix(loser.masterRecordName)}.MOV`].sort(),
    );
    const snapshot = await h.snapshot();
    expect(snapshot.object(videoKey ?? '')).toBeDefined();
    expect(snapshot.object(liveKeys.live ?? '')).toBeDefined();
    expect(snapshot.digests).toEqual(expectedDigests(await h.truth()));
  });

  it('leaves verify nothing missing or extra under either naming', async () => {
    const run = await runCli([
      'verify',
      '--local',
      h.dataDir,
      '--endpoint',
      h.sim.controlUrl,
      '--session-file',
      join(dirname(h.dataDir), 'session.json'),
      '--json',
    ]);
    const report = JSON.parse(run.stdout) as Record<'missing' | 'extra', unknown[]>;
    expect([report.missing, report.extra]).toEqual([[], []]);
    expect(run.code).toBe(0);
  });
});
