/**
 * The mirror safety stop holds across runs: once a run was refused for purging too much, a later
 * run must not go on deleting the same purge's objects a limit's worth at a time (docs/deploy.md,
 * `DeletionRefused`: "every later run stops there too"). A raised limit lets it through, and then
 * the stop is dropped: later purges are counted per run again.
 */
import { describe, expect, it } from 'vitest';
import { ZONE } from '#test/handlers/handler-doubles.ts';
import { mirroredArchive } from '#test/helpers/mirror-sync.ts';

/** 10 % of the 40 objects archived below: four objects per run. */
const MIRROR = { mode: 'mirror' as const, maxDeleteFraction: 0.1, maxDeleteCount: 1000 };

describe('the mirror safety stop across runs', () => {
  it('keeps refusing a mass purge on the runs after the refusal, instead of deleting a limit each run', async () => {
    const { state, objects, photos, syncOnce, purgePage } = await mirroredArchive(40, MIRROR);
    // iCloud purges 30 of the 40 photos (a library reset on a device); the feed pages them.
    for (const photo of photos.slice(0, 30))
      purgePage([{ recordName: photo.assetRecordName, inferredType: 'CPLAsset' }]);

    const outcomes: string[] = [];
    for (let run = 0; run < 8; run++) outcomes.push(await syncOnce());

    // The first run deletes what fits its limit and is refused; the later ones stop there.
    // Each says what lets it through, weighed against the 40 objects the purge began in.
    const how = '; to let it through, raise MAX_DELETE_FRACTION to 0.125 or more (then set it back)';
    expect(outcomes[0]).toMatch(/^MassDeletionRefusedError: .*; 4 queued for deletion before the stop; /);
    expect(outcomes[0]?.endsWith(how)).toBe(true);
    for (const later of outcomes.slice(1)) {
      expect(later).toMatch(
        /^MassDeletionRefusedError: refused to delete 5 of 40 archived objects .*, 4 on earlier runs.*; nothing was deleted; /,
      );
      expect(later.endsWith(how)).toBe(true);
    }
    expect(objects.keys().length).toBe(36);

    // A person raises the limit: the rest of the purge goes, and the stop is dropped.
    expect(await syncOnce({ ...MIRROR, maxDeleteFraction: 0.9 })).toBe('caughtUp');
    expect(objects.keys().length).toBe(10);
    expect(JSON.stringify((await state.loadZone(ZONE))?.checkpoint ?? {})).not.toContain('brake');
    // Purges are counted per run again: one object of ten fits the 10 % limit.
    purgePage([{ recordName: photos[30]?.assetRecordName ?? '', inferredType: 'CPLAsset' }]);
    expect(await syncOnce()).toBe('caughtUp');
    expect(objects.keys().length).toBe(9);
  });
});
