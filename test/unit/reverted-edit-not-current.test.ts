/**
 * Audit 13 (a photo's life): an edit reverted in Photos. docs/archive-layout.md §5: "nothing is
 * deleted; the manifest shows no current edit". The album view must not name the reverted edit as
 * the photo's `adjusted` object.
 */
import { describe, expect, it } from 'vitest';
import { viewItem } from '#domain/albums/album-view.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset, AssetOnlyChange } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const T0 = 1_750_000_000_000;
const base = photoAsset('p', 200);
const ref = { zone: base.zone, assetRecordName: base.assetRecordName };

const message = (issuedAt: number, items: WorkMessage['items']): WorkMessage => ({
  v: WORK_MESSAGE_VERSION,
  runId: `run-${issuedAt}`,
  issuedAt,
  items,
});

describe('audit13: an edit reverted', () => {
  it('leaves no current edit in the album view', async () => {
    const state = new InMemorySyncStateStore({ now: () => T0 });
    const cdn = new ScriptedCdn();
    cdn.files.set(base.versions[0]?.downloadUrl ?? '', jpegBytes(200, 3));
    cdn.files.set('https://cdn.test/E1', jpegBytes(100, 11));
    const deps: ArchiveDeps = {
      state,
      objects: new InMemoryObjectStore({ now: () => T0 }),
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => T0,
    };
    const edited: Asset = {
      ...base,
      assetChangeTag: 'a2',
      adjustmentType: 'com.apple.photo',
      versions: [
        ...base.versions,
        {
          kind: 'adjusted',
          resourceField: 'resJPEGFullRes',
          size: 100,
          fileChecksum: 'E1',
          uti: 'public.jpeg',
          downloadUrl: 'https://cdn.test/E1',
        },
      ],
    };
    const reverted: AssetOnlyChange = {
      zone: base.zone,
      assetRecordName: base.assetRecordName,
      masterRecordName: base.masterRecordName,
      assetChangeTag: 'a3',
      isFavorite: false,
      isHidden: false,
      isDeleted: false,
      isExpunged: false,
      versions: [],
    };
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    await processWorkMessage(deps, message(T0 + 1, [{ type: 'asset', asset: edited }]));
    await processWorkMessage(deps, message(T0 + 2, [{ type: 'assetOnly', change: reverted }]));

    const entry = await state.getEntry(ref);
    expect(entry?.assetChangeTag).toBe('a3');
    // The edit's object stays (keep), but nothing presents it as the photo's current edit.
    expect(entry === undefined ? undefined : viewItem(entry)?.versions).toEqual({
      original: entry?.versions[0]?.key,
    });
  });
});
