/**
 * The mirror safety stop counts only what the workers will delete (reliability finding "the
 * mirror stop counted objects another live photo keeps"): a purged photo whose master another
 * live photo uses keeps its objects, whether that photo is archived already (an iOS Duplicate) or
 * comes in the same run (a library reset's new asset over the same master).
 */
import { describe, expect, it } from 'vitest';
import type { Asset, ZoneChange } from '#domain/model/asset.ts';
import { ZONE } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';
import { mirroredArchive } from '#test/helpers/mirror-sync.ts';

/** 5 % of the 20 objects archived below: one object per run. */
const MIRROR = { mode: 'mirror' as const, maxDeleteFraction: 0.05, maxDeleteCount: 1000 };

const reuploaded = (p: Asset): Asset => ({ ...p, assetRecordName: `${p.assetRecordName}-new` });
const tombstone = (p: Asset): ZoneChange => ({
  type: 'tombstone',
  zone: ZONE,
  recordName: p.assetRecordName,
  inferredType: 'CPLAsset',
});

describe('the mirror safety stop and objects another live photo keeps', () => {
  it('lets a library reset through: half the photos re-uploaded over their masters in the same run', async () => {
    const { objects, photos, syncOnce, source } = await mirroredArchive(20, MIRROR);
    const half = photos.slice(0, 10);
    source.change(ZONE.zoneName, [
      ...half.map((p): ZoneChange => ({ type: 'asset', asset: reuploaded(p) })),
      ...half.map(tombstone),
    ]);
    expect({ outcome: await syncOnce(), objectsLeft: objects.keys().length }).toEqual({
      outcome: 'caughtUp',
      objectsLeft: 20,
    });
  });

  it('does not count photos whose duplicates are archived', async () => {
    const { objects, photos, syncOnce, source, deps } = await mirroredArchive(20, MIRROR);
    const half = photos.slice(0, 10);
    for (const p of half) await archiveCounted(deps, reuploaded(p));
    source.change(ZONE.zoneName, half.map(tombstone));
    expect({ outcome: await syncOnce(), objectsLeft: objects.keys().length }).toEqual({
      outcome: 'caughtUp',
      objectsLeft: 20,
    });
  });

  it('still refuses the purge of half the archive when nothing keeps its objects', async () => {
    const { objects, photos, syncOnce, source } = await mirroredArchive(20, MIRROR);
    source.change(ZONE.zoneName, photos.slice(0, 10).map(tombstone));
    expect({ outcome: (await syncOnce()).split(':')[0], objectsLeft: objects.keys().length }).toEqual({
      outcome: 'MassDeletionRefusedError',
      objectsLeft: 20,
    });
  });
});
