/**
 * Another Apple ID signed in over an archive (reliability finding "another Apple ID's session").
 *
 * Account A (the simulator's owner) is archived; then the same session file is signed in as
 * account B (the member, who has a library of their own: "log in as my spouse, sync" with the
 * default session file), then `sync` runs again on A's archive. The run is refused before any
 * request to the library or any write: A's photos are not marked purged, none is deleted (even
 * with the mirror limit raised), none of B's is mixed in; back on A, the archive goes on as
 * before. An archive made by a release that recorded no account adopts the account of its first
 * run under this one.
 */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportError } from '#cli/io/error-report.ts';
import { EXIT } from '#cli/io/exit-codes.ts';
import { LOCAL_RESOURCES, openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { OTHER_ACCOUNT } from '#domain/account/archive-owner.ts';
import { AccountConditionError } from '#domain/errors.ts';
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

/** The run's refusal (the sync must throw it). */
async function refusal(run: Promise<unknown>): Promise<AccountConditionError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the sync on another account').toBeInstanceOf(AccountConditionError);
  return error as AccountConditionError;
}

/** What the detour changed: statuses, objects, entries. */
function changes(before: ArchiveSnapshot, after: ArchiveSnapshot) {
  return {
    statusChanged: before.entries
      .filter((e) => after.entry(e.assetRecordName)?.status !== e.status)
      .map((e) => `${e.assetRecordName}: ${e.status} -> ${after.entry(e.assetRecordName)?.status}`),
    deletedKeys: before.objects.map((o) => o.key).filter((k) => after.object(k) === undefined),
    newEntries: after.entries.filter((e) => before.entry(e.assetRecordName) === undefined).length,
    newObjects: after.objects.filter((o) => before.object(o.key) === undefined).length,
  };
}

const NOTHING = { statusChanged: [], deletedKeys: [], newEntries: 0, newObjects: 0 };

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

  it('refuses the run: nothing marked purged, nothing of B mixed in, a clear account error (exit 4)', async () => {
    await signInAs(h, 'member');
    const error = await refusal(h.sync({ deletePolicy: KEEP }));
    expect(error.condition).toBe(OTHER_ACCOUNT);
    const report = reportError(error);
    expect(report.exitCode).toBe(EXIT.accountCondition);
    expect(report.code).toBe('account-refused');
    expect(`${report.message} ${report.hint}`).toMatch(/Apple ID/);
    // Both accounts named masked, never in full.
    expect(report.message).not.toContain(h.sim.appleId);
    expect(report.message).not.toContain(h.sim.member.appleId);
    expect(changes(a, await h.snapshot())).toEqual(NOTHING);
    // A dry run would show A's photos as purged: refused too.
    expect((await refusal(h.sync({ deletePolicy: KEEP, dryRun: true }))).condition).toBe(OTHER_ACCOUNT);
  }, 240_000);

  it('back on A, the archive goes on as before the detour', async () => {
    await signInAs(h, 'owner');
    const summary = await h.sync({ deletePolicy: KEEP });
    expect(['idle', 'succeeded']).toContain(summary.outcome);
    expect(changes(a, await h.snapshot())).toEqual(NOTHING);
  }, 240_000);

  it("an archive from a release that recorded no account adopts its first run's, then refuses another", async () => {
    const stack = await openLocalAwsStack({ dataDir: h.dataDir });
    try {
      await stack.clients.dynamodb.send(
        new DeleteItemCommand({
          TableName: LOCAL_RESOURCES.table,
          Key: { pk: { S: 'account' }, sk: { S: 'owner' } },
        }),
      );
    } finally {
      await stack.stop();
    }
    expect(['idle', 'succeeded']).toContain((await h.sync({ deletePolicy: KEEP })).outcome);
    await signInAs(h, 'member');
    expect((await refusal(h.sync({ deletePolicy: KEEP }))).condition).toBe(OTHER_ACCOUNT);
    expect(changes(a, await h.snapshot())).toEqual(NOTHING);
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

  it('refuses the run, and still with the limit raised: nothing of A deleted, nothing of B mixed in', async () => {
    await signInAs(h, 'member');
    expect((await refusal(h.sync({ deletePolicy: MIRROR }))).condition).toBe(OTHER_ACCOUNT);
    expect(changes(a, await h.snapshot())).toEqual(NOTHING);
    const raised = { ...MIRROR, maxDeleteFraction: 1 };
    expect((await refusal(h.sync({ deletePolicy: raised }))).condition).toBe(OTHER_ACCOUNT);
    expect(changes(a, await h.snapshot())).toEqual(NOTHING);
  }, 240_000);

  it('back on A, runs go through (no deletion stop for a detour)', async () => {
    await signInAs(h, 'owner');
    const backOnA = await h.sync({ deletePolicy: MIRROR });
    const next = await h.sync({ deletePolicy: MIRROR });
    expect(['idle', 'succeeded']).toContain(backOnA.outcome);
    expect(['idle', 'succeeded']).toContain(next.outcome);
    expect(changes(a, await h.snapshot())).toEqual(NOTHING);
  }, 240_000);
});
