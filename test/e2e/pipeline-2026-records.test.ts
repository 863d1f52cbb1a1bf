/**
 * The pipeline against the 2026 zone and record findings of the simulator: share-link (`CMM-*`)
 * and shared-collection zones in both databases, a failed `zones/list` entry (S139-S141 in docs/protocol/simulator-contract.md#zones-records-downloads-2026),
 * and boolean-like fields that flip between `{"value": 0|1, "type": "INT64"}` and
 * `{"value": true|false}` between runs (S142 in docs/protocol/simulator-contract.md#zones-records-downloads-2026).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
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

const sync = () => runLocalSync({ ...LIBRARY_ONLY, dataDir: join(dir, 'data'), ...signedIn, logger });
const truth = async () => (await control.library<{ assets: TruthAsset[] }>()).assets;
const archivedDigests = async () =>
  new Set((await readLocalArchive(join(dir, 'data'))).map((o) => o.metadata['icloud-sha256']));

async function entryOf(assetRecordName: string): Promise<ManifestEntry | undefined> {
  const stack = await openLocalAwsStack({ dataDir: join(dir, 'data') });
  try {
    for await (const entry of stack.state.entries())
      if (entry.assetRecordName === assetRecordName) return entry;
    return undefined;
  } finally {
    await stack.stop();
  }
}

const BOOLEAN = ['CPLAsset', 'CPLMaster', 'CPLAlbum'].map((recordType) => ({
  recordType,
  encoding: 'boolean',
}));

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 40, seed: 139 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-e2e-2026-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  await control.quirks({
    cmmZones: ['private', 'shared'],
    sharedCollectionZone: true,
    zoneFetchError: true,
    booleanEncoding: BOOLEAN,
  });
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the pipeline beside CMM, SharedCollection and failed zones (S139-S141)', () => {
  it('S139: archives exactly the photo library and never queries a zone that is not one', async () => {
    await control.call('DELETE', '/requests');
    const summary = await sync();
    expect(summary.outcome).toBe('succeeded');
    expect(summary.assets.failed).toBe(0);
    expect(await archivedDigests()).toEqual(expectedDigests(await truth()));
    const { requests } = await control.requests(1000);
    expect(requests.filter((r) => r.status >= 400)).toEqual([]);
  });

  it('S139: stays idle at one request while those zones report changes on every call', async () => {
    await control.resetStats();
    const summary = await sync();
    expect(summary.outcome).toBe('idle');
    expect((await control.stats()).requests).toEqual({ 'changes/database': 1 });
  });
});

describe('boolean-like fields in either encoding (S142)', () => {
  it('S142: reads favourite, hidden and trashed flags sent as true/false', async () => {
    const [a, b] = (await truth()).filter((x) => !x.isDeleted && !x.isHidden);
    await control.mutate({ op: 'favorite', assetRecordName: a!.assetRecordName });
    await control.mutate({ op: 'trash', assetRecordName: b!.assetRecordName });
    expect((await sync()).outcome).toBe('succeeded');
    expect((await entryOf(a!.assetRecordName))?.flags).toMatchObject({ isFavorite: true, isDeleted: false });
    expect((await entryOf(b!.assetRecordName))?.flags).toMatchObject({ isDeleted: true });
  });

  it('S142: sees no change when the encoding flips back to 0/1 between runs, and reads 0/1 after', async () => {
    await control.quirks({ booleanEncoding: [] });
    await control.resetStats();
    expect((await sync()).outcome).toBe('idle');
    expect((await control.stats()).requests).toEqual({ 'changes/database': 1 });
    const favorite = (await truth()).find((x) => x.isFavorite && !x.isDeleted);
    await control.mutate({ op: 'unfavorite', assetRecordName: favorite!.assetRecordName });
    await control.quirks({ booleanEncoding: BOOLEAN });
    await control.mutate({ op: 'hide', assetRecordName: favorite!.assetRecordName });
    expect((await sync()).outcome).toBe('succeeded');
    expect((await entryOf(favorite!.assetRecordName))?.flags).toMatchObject({
      isFavorite: false,
      isHidden: true,
    });
  });
});
