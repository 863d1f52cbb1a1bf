/**
 * A photo in Recently Deleted when the archive first meets it is archived (as `trashed`): iCloud
 * still serves it for 30 days, and after Apple purges it only the archive has it. The day this
 * matters: photos deleted (by a person, a child, a device, a sync bug) before the first sync
 * reached them (a first sync of a large library takes days; in AWS an old message's worker looks
 * the photo up again and sees it trashed), with DELETE_POLICY=keep counted on as the backup.
 * `verify` expects Recently Deleted photos archived and reports one that is not.
 * Found by the session 15 audit (restore day); docs/reliability.md (the finding on Recently Deleted).
 */
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalArchive } from '#compose/archive-access.ts';
import type { SyncSummary } from '#local/local-sync.ts';
import {
  type PipelineHarness,
  startPipelineHarness,
  type TruthAssetDetail,
} from '#test/helpers/pipeline-harness.ts';
import { runCli } from '#test/helpers/run-cli.ts';

let h: PipelineHarness;
let kept: TruthAssetDetail;
let deleted: TruthAssetDetail;
let plan: SyncSummary;
let first: SyncSummary;
const originalOf = (asset: TruthAssetDetail) =>
  asset.versions.find((v) => v.kind === 'original')?.sha256 ?? '';

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 4, seed: 1507 });
  const added = await h.mutate({ op: 'add', kind: 'photo', count: 2 });
  const [a, b] = added.assets;
  if (a === undefined || b === undefined) throw new Error('the simulator added no photo');
  kept = a;
  deleted = b;
  await h.mutate({ op: 'trash', assetRecordName: deleted.assetRecordName });
  plan = await h.sync({ dryRun: true });
  first = await h.sync();
  expect(first.outcome).toBe('succeeded');
}, 180_000);

afterAll(async () => {
  await h?.stop();
});

describe('a photo trashed before the archive first saw it', () => {
  it('is archived on the first sync while iCloud still serves it', async () => {
    const snapshot = await h.snapshot();
    // The untouched photo of the same add is archived: the comparison below is about the trash alone.
    expect(snapshot.digests.has(originalOf(kept))).toBe(true);
    expect({ trashedArchived: snapshot.digests.has(originalOf(deleted)) }).toEqual({ trashedArchived: true });
  });

  it('is recorded as trashed (the catalog says Recently Deleted; album views leave it out)', async () => {
    const snapshot = await h.snapshot();
    const entry = snapshot.entry(deleted.assetRecordName);
    expect({ status: entry?.status, isDeleted: entry?.flags.isDeleted }).toEqual({
      status: 'trashed',
      isDeleted: true,
    });
  });

  it('is planned by the dry run as the run archives it, and counted trashed by status', async () => {
    expect({ planned: plan.assets.archived }).toEqual({ planned: first.assets.archived });
    const status = await runCli(['status', '--local', h.dataDir, '--json']);
    const report = JSON.parse(status.stdout) as { manifest: { byStatus: { trashed: number } } };
    expect(report.manifest.byStatus.trashed).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('is reported by verify when it is not archived', async () => {
    // The archive as an earlier run might leave it: the trashed photo's objects gone.
    const entry = (await h.snapshot()).entry(deleted.assetRecordName);
    const access = await openLocalArchive(h.dataDir);
    try {
      for (const version of entry?.versions ?? []) await access.objects.delete(version.key);
    } finally {
      await access.close();
    }
    const verify = (...extra: string[]) =>
      runCli([
        'verify',
        '--local',
        h.dataDir,
        '--endpoint',
        h.sim.controlUrl,
        '--session-file',
        join(dirname(h.dataDir), 'session.json'),
        '--json',
        ...extra,
      ]);
    const run = await verify();
    const report = JSON.parse(run.stdout) as { missing?: unknown[] };
    expect({ exitCode: run.code, missing: report.missing?.length ?? 0 }).not.toEqual({
      exitCode: 0,
      missing: 0,
    });
    // And `--repair` stores it again while iCloud still serves it.
    await verify('--repair');
    expect((await h.snapshot()).digests.has(originalOf(deleted))).toBe(true);
  }, 180_000);

  it('survives its purge under the default keep policy', async () => {
    await h.mutate({ op: 'purge', assetRecordName: deleted.assetRecordName });
    const second = await h.sync();
    expect(second.outcome).toBe('succeeded');
    const snapshot = await h.snapshot();
    expect({ purgedStillInArchive: snapshot.digests.has(originalOf(deleted)) }).toEqual({
      purgedStillInArchive: true,
    });
  }, 120_000);
});
