/**
 * An archive synced once, then 400 days without a successful run while
 * the library changes (photos added, trashed and purged by the 30-day window meanwhile, purged at
 * once, a photo purged and a new one added under the same file name, a favourite, an edit), the
 * stored sync tokens refused as expired, the session expired. A fresh login, then ordinary runs:
 * the archive must end equal to the library (`verify` clean), under `mirror`.
 * First written by the long-absence audit (2026-12-07; docs/reliability.md findings 116-119 came
 * from the same audit): one reauthRequired run, then succeeded, idle x3, verify ok (48 live assets,
 * 50 objects); the run after the login cost 26 CDN downloads, nothing archived fetched again.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { cdnRequests, type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.5, maxDeleteCount: 1000 };

let h: PipelineHarness;

function verify(): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'verify',
        '--local',
        h.dataDir,
        '--endpoint',
        h.sim.controlUrl,
        '--session-file',
        join(dirname(h.dataDir), 'session.json'),
        '--json',
      ],
      { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout });
      },
    );
  });
}

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 30, seed: 1616 });
  const first = await h.sync({ deletePolicy: MIRROR });
  expect(first.outcome).toBe('succeeded');
  expect((await verify()).code).toBe(0);
}, 240_000);

afterAll(async () => {
  await h?.stop();
});

describe('400 days without a run, then a login', () => {
  it('ends with the archive equal to the library', async () => {
    const before = (await h.truth()).filter((a) => !a.isDeleted && a.zoneOwner === 'owner');
    await h.mutate({ op: 'add', kind: 'photo', count: 25 });
    const [t1, t2, t3, p1, p2, same, fav, edit] = before;
    for (const a of [t1, t2, t3]) await h.mutate({ op: 'trash', assetRecordName: a?.assetRecordName });
    for (const a of [p1, p2]) await h.mutate({ op: 'purge', assetRecordName: a?.assetRecordName });
    await h.mutate({ op: 'purge', assetRecordName: same?.assetRecordName });
    await h.mutate({ op: 'add', kind: 'photo', fileName: same?.fileName });
    await h.mutate({ op: 'favorite', assetRecordName: fav?.assetRecordName });
    await h.mutate({ op: 'edit', assetRecordName: edit?.assetRecordName });
    await h.control.advanceClock({ advanceDays: 400 });
    const tokens = (await h.snapshot()).zones
      .map((z) => z.syncToken)
      .filter((t): t is string => t !== undefined);
    await h.control.quirks({ expiredTokens: tokens });

    const stopped = await h.sync({ deletePolicy: MIRROR });
    await signInToSimulator(h.sim, join(dirname(h.dataDir), 'session.json'));
    const back = await h.measuredSync({ deletePolicy: MIRROR });
    const outcomes: string[] = [back.summary.outcome];
    for (let i = 0; i < 3; i += 1) outcomes.push((await h.sync({ deletePolicy: MIRROR })).outcome);

    const checked = await verify();
    const snap = await h.snapshot();
    const truth = (await h.truth()).filter((a) => a.zoneOwner === 'owner');
    const live = truth.filter((a) => !a.isDeleted);
    const missing = live
      .filter((a) => snap.entry(a.assetRecordName)?.status !== 'archived')
      .map((a) => `${a.assetRecordName}:${snap.entry(a.assetRecordName)?.status}`);
    expect(stopped.outcome).toBe('reauthRequired');
    expect(outcomes[0]).toBe('succeeded');
    // Cheap: only the 26 new photos and the edit are downloaded, nothing already archived.
    expect(cdnRequests(back.stats)).toBeLessThanOrEqual(30);
    expect(outcomes.slice(1)).toEqual(['idle', 'idle', 'idle']);
    expect(missing).toEqual([]);
    expect(checked.code, checked.stdout.slice(0, 3000)).toBe(0);
  }, 400_000);
});
