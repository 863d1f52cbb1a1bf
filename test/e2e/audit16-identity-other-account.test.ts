/**
 * AUDIT 16 (scratch, evidence): `login` with ANOTHER Apple ID over an existing archive.
 *
 * Account A (the simulator's owner) is archived; then the same session file is signed in as
 * account B (the member, who has a library of their own); then `sync` runs again on the same
 * archive, under `keep` and under `mirror`. A person who did that by mistake (or on purpose, to
 * archive a spouse's library) expects a clear refusal or a separate place, never A's photos marked
 * purged, deleted, or B's photos mixed into A's folders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncStopReason } from '#cli/io/sync-stop.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import {
  type ArchiveSnapshot,
  type PipelineHarness,
  startPipelineHarness,
} from '#test/helpers/pipeline-harness.ts';

const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 1000 };
const KEEP: DeletePolicy = { mode: 'keep', maxDeleteFraction: 0.05, maxDeleteCount: 1000 };

async function signInAs(h: PipelineHarness, who: 'owner' | 'member'): Promise<void> {
  const account = who === 'member' ? h.sim.member : { appleId: h.sim.appleId, password: h.sim.password };
  await signInToSimulator({ controlUrl: h.sim.controlUrl, ...account }, h.signedIn.store.path);
}

function changes(before: ArchiveSnapshot, after: ArchiveSnapshot) {
  return {
    markedPurged: after.entries
      .filter((e) => e.status === 'purged' && before.entry(e.assetRecordName)?.status !== 'purged')
      .map((e) => e.assetRecordName),
    deletedKeys: before.objects.map((o) => o.key).filter((k) => after.object(k) === undefined),
    newEntries: after.entries.filter((e) => before.entry(e.assetRecordName) === undefined),
  };
}

describe("keep: another Apple ID signed in over A's archive", () => {
  let h: PipelineHarness;
  let a: ArchiveSnapshot;
  beforeAll(async () => {
    h = await startPipelineHarness({ assets: 40, seed: 161 });
    await h.mutate({ op: 'add', kind: 'photo', count: 6, contributor: 'member' });
    expect((await h.sync({ deletePolicy: KEEP })).outcome).toBe('succeeded');
    a = await h.snapshot();
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
  });

  it("refuses (or keeps B apart) instead of marking A's photos purged and mixing B's in", async () => {
    await signInAs(h, 'member');
    const summary = await h.sync({ deletePolicy: KEEP });
    const c = changes(a, await h.snapshot());
    console.log(
      'AUDIT16 keep/B:',
      JSON.stringify({
        outcome: summary.outcome,
        purgedKept: summary.assets.purgedKept,
        archived: summary.assets.archived,
        aEntries: a.entries.length,
        aMarkedPurged: c.markedPurged.length,
        bMixedIn: c.newEntries.flatMap((e) => e.versions.map((v) => v.key)),
      }),
    );
    expect(summary.outcome, 'the sync on another account').not.toBe('succeeded');
    expect(c.markedPurged.length, "A's photos recorded as purged by iCloud").toBe(0);
    expect(c.newEntries.length, "B's photos mixed into A's manifest and folders").toBe(0);
  }, 240_000);

  it('back on A, the archive says what it said before the detour', async () => {
    await signInAs(h, 'owner');
    const summary = await h.sync({ deletePolicy: KEEP });
    const now = await h.snapshot();
    const wrong = a.entries
      .filter((e) => now.entry(e.assetRecordName)?.status !== e.status)
      .map((e) => `${e.assetRecordName}: ${e.status} -> ${now.entry(e.assetRecordName)?.status}`);
    console.log(
      'AUDIT16 keep/back-to-A:',
      JSON.stringify({ outcome: summary.outcome, wrong: wrong.length, sample: wrong.slice(0, 3) }),
    );
    expect(wrong, "A's entries whose status the detour changed for good").toEqual([]);
  }, 240_000);
});

describe("mirror: another Apple ID signed in over A's archive", () => {
  let h: PipelineHarness;
  let a: ArchiveSnapshot;
  beforeAll(async () => {
    h = await startPipelineHarness({ assets: 40, seed: 162 });
    await h.mutate({ op: 'add', kind: 'photo', count: 6, contributor: 'member' });
    expect((await h.sync({ deletePolicy: MIRROR })).outcome).toBe('succeeded');
    a = await h.snapshot();
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('the stop says another account is signed in (not "check what was purged in iCloud")', async () => {
    await signInAs(h, 'member');
    const summary = await h.sync({ deletePolicy: MIRROR });
    const c = changes(a, await h.snapshot());
    const stop = syncStopReason(summary);
    console.log(
      'AUDIT16 mirror/B:',
      JSON.stringify({
        outcome: summary.outcome,
        refused: summary.deletionRefused,
        stop,
        bMixedIn: c.newEntries.flatMap((e) => e.versions.map((v) => v.key)),
      }),
    );
    expect(c.deletedKeys).toEqual([]);
    expect(c.newEntries.length, "B's photos mixed into A's manifest and folders").toBe(0);
    expect(`${stop?.message} ${stop?.hint}`, 'the stop names the real cause').toMatch(/account|Apple ID/i);
  }, 240_000);

  it("following the stop's own hint (a higher --max-delete-fraction) deletes account A's archive", async () => {
    const summary = await h.sync({ deletePolicy: { ...MIRROR, maxDeleteFraction: 1 } });
    const c = changes(a, await h.snapshot());
    console.log(
      'AUDIT16 mirror/hint-followed:',
      JSON.stringify({
        outcome: summary.outcome,
        deleted: summary.assets.deleted,
        aObjects: a.objects.length,
        aObjectsDeleted: c.deletedKeys.length,
      }),
    );
    expect(c.deletedKeys.length, 'objects of account A deleted').toBe(0);
  }, 240_000);
});

describe('mirror: a person who signed in as B by mistake signs in as A again', () => {
  let h: PipelineHarness;
  let a: ArchiveSnapshot;
  beforeAll(async () => {
    h = await startPipelineHarness({ assets: 40, seed: 167 });
    await h.mutate({ op: 'add', kind: 'photo', count: 6, contributor: 'member' });
    expect((await h.sync({ deletePolicy: MIRROR })).outcome).toBe('succeeded');
    a = await h.snapshot();
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('the archive goes on as before the detour', async () => {
    await signInAs(h, 'member');
    const onB = await h.sync({ deletePolicy: MIRROR });
    await signInAs(h, 'owner');
    const backOnA = await h.sync({ deletePolicy: MIRROR });
    const next = await h.sync({ deletePolicy: MIRROR });
    const c = changes(a, await h.snapshot());
    console.log(
      'AUDIT16 mirror/back-to-A:',
      JSON.stringify({
        onB: onB.outcome,
        backOnA: backOnA.outcome,
        backOnAStop: syncStopReason(backOnA)?.message,
        next: next.outcome,
        nextStop: syncStopReason(next)?.message,
        nextRefused: next.deletionRefused,
        aObjectsDeleted: c.deletedKeys.length,
        bEntriesLeft: c.newEntries.filter((e) => e.status !== 'purged').length,
      }),
    );
    expect(c.deletedKeys).toEqual([]);
    expect(backOnA.outcome, 'the first run back on A').toBe('succeeded');
    expect(next.outcome, 'the second run back on A').not.toBe('deletionRefused');
  }, 300_000);
});
