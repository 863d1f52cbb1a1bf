/**
 * A Live Photo whose original CloudKit serves without `downloadURL` (the simulator's
 * `withheldDownloadUrls` quirk, modelled on icloudpd's cassette `listing_photos_missing_downloadUrl`)
 * is neither archived nor forgotten: its video is archived at once, the entry stays pending, the
 * run says so, verify reports the original missing; later runs look the record up again (its
 * record never changes, so no delta would), and once Apple offers the URL the original is
 * archived with nobody involved. The run after that is idle at one request.
 */
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';
import { runCli } from '#test/helpers/run-cli.ts';

let h: PipelineHarness;

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 8, seed: 97 });
});

afterAll(async () => {
  await h?.stop();
});

async function verify() {
  const run = await runCli([
    'verify',
    '--local',
    h.dataDir,
    '--endpoint',
    h.sim.controlUrl,
    '--session-file',
    join(dirname(h.dataDir), 'session.json'),
    '--json',
  ]);
  return { code: run.code, report: JSON.parse(run.stdout) as { missing: Record<string, unknown>[] } };
}

describe('a Live Photo whose original CloudKit serves without a download URL', () => {
  it('stays pending and reported until Apple offers the URL, then is archived whole', async () => {
    const photo = (await h.truth()).find(
      (a) =>
        a.zone === 'PrimarySync' &&
        a.kind === 'live' &&
        !a.isDeleted &&
        a.trashReason === undefined &&
        a.versions.some((v) => v.kind === 'live' && v.downloadable),
    );
    expect(photo).toBeDefined();
    const name = photo!.assetRecordName;
    const original = photo!.versions.find((v) => v.kind === 'original')!;
    await h.control.quirks({ withheldDownloadUrls: [original.fileChecksum] });

    const first = await h.sync();

    const entry = (await h.snapshot()).entry(name);
    expect(entry?.status).toBe('pending');
    expect(entry?.versions.map((v) => v.kind)).toEqual(['live']);
    expect(first.assets.awaitingUrl).toBe(1);
    const checked = await verify();
    expect(checked.code).toBe(5);
    expect(checked.report.missing).toContainEqual(
      expect.objectContaining({ assetRecordName: name, version: 'original' }),
    );

    // Still without a URL: one lookup, nothing downloaded, still pending.
    const waiting = await h.measuredSync();
    expect(waiting.stats.requests['records/lookup']).toBeGreaterThanOrEqual(1);
    expect(waiting.stats.requests.cdn ?? 0).toBe(0);
    expect((await h.snapshot()).entry(name)?.status).toBe('pending');

    await h.control.quirks({ withheldDownloadUrls: [] });
    const healed = await h.sync();

    const after = (await h.snapshot()).entry(name);
    expect(after?.status).toBe('archived');
    expect(after?.versions.map((v) => v.kind).sort()).toEqual(['live', 'original']);
    expect(healed.versionsArchived).toBe(1);
    expect((await verify()).code).toBe(0);
    const quiet = await h.measuredSync();
    expect(quiet.summary.outcome).toBe('idle');
    expect(quiet.summary.appleRequestsTotal).toBe(1);
  });
});
