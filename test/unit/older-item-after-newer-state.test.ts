/**
 * An older work item done after a newer one (state-order.ts) leaves the newer state alone, also
 * through a permanent failure (recordFailure) and the current marks on edits; and it is counted
 * in its own message.
 */
import { describe, expect, it } from 'vitest';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { InvalidInputError } from '#domain/errors.ts';
import { base, edited, editedPhotoArchive, MIN, message, ref, T0 } from '#test/helpers/edited-photo.ts';

const setUp = () => editedPhotoArchive();

describe('an older item done after a newer one', () => {
  it('failing for good, it leaves the newer archived state alone (recordFailure)', async () => {
    const { deps, state, cdn, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, message(T0 + 30 * MIN, [{ type: 'asset', asset: edited('a3', 'E2') }]));
    // The older message's edit E1 was replaced meanwhile: its download now fails for good.
    cdn.files.set('https://cdn.test/E1', () => new InvalidInputError('E1 is gone'));
    at(T0 + 32 * MIN);
    await processWorkMessage(deps, message(T0 + 15 * MIN, [{ type: 'asset', asset: edited('a2', 'E1') }]));

    const entry = await state.getEntry(ref);
    expect({ status: entry?.status, tag: entry?.assetChangeTag }).toEqual({ status: 'archived', tag: 'a3' });
  });

  it('failing for good after a purge, it leaves the entry purged (a newer item too)', async () => {
    const { deps, state, cdn, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    at(T0 + 31 * MIN);
    await processWorkMessage(
      deps,
      message(T0 + 30 * MIN, [
        { type: 'tombstone', zone: base.zone, recordName: base.assetRecordName, inferredType: 'CPLAsset' },
      ]),
    );
    cdn.files.set('https://cdn.test/E1', () => new InvalidInputError('E1 is gone'));
    at(T0 + 41 * MIN);
    await processWorkMessage(deps, message(T0 + 40 * MIN, [{ type: 'asset', asset: edited('a4', 'E1') }]));

    expect((await state.getEntry(ref))?.status).toBe('purged');
  });

  it("the outdated edit it adds is marked not current (the catalog's and status' view)", async () => {
    const { deps, state, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, message(T0 + 30 * MIN, [{ type: 'asset', asset: edited('a3', 'E2') }]));
    at(T0 + 32 * MIN);
    await processWorkMessage(deps, message(T0 + 15 * MIN, [{ type: 'asset', asset: edited('a2', 'E1') }]));

    const entry = await state.getEntry(ref);
    const current = (checksum: string) => entry?.versions.find((v) => v.fileChecksum === checksum)?.current;
    expect({ E1: current('E1'), E2: current('E2') }).toEqual({ E1: false, E2: undefined });
  });

  it('is counted in its own message (not taken for an earlier delivery of it)', async () => {
    const { deps, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    at(T0 + 31 * MIN);
    await processWorkMessage(
      deps,
      message(T0 + 30 * MIN, [
        { type: 'asset', asset: { ...base, assetChangeTag: 'a3', isFavorite: false } },
      ]),
    );
    at(T0 + 32 * MIN);
    const older = await processWorkMessage(
      deps,
      message(T0 + 15 * MIN, [{ type: 'asset', asset: { ...base, assetChangeTag: 'a2', isFavorite: true } }]),
    );
    expect({ items: older.items, unchanged: older.unchanged }).toEqual({ items: 1, unchanged: 1 });
  });
});
