/**
 * `sync` reads the delete settings as `verify` does: a flag, else the variable the deployed
 * functions read (`DELETE_POLICY`, `MAX_DELETE_FRACTION`, `MAX_DELETE_COUNT`), else the default;
 * and `--max-delete-count` raises the count stop. Before, `sync` ignored the variables and had no
 * count option, so its count stop was always 1,000 (docs/reliability.md, finding 122).
 */
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';
import { runCli } from '#test/helpers/run-cli.ts';

const KEEP: DeletePolicy = { mode: 'keep', maxDeleteFraction: 1, maxDeleteCount: 1000 };

const harnesses: PipelineHarness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.stop();
});

function cli(h: PipelineHarness, args: string[], env: NodeJS.ProcessEnv) {
  return runCli(
    [
      ...args,
      '--local',
      h.dataDir,
      '--endpoint',
      h.sim.controlUrl,
      '--session-file',
      join(dirname(h.dataDir), 'session.json'),
      '--json',
    ],
    { env },
  );
}

interface SyncJson {
  status: string;
  assets?: { deleted?: number; purgedKept?: number };
  deletionRefused?: { wouldDelete: number; limit: number; allow?: { maxDeleteCount?: number } };
  error?: { hint?: string };
}

describe('the delete settings of `sync`', () => {
  it('counts MAX_DELETE_COUNT from the environment, names the option that lets the purge through, and that option does', async () => {
    const h = await startPipelineHarness({ assets: 10, seed: 1604 });
    harnesses.push(h);
    expect((await h.sync({ deletePolicy: KEEP })).outcome).toBe('succeeded');
    const photos = (await h.truth()).filter((a) => a.mediaType === 'photo' && !a.isDeleted).slice(0, 3);
    for (const p of photos) await h.mutate({ op: 'purge', assetRecordName: p.assetRecordName });
    const env = { ...process.env, DELETE_POLICY: 'mirror', MAX_DELETE_FRACTION: '1', MAX_DELETE_COUNT: '1' };
    // DELETE_POLICY=mirror MAX_DELETE_FRACTION=1 MAX_DELETE_COUNT=1: the count stop refuses 3 photos' objects.
    const refused = await cli(h, ['sync', '--no-shared-albums'], env);
    const result = JSON.parse(refused.stdout) as SyncJson;
    expect(refused.code).toBe(1);
    expect(result.status).toBe('deletionRefused');
    const needed = result.deletionRefused?.allow?.maxDeleteCount;
    expect(needed).toBeGreaterThan(1);
    expect(result.error?.hint).toContain(`--max-delete-count ${needed}`);
    // The person checked: the option the hint names wins over the variable and lets it through.
    const through = await cli(h, ['sync', '--no-shared-albums', '--max-delete-count', String(needed)], env);
    const done = JSON.parse(through.stdout) as SyncJson;
    expect(done.status).toBe('succeeded');
    expect(done.assets?.deleted).toBe(3);
  });
});
