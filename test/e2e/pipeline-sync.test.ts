import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { expectedDigests, readLocalArchive, type TruthAsset } from '#test/helpers/local-archive.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let signedIn: SignedIn;

// The library alone: Shared Albums (on by default) have their own test, pipeline-shared-albums.
const sync = () =>
  runLocalSync({
    dataDir: join(dir, 'data'),
    ...signedIn,
    logger,
    ...LIBRARY_ONLY,
  });
const truth = async () => (await control.library<{ assets: TruthAsset[] }>()).assets;
const archivedDigests = async () =>
  new Set((await readLocalArchive(join(dir, 'data'))).map((o) => o.metadata['icloud-sha256']));

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 60, seed: 11 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-e2e-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the pipeline on one machine against the simulator', () => {
  it('archives exactly the library the first time: every selected version, byte for byte', async () => {
    const summary = await sync();
    expect(summary.outcome).toBe('succeeded');
    expect(summary.assets.failed).toBe(0);
    expect(await archivedDigests()).toEqual(expectedDigests(await truth()));
  });

  it('records on the detection run what the workers archived from it', async () => {
    const stack = await openLocalAwsStack({ dataDir: join(dir, 'data') });
    try {
      const [latest] = await stack.state.listRuns(1);
      const entries: number[] = [];
      for await (const entry of stack.state.entries()) entries.push(entry.versions.length);
      expect(latest).toMatchObject({ kind: 'detect', outcome: 'succeeded' });
      expect(latest?.counts['assetsArchived']).toBe(entries.filter((n) => n > 0).length);
      expect(latest?.counts['filesArchived']).toBeGreaterThan(0);
    } finally {
      await stack.stop();
    }
  });

  it('makes one request to Apple and archives nothing when nothing changed', async () => {
    await control.resetStats();
    const summary = await sync();
    expect(summary.outcome).toBe('idle');
    const stats = await control.stats();
    expect(stats.requests).toEqual({ 'changes/database': 1 });
  });

  it('ignores the zones of other apps iCloud lists beside the photo zones (Image Playground, share links)', async () => {
    await control.quirks({ otherAppZones: true });
    try {
      await control.resetStats();
      const summary = await sync();
      expect(summary.outcome).toBe('idle');
      expect((await control.stats()).requests).toEqual({ 'changes/database': 1 });
    } finally {
      await control.quirks({ otherAppZones: false });
    }
  });

  it('archives a new photo with at most two requests to Apple for detection', async () => {
    await control.mutate({ op: 'add', kind: 'photo', count: 1 });
    await control.resetStats();
    const summary = await sync();
    expect(summary.assets.archived).toBe(1);
    const stats = await control.stats();
    expect(
      (stats.requests['changes/database'] ?? 0) + (stats.requests['changes/zone'] ?? 0),
    ).toBeLessThanOrEqual(2);
    expect(await archivedDigests()).toEqual(expectedDigests(await truth()));
  });
});
