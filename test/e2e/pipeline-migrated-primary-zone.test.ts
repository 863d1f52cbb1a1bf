/**
 * The pipeline when Apple lists the own library as `PrimarySync1` (S141 in
 * docs/protocol/simulator-contract.md#zones-records-downloads-2026, icloudpd PR #1367): from the
 * first run, and as a rename in the middle of an archive's life (docs/reliability.md finding 30).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { ZoneSyncState } from '#domain/model/sync-state.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { expectedDigests, readLocalArchive, type TruthAsset } from '#test/helpers/local-archive.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { runCli } from '#test/helpers/run-cli.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
const stops: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function account(seed: number, migrated: boolean) {
  const sim = await startTestSimulator({ assets: 30, seed });
  stops.push(() => sim.stop());
  const control = controlClient(sim);
  const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-e2e-primary-sync1-'));
  stops.push(() => rm(dir, { recursive: true, force: true }));
  if (migrated) await control.quirks({ migratedPrimaryZone: true });
  const sessionFile = join(dir, 'session.json');
  const signedIn = await signInToSimulator(sim, sessionFile);
  const dataDir = join(dir, 'data');
  const sync = () => runLocalSync({ ...LIBRARY_ONLY, dataDir, ...signedIn, logger });
  const truth = async () => (await control.library<{ assets: TruthAsset[] }>()).assets;
  const archive = async () => {
    const objects = await readLocalArchive(dataDir);
    const digests = objects.map((o) => o.metadata['icloud-sha256']);
    return { objects: objects.length, digests: new Set(digests) };
  };
  const zones = async (): Promise<ZoneSyncState[]> => {
    const stack = await openLocalAwsStack({ dataDir });
    try {
      return await stack.state.loadZones();
    } finally {
      await stack.stop();
    }
  };
  const library = () => runCli(['library', '--session-file', sessionFile]);
  return { control, sync, truth, archive, zones, library };
}

describe('an account whose own library Apple lists as PrimarySync1 (S141)', () => {
  it('is archived whole from the first run, and the next run is idle', async () => {
    const { sync, truth, archive, control, library } = await account(141, true);

    const first = await sync();

    expect(first.outcome).toBe('succeeded');
    expect(first.assets.failed).toBe(0);
    const { objects, digests } = await archive();
    expect(digests).toEqual(expectedDigests(await truth()));
    expect(objects).toBe(digests.size);
    await control.resetStats();
    expect((await sync()).outcome).toBe('idle');
    expect((await control.stats()).requests).toEqual({ 'changes/database': 1 });
    // `library` calls it the personal library and lists its albums.
    const { code, stdout, stderr } = await library();
    expect(code, stderr).toBe(0);
    expect(stdout + stderr).toMatch(
      /personal library \(private\/PrimarySync1\)[\s\S]*albums, in \d+ folders/,
    );
  });
});

describe('the own library renamed PrimarySync -> PrimarySync1 in the middle of an archive', () => {
  it('loses nothing, downloads and stores nothing twice, and does not fail run after run', async () => {
    const { sync, truth, archive, control, zones } = await account(142, false);
    expect((await sync()).outcome).toBe('succeeded');
    const before = await archive();
    expect(before.digests).toEqual(expectedDigests(await truth()));

    await control.quirks({ migratedPrimaryZone: true });
    await control.mutate({ op: 'add', kind: 'photo', count: 1 });
    await control.resetStats();
    const renamed = await sync();

    expect(renamed.outcome).toBe('succeeded');
    expect(renamed.assets.failed).toBe(0);
    const after = await archive();
    expect(after.digests).toEqual(expectedDigests(await truth()));
    // One object per digest: the photos already archived were adopted, not stored again.
    expect(after.objects).toBe(after.digests.size);
    expect(after.objects - before.objects).toBe(after.digests.size - before.digests.size);
    // Only the new photo's bytes came from the CDN.
    const downloads = Object.entries((await control.stats()).requests)
      .filter(([endpoint]) => endpoint.startsWith('cdn'))
      .reduce((n, [, count]) => n + count, 0);
    expect(downloads).toBeGreaterThan(0);
    expect(downloads).toBe(after.objects - before.objects);
    const states = await zones();
    expect(states.find((z) => z.zone.zoneName === 'PrimarySync')?.retired).toBe(true);
    expect(states.find((z) => z.zone.zoneName === 'PrimarySync1')?.syncToken).toBeDefined();

    await control.resetStats();
    const next = await sync();
    expect(next.outcome).toBe('idle');
    expect((await control.stats()).requests).toEqual({ 'changes/database': 1 });

    // And back (no report shows Apple doing it): PrimarySync is followed again, PrimarySync1 retired.
    await control.quirks({ migratedPrimaryZone: false });
    await control.mutate({ op: 'add', kind: 'photo', count: 1 });
    expect((await sync()).outcome).toBe('succeeded');
    const back = await archive();
    expect(back.digests).toEqual(expectedDigests(await truth()));
    expect(back.objects).toBe(back.digests.size);
    const again = await zones();
    expect(again.find((z) => z.zone.zoneName === 'PrimarySync')?.retired).toBeUndefined();
    expect(again.find((z) => z.zone.zoneName === 'PrimarySync1')?.retired).toBe(true);
    expect((await sync()).outcome).toBe('idle');
  });
});
