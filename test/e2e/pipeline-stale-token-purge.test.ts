/**
 * A photo purged in iCloud while the stored sync token went stale (issue 11, item 1): the
 * delta that would have carried its tombstone is gone, so the fallback re-enumeration must find
 * the purge by what it did NOT return. Under `mirror` the objects go (through the safety stop)
 * and `verify` is clean; under `keep` the manifest learns of the purge, the objects stay, and
 * `verify` is clean too.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import {
  type PipelineHarness,
  startPipelineHarness,
  type TruthAssetDetail,
} from '#test/helpers/pipeline-harness.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.5, maxDeleteCount: 1000 };
const KEEP: DeletePolicy = { mode: 'keep', maxDeleteFraction: 0.5, maxDeleteCount: 1000 };

let h: PipelineHarness;
let spare: TruthAssetDetail[];

/** `icloud-s3 verify --json` on the harness's archive, as a person would run it. */
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

/** Purges one photo in iCloud, makes every stored zone token stale, and syncs under `policy`. */
async function purgeBehindAStaleToken(policy: DeletePolicy) {
  const photo = spare.shift();
  if (photo === undefined) throw new Error('no spare photo left');
  const before = await h.snapshot();
  const keys = before.entry(photo.assetRecordName)?.versions.map((v) => v.key) ?? [];
  expect(keys.length).toBeGreaterThan(0);
  await h.mutate({ op: 'purge', assetRecordName: photo.assetRecordName });
  const tokens = before.zones.map((z) => z.syncToken).filter((t): t is string => t !== undefined);
  await h.control.quirks({ expiredTokens: tokens });
  try {
    const summary = await h.sync({ deletePolicy: policy });
    expect(summary.outcome).toBe('succeeded');
  } finally {
    await h.control.quirks({ expiredTokens: [] });
  }
  return { photo, keys, before, after: await h.snapshot() };
}

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 12, seed: 47 });
  spare = [...(await h.mutate({ op: 'add', kind: 'photo', count: 4 })).assets];
  const first = await h.sync({ deletePolicy: KEEP });
  expect(first.outcome).toBe('succeeded');
  expect((await verify()).code).toBe(0);
});

afterAll(async () => {
  await h?.stop();
});

describe('a purge hidden behind a stale sync token', () => {
  it('under mirror: marks the entry purged, deletes its objects, and verify is clean', async () => {
    const { photo, keys, before, after } = await purgeBehindAStaleToken(MIRROR);
    const entry = after.entry(photo.assetRecordName);
    expect(entry?.status).toBe('purged');
    expect(entry?.deletions.map((d) => d.key).sort()).toEqual([...keys].sort());
    for (const key of keys) expect(after.object(key)).toBeUndefined();
    expect(after.counters.objects).toBe(before.counters.objects - keys.length);
    // Nothing else moved.
    expect(after.entries.filter((e) => e.status === 'purged').length).toBe(
      before.entries.filter((e) => e.status === 'purged').length + 1,
    );
    expect(after.zones.map((z) => z.syncToken)).not.toEqual(before.zones.map((z) => z.syncToken));
    const checked = await verify();
    expect(checked.stdout).not.toContain(photo.assetRecordName);
    expect(checked.code).toBe(0);
  });

  it('under keep: marks the entry purged, keeps its objects, and verify is clean', async () => {
    const { photo, keys, before, after } = await purgeBehindAStaleToken(KEEP);
    expect(after.entry(photo.assetRecordName)?.status).toBe('purged');
    for (const key of keys) expect(after.object(key)).toBeDefined();
    expect(after.counters.objects).toBe(before.counters.objects);
    const checked = await verify();
    expect(checked.stdout).not.toContain(photo.assetRecordName);
    expect(checked.code).toBe(0);
  });
});
