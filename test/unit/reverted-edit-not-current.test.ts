/**
 * An edit reverted in Photos, or replaced by a newer edit. docs/archive-layout.md §5: "nothing is
 * deleted; the manifest shows no current edit". The album view must not name the reverted edit as
 * the photo's `adjusted` object, and the catalog must tell which edit is the current one.
 */
import { describe, expect, it } from 'vitest';
import { viewItem } from '#domain/albums/album-view.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { toCatalogRecord } from '#domain/catalog/catalog-record.ts';
import type { AssetOnlyChange } from '#domain/model/asset.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { base, edited, editedPhotoArchive, message, ref, T0 } from '#test/helpers/edited-photo.ts';

const reverted: AssetOnlyChange = {
  zone: base.zone,
  assetRecordName: base.assetRecordName,
  masterRecordName: base.masterRecordName,
  assetChangeTag: 'a9',
  isFavorite: false,
  isHidden: false,
  isDeleted: false,
  isExpunged: false,
  versions: [],
};

function setUp() {
  const { deps, state } = editedPhotoArchive();
  let at = T0;
  const apply = (item: WorkMessage['items'][number]) => processWorkMessage(deps, message(++at, [item]));
  return { state, apply };
}

/** Each archived edit's key and whether the catalog calls it current. */
const catalogEdits = (entry: ManifestEntry | undefined) =>
  entry === undefined
    ? undefined
    : toCatalogRecord(entry, undefined)
        .versions.filter((v) => v.kind === 'adjusted')
        .map((v) => ({ key: v.key, current: v.current !== false }));

describe('an edit reverted or replaced', () => {
  it('a reverted edit leaves no current edit in the album view, and the catalog says it is not current', async () => {
    const { state, apply } = setUp();
    await apply({ type: 'asset', asset: base });
    await apply({ type: 'asset', asset: edited('a2', 'E1') });
    await apply({ type: 'assetOnly', change: reverted });

    const entry = await state.getEntry(ref);
    expect(entry?.assetChangeTag).toBe('a9');
    // The edit's object stays (keep), but nothing presents it as the photo's current edit.
    expect(entry === undefined ? undefined : viewItem(entry)?.versions).toEqual({
      original: entry?.versions[0]?.key,
    });
    expect(catalogEdits(entry)).toEqual([{ key: 'library/2023/2023-11-14/p-edited.JPG', current: false }]);
  });

  it('an edit made after a revert is the current one again', async () => {
    const { state, apply } = setUp();
    await apply({ type: 'asset', asset: base });
    await apply({ type: 'asset', asset: edited('a2', 'E1') });
    await apply({ type: 'assetOnly', change: reverted });
    await apply({ type: 'asset', asset: edited('a10', 'E2') });

    const entry = await state.getEntry(ref);
    expect(entry === undefined ? undefined : viewItem(entry)?.versions['adjusted']).toBe(
      'library/2023/2023-11-14/p-edited-2.JPG',
    );
    expect(catalogEdits(entry)).toEqual([
      { key: 'library/2023/2023-11-14/p-edited.JPG', current: false },
      { key: 'library/2023/2023-11-14/p-edited-2.JPG', current: true },
    ]);
  });

  it('a favourite on an edited photo keeps its edit current', async () => {
    const { state, apply } = setUp();
    await apply({ type: 'asset', asset: edited('a2', 'E1') });
    const [, edit] = edited('a2', 'E1').versions;
    await apply({
      type: 'assetOnly',
      change: {
        ...reverted,
        assetChangeTag: 'a3',
        isFavorite: true,
        versions: edit === undefined ? [] : [edit],
      },
    });

    const entry = await state.getEntry(ref);
    expect({ favourite: entry?.flags.isFavorite, edits: catalogEdits(entry) }).toEqual({
      favourite: true,
      edits: [{ key: 'library/2023/2023-11-14/p-edited.JPG', current: true }],
    });
  });
});
