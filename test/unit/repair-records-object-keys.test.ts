/**
 * `verify --repair` records where each archived object is (`objectKey#<objectId>`, docs/state.md
 * "One download per object") for objects archived by a release from before those items
 * (docs/reliability.md finding 29): without one, an object reached only through an asset whose
 * date was corrected since is stored a second time.
 */
import { describe, expect, it } from 'vitest';
import { runRepair } from '#app/repair.ts';
import { runVerify } from '#app/verify.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { objectIdOf } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const NOW = 1_750_000_000_000;
const KEY = 'library/2023/2023-11-14/p.JPG';
const SHARED = {
  database: 'private',
  zoneName: 'SharedSync-00000000-1111-4222-8333-444444444444',
} as const;
const base = photoAsset('p', 200);
const ORIGINAL = objectIdOf(base.masterRecordName, 'original', base.versions[0]?.fileChecksum ?? '');

const messageOf = (...assets: Asset[]): WorkMessage => ({
  v: WORK_MESSAGE_VERSION,
  runId: 'r',
  issuedAt: NOW,
  items: assets.map((asset) => ({ type: 'asset' as const, asset })),
});

/** The photo's Shared Library copy, its date corrected to 2019 since it was archived. */
const correctedCopy: Asset = {
  ...base,
  assetRecordName: 'asset-p-shared',
  zone: SHARED,
  captureTime: Date.UTC(2019, 4, 1),
};

/** An archive of `base` as a release from before the `objectKey` items left it: no item. */
async function archivedByAnOlderRelease() {
  const state = new InMemorySyncStateStore({ now: () => NOW });
  const objects = new InMemoryObjectStore({ now: () => NOW });
  const cdn = new ScriptedCdn();
  cdn.files.set(base.versions[0]?.downloadUrl ?? '', jpegBytes(200, 3));
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => NOW,
  };
  await processWorkMessage(deps, messageOf(base));
  await state.forgetObjectKey(ORIGINAL, KEY);
  expect(await state.recordedKey(ORIGINAL)).toBeUndefined();
  return { deps, state, objects };
}

async function repair(state: InMemorySyncStateStore, objects: InMemoryObjectStore) {
  const { report } = await runVerify(
    { state, objects, versionPolicy: DEFAULT_VERSION_POLICY },
    { deep: false, etagsAreMd5: true },
  );
  return runRepair(
    {
      state,
      objects,
      queue: new InMemoryWorkQueue(),
      icloud: async () => {
        throw new Error('nothing to look up');
      },
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: DEFAULT_DELETE_POLICY,
      now: () => NOW,
    },
    report,
  );
}

describe('verify --repair after an upgrade from a release without objectKey items', () => {
  it('without it, a copy whose date was corrected stores the object a second time', async () => {
    const { deps, objects } = await archivedByAnOlderRelease();

    await processWorkMessage(deps, messageOf(correctedCopy));

    expect(objects.keys()).toEqual(['library/2019/2019-05-01/p.JPG', KEY]);
  });

  it('records where each archived object is, so the corrected copy adopts it', async () => {
    const { deps, state, objects } = await archivedByAnOlderRelease();

    const outcome = await repair(state, objects);
    await processWorkMessage(deps, messageOf(correctedCopy));

    expect(objects.keys()).toEqual([KEY]);
    const copy = await state.getEntry({ zone: SHARED, assetRecordName: 'asset-p-shared' });
    expect(copy?.versions.map((v) => v.key)).toEqual([KEY]);
    expect(outcome.objectKeysRecorded).toBe(1);
    expect(await state.recordedKey(ORIGINAL)).toBe(KEY);
  });

  it('records each once: a second repair writes nothing', async () => {
    const { state, objects } = await archivedByAnOlderRelease();
    await repair(state, objects);

    const again = await repair(state, objects);

    expect(again.objectKeysRecorded).toBe(0);
    expect(await state.recordedKey(ORIGINAL)).toBe(KEY);
  });

  it('leaves an item a worker wrote meanwhile as it is', async () => {
    const { state, objects } = await archivedByAnOlderRelease();
    // A claim that won the object at another key (a name twin's suffixed one) recorded it first.
    await state.putObjectKey(ORIGINAL, 'library/2023/2023-11-14/p_x.JPG');

    const outcome = await repair(state, objects);

    expect(outcome.objectKeysRecorded).toBe(0);
    expect(await state.recordedKey(ORIGINAL)).toBe('library/2023/2023-11-14/p_x.JPG');
  });
});
