/**
 * Issue 11, item 3: one master backs an asset in PrimarySync and one in the Shared Library, and
 * two workers archive them at once. The object must be stored once, downloaded once, and counted
 * once; the worker that lost the race adopts the winner's object, and takes over when the winner
 * died holding the claim.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { ConflictError, classifyError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const SHARED_LIBRARY: ZoneRef = {
  database: 'private',
  zoneName: 'SharedSync-00000000-1111-4222-8333-444444444444',
};

/** Two workers over one state table and one bucket, each with its own CDN connection. */
function twoWorkers(clock: { now: number }) {
  const state = new InMemorySyncStateStore({ now: () => clock.now });
  const objects = new InMemoryObjectStore({ now: () => clock.now, partSize: MIN_PART_SIZE });
  const worker = (cdn: ScriptedCdn): ArchiveDeps => ({
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => clock.now,
    // A millisecond for each pause it asks for: the test's clock moves only when the test says.
    sleep: (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1)),
  });
  return { state, objects, worker };
}

/** A CDN answer whose bytes flow only when the test says so. */
function heldBody(bytes: Buffer) {
  const body = new PassThrough();
  return { body, release: () => body.end(bytes) };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('the condition never held');
}

describe('a master archived by two workers at once (PrimarySync and the Shared Library)', () => {
  const mine = photoAsset('shared', 200);
  const sharedCopy: Asset = { ...mine, zone: SHARED_LIBRARY, assetRecordName: 'asset-shared-in-library' };
  const bytes = jpegBytes(200, 3);
  const url = mine.versions[0]?.downloadUrl ?? '';

  it('downloads and stores the object once; the second worker adopts it and counts nothing', async () => {
    const clock = { now: 1_750_000_000_000 };
    const { state, objects, worker } = twoWorkers(clock);
    const cdnA = new ScriptedCdn();
    const cdnB = new ScriptedCdn();
    const held = heldBody(bytes);
    cdnA.files.set(url, () => held.body);
    cdnB.files.set(url, bytes);

    // Worker A is mid-download when worker B reaches the same master.
    const a = archiveCounted(worker(cdnA), mine);
    await until(() => cdnA.opened.length === 1);
    const b = archiveCounted(worker(cdnB), sharedCopy);
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    held.release();
    const [resultA, resultB] = await Promise.all([a, b]);

    expect(cdnA.opened.length + cdnB.opened.length).toBe(1);
    expect(objects.keys()).toHaveLength(1);
    expect(resultA.versionsArchived + resultB.versionsArchived).toBe(1);
    expect(resultA.bytesArchived + resultB.bytesArchived).toBe(200);
    expect([resultA.outcome, resultB.outcome]).toEqual(['archived', 'archived']);
    expect(resultB.entry?.versions.map((v) => v.key)).toEqual(resultA.entry?.versions.map((v) => v.key));
    expect(await state.getCounters()).toEqual({ objects: 1, bytes: 200 });
  });

  it('takes over the download when the worker holding the claim died and its lease ran out', async () => {
    const clock = { now: 1_750_000_000_000 };
    const { objects, worker } = twoWorkers(clock);
    const cdnA = new ScriptedCdn();
    const cdnB = new ScriptedCdn();
    // Worker A's download never ends: it died with the claim.
    cdnA.files.set(url, () => new PassThrough());
    cdnB.files.set(url, bytes);
    void archiveCounted(worker(cdnA), mine).catch(() => undefined);
    await until(() => cdnA.opened.length === 1);

    const b = archiveCounted(worker(cdnB), sharedCopy);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(cdnB.opened).toHaveLength(0);
    clock.now += 10 * 60 * 1000;
    const result = await b;

    expect(cdnB.opened).toHaveLength(1);
    expect(result.versionsArchived).toBe(1);
    expect(objects.keys()).toHaveLength(1);
  });

  it('hands the message back (a retryable conflict) rather than wait forever for a live holder', async () => {
    const clock = { now: 1_750_000_000_000 };
    const { worker } = twoWorkers(clock);
    const cdnA = new ScriptedCdn();
    const cdnB = new ScriptedCdn();
    const stuck = new PassThrough();
    cdnA.files.set(url, () => stuck);
    cdnB.files.set(url, bytes);
    const a = archiveCounted(worker(cdnA), mine).catch((error: unknown) => error);
    await until(() => cdnA.opened.length === 1);

    const b = archiveCounted(worker(cdnB), sharedCopy);

    await expect(b).rejects.toBeInstanceOf(ConflictError);
    expect(classifyError(await b.catch((error: unknown) => error))).toBe('retryable');
    expect(cdnB.opened).toHaveLength(0);
    stuck.destroy(new Error('the test ends the stuck download'));
    await a;
  });
});
