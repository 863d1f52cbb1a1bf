/**
 * The mirror safety stop counts what the workers will delete, whichever tombstone of a photo
 * names it. A purge reaches `changes/zone` as two type-less tombstones per photo, asset and
 * master, and the pair may be split across pages (docs/protocol/records.md#tombstones); the
 * workers purge through either (apply-change.ts), so a page of master tombstones, or of
 * tombstones of unknown type that name masters, must count as much as the assets' would, and a
 * photo whose two tombstones both arrive must count once.
 */
import { describe, expect, it } from 'vitest';
import type { Asset, TombstoneType } from '#domain/model/asset.ts';
import { mirroredArchive } from '#test/helpers/mirror-sync.ts';

/** 5 % of the 20 objects archived below: one object per run. */
const MIRROR = { mode: 'mirror' as const, maxDeleteFraction: 0.05, maxDeleteCount: 1000 };
/** A zone synced once, then 20 archived photos (20 objects) under `mirror`. */
const archiveOfTwenty = () => mirroredArchive(20, MIRROR);

const masterTombstone = (type: TombstoneType) => (p: Asset) => ({
  recordName: p.masterRecordName,
  inferredType: type,
});
const assetTombstone = (p: Asset) => ({ recordName: p.assetRecordName, inferredType: 'CPLAsset' as const });

describe('the mirror safety stop and master tombstones', () => {
  it.each(['CPLMaster', 'unknown'] as const)(
    'refuses a page of %s tombstones naming the masters of half the archive',
    async (type) => {
      const { objects, photos, syncOnce, purgePage } = await archiveOfTwenty();
      // iCloud purges ten photos; this page holds their masters' tombstones (the assets' follow).
      purgePage(photos.slice(0, 10).map(masterTombstone(type)));

      expect({ outcome: (await syncOnce()).split(':')[0], objectsLeft: objects.keys().length }).toEqual({
        outcome: 'MassDeletionRefusedError',
        objectsLeft: 20,
      });
    },
  );

  it.each([
    ['on one page', false],
    ['split across two pages', true],
  ] as const)('counts a photo whose asset and master tombstones both come %s once', async (_, split) => {
    const { objects, photos, syncOnce, purgePage } = await archiveOfTwenty();
    const [photo] = photos;
    if (photo === undefined) throw new Error('no photo');
    const pair = [masterTombstone('CPLMaster')(photo), assetTombstone(photo)];
    if (split) for (const tombstone of pair) purgePage([tombstone]);
    else purgePage(pair);

    // One object, the limit: allowed, and deleted.
    expect({ outcome: (await syncOnce()).split(':')[0], objectsLeft: objects.keys().length }).toEqual({
      outcome: 'caughtUp',
      objectsLeft: 19,
    });
  });
});
