/**
 * Advanced Data Protection turned on, or "Access iCloud Data on the Web" turned off, after the
 * archive exists, under `mirror` (checked by the sixteenth session's identity audit, 2026-12-07:
 * no fault found). Each run stops with a message that names the setting (not a sign-in), no code
 * is pushed, no sign-in is tried, nothing is deleted; once the setting is back, the next run goes
 * on with no login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncStopReason } from '#cli/io/sync-stop.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';

const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 1000 };

describe.each([
  ['ADP on', { iCDPEnabled: true }, { iCDPEnabled: false }],
  ['web access off', { isWebAccessAllowed: false }, { isWebAccessAllowed: true }],
] as const)('%s after the archive exists', (label, on, off) => {
  let h: PipelineHarness;
  beforeAll(async () => {
    h = await startPipelineHarness({ assets: 20, seed: label === 'ADP on' ? 165 : 166 });
    expect((await h.sync({ deletePolicy: MIRROR })).outcome).toBe('succeeded');
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('names the setting when it stops, pushes no code, deletes nothing, resumes without login', async () => {
    const before = await h.snapshot();
    await h.control.setFlags(on);
    await h.control.resetStats();
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const s = await h.sync({ deletePolicy: MIRROR });
      runs.push({ outcome: s.outcome, stop: syncStopReason(s) });
    }
    const stats = await h.control.stats();
    await h.control.setFlags(off);
    const back = await h.sync({ deletePolicy: MIRROR });
    const after = await h.snapshot();
    const deleted = before.objects.filter((o) => after.object(o.key) === undefined).length;
    const signIn = (st: typeof stats) =>
      Object.entries(st.requests).filter(([k]) => /signin|verify|securitycode|2sv/.test(k));
    // A run that stops names the setting, never a sign-in (ADP over a working session may go on
    // idle: the simulator's delta still answers).
    for (const run of runs) expect(run.stop?.hint ?? '').not.toMatch(/^Run: .*login/);
    expect(back.outcome, 'the first run once the setting is back').not.toBe('reauthRequired');
    expect(deleted).toBe(0);
    expect(signIn(stats)).toEqual([]);
  }, 300_000);
});
