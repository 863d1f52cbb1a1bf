/**
 * Two assets of one master (an iOS Duplicate) share the original's object. A worker records its
 * asset among the master's users before it stores or adopts anything and writes the entry after
 * (process-work-message.ts), so the purge of the twin (apply-change.ts, mirror) must take a user
 * without an entry yet as one that will list every object of the master: it keeps them all. A
 * user whose entry never comes (its worker died) leaves the object in the bucket, unlisted, for
 * `verify` to report: the safe side.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { ObjectHead } from '#ports/object-store.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;

/** Runs `during` once, right after a HEAD found `key` (the object was there). */
class HeadThenElsewhere extends InMemoryObjectStore {
  key = '';
  during: (() => Promise<unknown>) | undefined;
  override async head(key: string): Promise<ObjectHead | undefined> {
    const head = await super.head(key);
    const during = key === this.key && head !== undefined ? this.during : undefined;
    if (during !== undefined) {
      this.during = undefined;
      await during();
    }
    return head;
  }
}

/** One archived photo under `mirror`, its object's key, and a Duplicate of it (same master, same file). */
async function archivedWithDuplicate() {
  const state = new InMemorySyncStateStore({ now: () => NOW });
  const objects = new HeadThenElsewhere({ now: () => NOW, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'mirror',
    now: () => NOW,
  };
  const original = photoAsset('one', 40);
  cdn.files.set(original.versions[0]?.downloadUrl ?? '', jpegBytes(40, 1));
  await archiveCounted(deps, original);
  const [key = ''] = objects.keys();
  const duplicate = { ...original, assetRecordName: 'asset-one-duplicate' };
  const purgeOriginal = () =>
    processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'purge',
      issuedAt: NOW,
      items: [
        { type: 'tombstone', zone: ZONE, recordName: original.assetRecordName, inferredType: 'CPLAsset' },
      ],
    });
  return { deps, state, objects, original, key, duplicate, purgeOriginal };
}

describe('a mirror purge and a Duplicate whose worker has not written its entry yet', () => {
  it('keeps the object the Duplicate is about to record', async () => {
    const { deps, state, objects, original, key, duplicate, purgeOriginal } = await archivedWithDuplicate();
    objects.key = key;
    let usersWhenFound: string[] = [];
    // The twin is purged once the Duplicate's worker has found the object, before its entry.
    objects.during = async () => {
      usersWhenFound = (await state.masterUsers(original.masterRecordName))
        .map((u) => u.assetRecordName)
        .sort();
      await purgeOriginal();
    };
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'dup',
      issuedAt: NOW,
      items: [{ type: 'asset', asset: duplicate }],
    };

    await processWorkMessage(deps, message);

    const entry = await state.getEntry({ zone: ZONE, assetRecordName: duplicate.assetRecordName });
    const listed = (entry?.versions ?? []).map((v) => v.key);
    expect(usersWhenFound).toEqual([duplicate.assetRecordName, original.assetRecordName].sort());
    expect({ listed, missing: listed.filter((k) => !objects.keys().includes(k)) }).toEqual({
      listed: [key],
      missing: [],
    });
    const purged = await state.getEntry({ zone: ZONE, assetRecordName: original.assetRecordName });
    expect({ status: purged?.status, deletions: purged?.deletions }).toEqual({
      status: 'purged',
      deletions: [],
    });
  });

  it('leaves the object in the bucket when that entry never comes (its worker died)', async () => {
    const { state, objects, original, key, duplicate, purgeOriginal } = await archivedWithDuplicate();
    await state.addMasterUser(original.masterRecordName, {
      zone: ZONE,
      assetRecordName: duplicate.assetRecordName,
    });

    await purgeOriginal();

    const purged = await state.getEntry({ zone: ZONE, assetRecordName: original.assetRecordName });
    expect({ status: purged?.status, objects: objects.keys() }).toEqual({ status: 'purged', objects: [key] });
  });
});
