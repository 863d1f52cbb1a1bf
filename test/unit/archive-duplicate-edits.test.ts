/**
 * Assets that share one master (iOS Duplicates; a photo and its Shared Library copy,
 * docs/protocol/records.md#cross-zone-identity), each with edits of its own: every edit is an
 * object of its own under a key of its own, however many assets share the master, and the keys
 * the common cases always had stay where they are (archives are never re-keyed).
 */
import { describe, expect, it } from 'vitest';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Asset, AssetVersion } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { identitySuffix } from '#domain/plan/object-key.ts';
import { objectIdOf } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;
const FOLDER = 'library/2023/2023-11-14';
const base = photoAsset('p', 200);
const MASTER = identitySuffix(base.masterRecordName);

function setUp(now: () => number = () => NOW) {
  const state = new InMemorySyncStateStore({ now });
  const objects = new InMemoryObjectStore({ now });
  const cdn = new ScriptedCdn();
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now,
  };
  cdn.files.set(base.versions[0]?.downloadUrl ?? '', jpegBytes(200, 3));
  return { deps, state, objects, cdn };
}

/** The asset `name` of master `p` (the first is `base`'s own record) with its edits so far. */
function copyOf(name: string, ...edits: string[]): Asset {
  const adjusted = edits.at(-1);
  return {
    ...base,
    assetRecordName: name,
    assetChangeTag: `a${edits.length}`,
    versions: adjusted === undefined ? base.versions : [...base.versions, editOf(adjusted)],
  };
}

function editOf(checksum: string): AssetVersion {
  return {
    kind: 'adjusted',
    resourceField: 'resJPEGFullRes',
    size: 100,
    fileChecksum: checksum,
    uti: 'public.jpeg',
    downloadUrl: `https://cdn.test/${checksum}`,
  };
}

function serveEdits(cdn: ScriptedCdn, ...checksums: string[]): void {
  for (const c of checksums) cdn.files.set(`https://cdn.test/${c}`, jpegBytes(100, c.charCodeAt(0)));
}

const editKeys = (entry: { versions: readonly { kind: string; key: string }[] } | undefined) =>
  entry?.versions.filter((v) => v.kind === 'adjusted').map((v) => v.key);

/** The key a clash of both usual candidates gets: the name with the edit's own identity. */
const ownKey = (checksum: string, marker = '-edited') =>
  `${FOLDER}/p${identitySuffix(objectIdOf(base.masterRecordName, 'adjusted', checksum))}${marker}.JPG`;

describe('duplicates of one master, each edited differently', () => {
  it('archives every edit under a key of its own, the first two where they always were', async () => {
    const { deps, objects, cdn } = setUp();
    serveEdits(cdn, 'X', 'Z', 'W', 'V');
    const a = await archiveCounted(deps, copyOf(base.assetRecordName, 'X'));
    const d1 = await archiveCounted(deps, copyOf('dup1', 'Z'));
    const d2 = await archiveCounted(deps, copyOf('dup2', 'W'));
    const d3 = await archiveCounted(deps, copyOf('dup3', 'V'));

    expect(a.entry?.versions.map((v) => v.key)).toEqual([`${FOLDER}/p.JPG`, `${FOLDER}/p-edited.JPG`]);
    expect(editKeys(d1.entry)).toEqual([`${FOLDER}/p${MASTER}-edited.JPG`]);
    expect(editKeys(d2.entry)).toEqual([ownKey('W')]);
    expect(editKeys(d3.entry)).toEqual([ownKey('V')]);
    expect(d2.entry?.status).toBe('archived');
    expect(objects.keys()).toHaveLength(5);
    // Again, as a retry or a repair would: the same keys, nothing stored twice.
    expect((await archiveCounted(deps, copyOf('dup2', 'W'))).outcome).toBe('unchanged');
    expect(cdn.opened).toHaveLength(5);
  });

  it('gives each duplicate its second edit too, beside the other duplicates’ second edits', async () => {
    const { deps, objects, cdn } = setUp();
    serveEdits(cdn, 'X', 'Z', 'W', 'X2', 'Z2', 'W2');
    await archiveCounted(deps, copyOf(base.assetRecordName, 'X'));
    await archiveCounted(deps, copyOf('dup1', 'Z'));
    await archiveCounted(deps, copyOf('dup2', 'W'));
    const a = await archiveCounted(deps, copyOf(base.assetRecordName, 'X', 'X2'));
    const d1 = await archiveCounted(deps, copyOf('dup1', 'Z', 'Z2'));
    const d2 = await archiveCounted(deps, copyOf('dup2', 'W', 'W2'));

    expect(editKeys(a.entry)).toEqual([`${FOLDER}/p-edited.JPG`, `${FOLDER}/p-edited-2.JPG`]);
    expect(editKeys(d1.entry)).toEqual([
      `${FOLDER}/p${MASTER}-edited.JPG`,
      `${FOLDER}/p${MASTER}-edited-2.JPG`,
    ]);
    expect(editKeys(d2.entry)).toEqual([ownKey('W'), ownKey('W2', '-edited-2')]);
    expect(objects.keys()).toHaveLength(7);
  });

  it('archives the third Duplicate recorded failed before, as repair queues it again', async () => {
    const { deps, state, cdn } = setUp();
    serveEdits(cdn, 'X', 'Z', 'W');
    await archiveCounted(deps, copyOf(base.assetRecordName, 'X'));
    await archiveCounted(deps, copyOf('dup1', 'Z'));
    // What the "no free key" failure left (process-work-message.ts recordFailure).
    await state.putEntry(
      {
        zone: base.zone,
        assetRecordName: 'dup2',
        masterRecordName: base.masterRecordName,
        assetChangeTag: '',
        status: 'failed',
        flags: { isFavorite: false, isHidden: false, isDeleted: false },
        albums: [],
        versions: [],
        deletions: [],
        failure: { reason: 'no free key for adjusted of asset dup2', at: NOW, attempts: 1 },
      },
      0,
    );

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'repair',
      issuedAt: NOW,
      items: [{ type: 'asset', asset: copyOf('dup2', 'W') }],
    });

    expect(result).toMatchObject({ archived: 1, failed: 0 });
    const entry = await state.getEntry({ zone: base.zone, assetRecordName: 'dup2' });
    expect(entry?.status).toBe('archived');
    expect(editKeys(entry)).toEqual([ownKey('W')]);
  });

  it('archives them all when one work message carries the three', async () => {
    const { deps, objects, cdn } = setUp();
    serveEdits(cdn, 'X', 'Z', 'W');
    const assets = [copyOf(base.assetRecordName, 'X'), copyOf('dup1', 'Z'), copyOf('dup2', 'W')];

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW,
      items: assets.map((asset) => ({ type: 'asset' as const, asset })),
    });

    expect(result).toMatchObject({ archived: 3, failed: 0 });
    expect(objects.keys()).toHaveLength(4);
  });
});

describe('one master reached through a second asset', () => {
  const SHARED = {
    database: 'private',
    zoneName: 'SharedSync-00000000-1111-4222-8333-444444444444',
  } as const;

  it('stores the current edit of a twice-edited photo once when it moves to the Shared Library', async () => {
    const { deps, objects, cdn } = setUp();
    serveEdits(cdn, 'X', 'Y');
    await archiveCounted(deps, copyOf(base.assetRecordName, 'X'));
    await archiveCounted(deps, copyOf(base.assetRecordName, 'X', 'Y'));
    const moved = await archiveCounted(deps, { ...copyOf('asset-p-shared', 'X', 'Y'), zone: SHARED });

    expect(editKeys(moved.entry)).toEqual([`${FOLDER}/p-edited-2.JPG`]);
    expect(objects.keys()).toHaveLength(3);
    expect(cdn.opened).toHaveLength(3);
  });

  it('stores the current edit of a twice-edited photo once for its iOS Duplicate', async () => {
    const { deps, objects, cdn } = setUp();
    serveEdits(cdn, 'X', 'Y');
    await archiveCounted(deps, copyOf(base.assetRecordName, 'X'));
    await archiveCounted(deps, copyOf(base.assetRecordName, 'X', 'Y'));
    const duplicate = await archiveCounted(deps, copyOf('dup1', 'X', 'Y'));

    expect(editKeys(duplicate.entry)).toEqual([`${FOLDER}/p-edited-2.JPG`]);
    expect(objects.keys()).toHaveLength(3);
  });

  // The copy's own date names a key nobody claimed: the object's key item names where it is.
  it('stores the master once when the copy’s date was corrected', async () => {
    const { deps, objects } = setUp();
    await archiveCounted(deps, base);
    await archiveCounted(deps, {
      ...copyOf('asset-p-shared'),
      zone: SHARED,
      captureTime: Date.UTC(2019, 4, 1),
    });

    expect(objects.keys()).toEqual([`${FOLDER}/p.JPG`]);
  });

  /** `asset` as a work message of its own (the path every new asset takes). */
  const messageOf = (...assets: Asset[]): WorkMessage => ({
    v: WORK_MESSAGE_VERSION,
    runId: 'r',
    issuedAt: NOW,
    items: assets.map((asset) => ({ type: 'asset' as const, asset })),
  });
  const corrected = (name: string) => ({
    ...copyOf(name),
    zone: SHARED,
    captureTime: Date.UTC(2019, 4, 1),
  });
  const ORIGINAL = objectIdOf(base.masterRecordName, 'original', base.versions[0]?.fileChecksum ?? '');

  it('stores the master once for a corrected copy and a Duplicate of it, each in a work message', async () => {
    const { deps, state, objects, cdn } = setUp();
    await processWorkMessage(deps, messageOf(base));
    const result = await processWorkMessage(deps, messageOf(corrected('asset-p-shared'), corrected('dup1')));

    expect(result).toMatchObject({ archived: 2, failed: 0, versionsArchived: 0 });
    expect(objects.keys()).toEqual([`${FOLDER}/p.JPG`]);
    expect(cdn.opened).toHaveLength(1);
    const copy = await state.getEntry({ zone: SHARED, assetRecordName: 'asset-p-shared' });
    expect(copy?.versions.map((v) => v.key)).toEqual([`${FOLDER}/p.JPG`]);
  });

  it('records the key of an object claimed before its key was recorded once a claim of it wins again, after a crash in between too', async () => {
    let clock = NOW;
    const { deps, state, objects } = setUp(() => clock);
    // Claimed by an earlier delivery (or version) that died before recording where its object goes.
    await state.claimTransfer(`${FOLDER}/p.JPG`, ORIGINAL, 'dead-worker', 0);
    let dies = true;
    const crashing: ArchiveDeps = {
      ...deps,
      state: new Proxy(state, {
        get(target, property, receiver) {
          if (property === 'putObjectKey' && dies)
            return async () => {
              dies = false;
              throw new UnexpectedResponseError('the process died');
            };
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    };

    await expect(processWorkMessage(crashing, messageOf(base))).rejects.toThrow('the process died');
    expect(objects.keys()).toEqual([]); // recorded before anything is stored
    clock += 5 * 60_000; // the redelivery, once the dead delivery's transfer lease is over
    await processWorkMessage(crashing, messageOf(base));
    expect(await state.recordedKey(ORIGINAL)).toBe(`${FOLDER}/p.JPG`);
    await processWorkMessage(deps, messageOf(corrected('asset-p-shared')));

    expect(objects.keys()).toEqual([`${FOLDER}/p.JPG`]);
  });

  it('forgets the key of an object a mirror purge deleted, so a later copy stores its own', async () => {
    const { deps, state, objects } = setUp();
    const mirror: ArchiveDeps = { ...deps, deletePolicy: 'mirror' };
    await processWorkMessage(mirror, messageOf(base));
    expect(await state.recordedKey(ORIGINAL)).toBe(`${FOLDER}/p.JPG`);

    const purged = await processWorkMessage(mirror, {
      ...messageOf(),
      deleteMode: 'mirror',
      items: [
        { type: 'tombstone', zone: base.zone, recordName: base.assetRecordName, inferredType: 'CPLAsset' },
      ],
    });
    expect(purged).toMatchObject({ purged: 1 });
    expect(objects.keys()).toEqual([]);
    expect(await state.recordedKey(ORIGINAL)).toBeUndefined();
    expect(await state.keyOwner(`${FOLDER}/p.JPG`)).toBeUndefined();

    await processWorkMessage(mirror, messageOf(corrected('asset-p-shared')));
    expect(objects.keys()).toEqual(['library/2019/2019-05-01/p.JPG']);
    expect(await state.recordedKey(ORIGINAL)).toBe('library/2019/2019-05-01/p.JPG');
  });

  it('claims its own key when the recorded one went to another object, and records that one', async () => {
    const { deps, state, objects } = setUp();
    // A purge released the key and died before forgetting it; a name twin took the key since.
    await state.putObjectKey(ORIGINAL, `${FOLDER}/p.JPG`);
    await state.claimKey(`${FOLDER}/p.JPG`, 'twin/original/x');

    const result = await processWorkMessage(deps, messageOf(base));

    expect(result).toMatchObject({ archived: 1, failed: 0 });
    expect(objects.keys()).toEqual([`${FOLDER}/p${MASTER}.JPG`]);
    expect(await state.recordedKey(ORIGINAL)).toBe(`${FOLDER}/p${MASTER}.JPG`);
  });
});
