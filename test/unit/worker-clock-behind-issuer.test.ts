/**
 * A worker whose clock runs a few seconds behind the detector's, and two
 * messages about one photo issued a few seconds apart in one detection run (the photo changed while
 * the run paged: CloudKit lists it again, with its new state, on a later page). `stateAt` was the
 * message's `issuedAt` capped at the worker's clock (reliability finding 52): the cap gave the
 * newer message, done first, a `stateAt` below the older message's `issuedAt`, so the older one,
 * redelivered and done last, was not "older" and wrote its state over the newer one (reliability
 * finding 88). Only an issuedAt ahead of the worker's clock by more than a tolerance is capped now.
 */
import { describe, expect, it } from 'vitest';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { ISSUER_AHEAD_TOLERANCE_MS, sinceIssued, stateOrder } from '#domain/archive/state-order.ts';
import { InvalidInputError } from '#domain/errors.ts';
import type { AssetOnlyChange } from '#domain/model/asset.ts';
import { base, edited, editedPhotoArchive, MIN, message, ref, T0 } from '#test/helpers/edited-photo.ts';

function change(tag: string, flags: Partial<AssetOnlyChange>): AssetOnlyChange {
  return {
    zone: base.zone,
    assetRecordName: base.assetRecordName,
    masterRecordName: base.masterRecordName,
    assetChangeTag: tag,
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    versions: [],
    ...flags,
  };
}

describe('a worker clock a few seconds behind the detector', () => {
  it('an older message of the same run, done last, leaves the newer state', async () => {
    const { deps, state, at } = editedPhotoArchive({});
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    // One detection run (detector's clock): page 1 at +15 min reads the photo trashed; the person
    // restores it; page 4, 3 s later, reads it restored.
    const run = T0 + 15 * MIN;
    const trash = message(run, [{ type: 'assetOnly', change: change('a2', { isDeleted: true }) }]);
    const restore = message(run + 3_000, [{ type: 'assetOnly', change: change('a3', {}) }]);
    // The worker's clock is 5 s behind. The restore is done first (half a second after it was issued);
    // the trash's first delivery failed and its retry is done a minute later.
    at(run + 3_000 + 500 - 5_000);
    await processWorkMessage(deps, restore);
    at(run + 63_000 - 5_000);
    await processWorkMessage(deps, trash);

    const entry = await state.getEntry(ref);
    expect({ status: entry?.status, tag: entry?.assetChangeTag }).toEqual({ status: 'archived', tag: 'a3' });
  });

  it("keeps an issuedAt up to the tolerance ahead of the worker's clock, and caps one further ahead", () => {
    const now = T0;
    expect(stateOrder(now - 5_000, now)).toBe(now - 5_000);
    expect(stateOrder(now + ISSUER_AHEAD_TOLERANCE_MS, now)).toBe(now + ISSUER_AHEAD_TOLERANCE_MS);
    expect(stateOrder(now + ISSUER_AHEAD_TOLERANCE_MS + 1, now)).toBe(now);
    expect(stateOrder(now + 60 * MIN, now)).toBe(now);
  });

  it("says a worker's clock reading up to the tolerance behind an issuedAt may follow it (one rule)", () => {
    const issuedAt = T0;
    expect(sinceIssued(issuedAt - 5_000, issuedAt)).toBe(true);
    expect(sinceIssued(issuedAt - ISSUER_AHEAD_TOLERANCE_MS, issuedAt)).toBe(true);
    expect(sinceIssued(issuedAt - ISSUER_AHEAD_TOLERANCE_MS - 1, issuedAt)).toBe(false);
  });
});

/**
 * The same worker, 5 s behind, and a redelivery (the first delivery's acknowledgement was lost, or
 * another item of its message was retried): what the first delivery counted, the second must not
 * count again (reliability finding 105).
 */
describe('a redelivery done by a worker clock a few seconds behind the detector', () => {
  const run = T0 + 15 * MIN;
  const behind = 5_000;

  it('does not count again an asset the first delivery archived (doneByEarlierDelivery)', async () => {
    const { deps, at } = editedPhotoArchive({});
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    const edit = message(run, [{ type: 'asset', asset: edited('a2', 'E1') }]);
    at(run + 500 - behind);
    const first = await processWorkMessage(deps, edit);
    at(run + 60_000 - behind);
    const again = await processWorkMessage(deps, edit);

    expect({ items: first.items, archived: first.archived }).toEqual({ items: 1, archived: 1 });
    expect({ items: again.items, unchanged: again.unchanged }).toEqual({ items: 0, unchanged: 0 });
  });

  it('does not count again a permanent failure the first delivery recorded (failedInEarlierDelivery)', async () => {
    const { deps, cdn, at } = editedPhotoArchive({});
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    cdn.files.set('https://cdn.test/E1', () => new InvalidInputError('E1 is gone'));
    const edit = message(run, [{ type: 'asset', asset: edited('a2', 'E1') }]);
    at(run + 500 - behind);
    const first = await processWorkMessage(deps, edit);
    at(run + 60_000 - behind);
    const again = await processWorkMessage(deps, edit);

    expect({ items: first.items, failed: first.failed }).toEqual({ items: 1, failed: 1 });
    expect({ items: again.items, failed: again.failed }).toEqual({ items: 0, failed: 0 });
  });

  it("counts a permanent failure of the next run's retry, though the last one's was recorded minutes before it", async () => {
    // The photo fails for good; detection tries it again on the next run (detect/failed-retries.ts),
    // which issues its message less than 5 minutes after the failure was recorded.
    const { deps, cdn, at } = editedPhotoArchive({});
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    cdn.files.set('https://cdn.test/E1', () => new InvalidInputError('E1 is gone'));
    at(run + 60_000 - behind);
    const first = await processWorkMessage(
      deps,
      message(run, [{ type: 'asset', asset: edited('a2', 'E1') }]),
    );
    at(run + 5 * MIN + 30_000 - behind);
    const retry = message(run + 5 * MIN, [{ type: 'asset', asset: edited('a2', 'E1') }]);
    const next = await processWorkMessage(deps, retry);

    expect({ items: first.items, failed: first.failed }).toEqual({ items: 1, failed: 1 });
    expect({ items: next.items, failed: next.failed }).toEqual({ items: 1, failed: 1 });
  });

  it("counts an item whose state an older message of the last run wrote meanwhile (not this message's delivery)", async () => {
    // The detector issued the same state twice, one run apart (the first run's token did not
    // advance); a backlog had the first run's message done only after the second was issued.
    const { deps, at } = editedPhotoArchive({});
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    const older = message(run, [{ type: 'asset', asset: edited('a2', 'E1') }]);
    const newer = message(run + 5 * MIN, [{ type: 'asset', asset: edited('a2', 'E1') }]);
    at(run + 6 * MIN - behind);
    await processWorkMessage(deps, older);
    at(run + 6 * MIN + 30_000 - behind);
    const result = await processWorkMessage(deps, newer);

    expect({ items: result.items, unchanged: result.unchanged }).toEqual({ items: 1, unchanged: 1 });
  });
});

/**
 * An entry purged by a release before `stateAt` holds only its write's time (`updatedAt`, the
 * worker's clock) for the purge's order: an item issued before the purge, done after it by a worker
 * a few seconds behind, must not find it newer (reliability finding 105).
 */
describe('a purge written before stateAt existed, and a worker a few seconds behind', () => {
  it('an item issued before the purge, done after it, leaves the entry purged', async () => {
    const { deps, state, at } = editedPhotoArchive({});
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    const purgeIssued = T0 + 15 * MIN;
    const tombstone = message(purgeIssued, [
      { type: 'tombstone', zone: base.zone, recordName: base.assetRecordName, inferredType: 'CPLAsset' },
    ]);
    // Done 2 s after it was issued by a worker 5 s behind; written as an older release wrote it.
    at(purgeIssued + 2_000 - 5_000);
    await processWorkMessage(deps, tombstone);
    const purged = await state.getEntry(ref);
    const { stateAt: _s, updatedAt: _u, revision, ...older } = purged ?? ({} as NonNullable<typeof purged>);
    await state.putEntry(older, revision ?? 0);
    // An edit the detector issued a second before the purge, its first delivery failed: retried now.
    at(purgeIssued + 60_000 - 5_000);
    await processWorkMessage(
      deps,
      message(purgeIssued - 1_000, [{ type: 'asset', asset: edited('a2', 'E1') }]),
    );

    expect((await state.getEntry(ref))?.status).toBe('purged');
  });
});
