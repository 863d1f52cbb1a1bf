import { describe, expect, it } from 'vitest';
import { createClock } from '#simulator/src/clock.ts';
import { openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';

describe('simulator library generator', () => {
  it('is deterministic from the seed', async () => {
    const clock = createClock();
    const a = await openInProcessCloudKit({ seed: 77, assets: 120, clock });
    const b = await openInProcessCloudKit({ seed: 77, assets: 120, clock });
    const c = await openInProcessCloudKit({ seed: 78, assets: 120, clock });
    const names = async (ck: typeof a) =>
      (await ck.library.groundTruth({ sha256: false })).assets.map((x) => x.masterRecordName);
    expect(await names(a)).toEqual(await names(b));
    expect(await names(a)).not.toEqual(await names(c));
  });

  it('produces every kind and the hostile name cases within its first assets', async () => {
    const ck = await openInProcessCloudKit({ seed: 1, assets: 60 });
    const assets = (await ck.library.groundTruth({ sha256: false })).assets;
    const kinds = new Set(assets.map((a) => a.kind));
    for (const kind of [
      'jpeg',
      'heic',
      'png',
      'live',
      'video',
      'raw',
      'screenshot',
      'slomo',
      'timelapse',
      'panorama',
      'burst',
    ]) {
      expect(kinds.has(kind)).toBe(true);
    }
    const names = assets.map((a) => a.fileName);
    expect(names.filter((n) => n === 'IMG_0001.JPG').length).toBeGreaterThan(1);
    expect(names).toContain('Café.JPG');
    expect(names).toContain('Cafe\u0301.JPG');
    expect(names.some((n) => n.length > 255)).toBe(true);
    expect(names.some((n) => /[\u0000-\u001f]/.test(n))).toBe(true);
    expect(assets.some((a) => a.albums.includes('Garage vorher/nachher'))).toBe(true);
  });

  it('reports the sha256 of exactly the bytes the CDN would serve', async () => {
    const ck = await openInProcessCloudKit({ seed: 1, assets: 12 });
    const { openMedia } = await import('#simulator/src/media/index.ts');
    const { createHash } = await import('node:crypto');
    const asset = (await ck.library.groundTruth()).assets[0]!;
    const version = asset.versions[0]!;
    const hash = createHash('sha256');
    for await (const chunk of openMedia(ck.library.resolveResource(version.fileChecksum)!))
      hash.update(chunk as Buffer);
    expect(version.sha256).toBe(hash.digest('hex'));
  });

  it('serves a multi-gigabyte video added by mutation without storing it', async () => {
    const ck = await openInProcessCloudKit({ seed: 1, assets: 10 });
    const result = await ck.library.mutate({ op: 'add', kind: 'video', sizeBytes: 5 * 1024 ** 3 });
    const original = result.assets[0]!.versions.find((v) => v.kind === 'original')!;
    expect(original.size).toBe(5 * 1024 ** 3);
    expect(ck.library.resolveResource(original.fileChecksum)?.size).toBe(5 * 1024 ** 3);
  });
});
