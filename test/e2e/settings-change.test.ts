/**
 * A setting that shapes the archive changed between runs on an archive that already holds photos
 * (reliability findings 112-115): each case archives under one setting, changes it, runs again, and
 * checks what the product then does and tells. The settings are recorded with the archive's state
 * by each detection run (`#domain/model/archive-settings.ts`).
 */
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { SettingsNotice } from '#domain/model/archive-settings.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { parseVersionPolicy } from '#domain/plan/version-policy.ts';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';
import { runCli } from '#test/helpers/run-cli.ts';

const KEEP: DeletePolicy = { mode: 'keep', maxDeleteFraction: 1, maxDeleteCount: 1000 };
const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 1, maxDeleteCount: 1000 };

const harnesses: PipelineHarness[] = [];
async function harness(seed: number, assets = 6): Promise<PipelineHarness> {
  const h = await startPipelineHarness({ assets, seed });
  harnesses.push(h);
  return h;
}
afterAll(async () => {
  for (const h of harnesses) await h.stop();
});

async function bucketKeys(dataDir: string): Promise<string[]> {
  const stack = await openLocalAwsStack({ dataDir });
  try {
    const keys: string[] = [];
    for await (const o of stack.objects.list('')) keys.push(o.key);
    return keys;
  } finally {
    await stack.stop();
  }
}

/** The CLI against the harness's archive and simulator, as JSON; `VERSION_POLICY` unset. */
async function cli<T>(h: PipelineHarness, args: string[]): Promise<{ code: number; result: T }> {
  const { VERSION_POLICY: _unset, ...env } = process.env;
  const run = await runCli(
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
  return { code: run.code, result: JSON.parse(run.stdout) as T };
}

interface StatusJson {
  readonly settings: {
    readonly versionPolicy: string;
    readonly xmpSidecars: boolean;
    readonly deletePolicy: string;
    readonly notices: readonly { readonly kind: string; readonly action?: string }[];
  } | null;
}
interface VerifyJson {
  readonly status: string;
  readonly missing: readonly unknown[];
  readonly versionPolicy: { readonly policy: string; readonly from: string };
  readonly versionsCaughtUp?: boolean;
  readonly repair?: { readonly left: number; readonly work?: { readonly versionsArchived?: number } };
}
const kinds = (notices: readonly SettingsNotice[] | undefined) => (notices ?? []).map((n) => n.kind);

describe('the version policy widened on an archive that already holds photos', () => {
  it('is told by the sync and status, verify checks the wider policy, and verify --repair archives what the photos archived before lack', async () => {
    const h = await harness(1602, 2);
    await h.mutate({ op: 'add', kind: 'live', count: 4 });
    expect((await h.sync({ versionPolicy: parseVersionPolicy('original') })).outcome).toBe('succeeded');
    const lives = (await h.truth()).filter((a) =>
      a.versions.some((v) => v.kind === 'live' && v.downloadable),
    );
    expect(lives).toHaveLength(4);
    const lacking = async () => {
      const snapshot = await h.snapshot();
      return lives.filter((a) => !snapshot.entry(a.assetRecordName)?.versions.some((v) => v.kind === 'live'));
    };
    // The person widens the policy (sync --versions default, icloudS3:versionPolicy=default): the
    // run is incremental, so the photos archived before are not fetched again, and the run says so.
    const widened = await h.sync({ versionPolicy: parseVersionPolicy('default') });
    expect(kinds(widened.settingsChanged)).toEqual(['versionsBehind']);
    expect(widened.settingsChanged?.[0]?.action).toBe('icloud-s3 verify --repair');
    expect(await lacking()).toHaveLength(4);
    const status = await cli<StatusJson>(h, ['status']);
    expect(status.result.settings).toMatchObject({ versionPolicy: 'original,live,alternative,adjusted' });
    expect(status.result.settings?.notices.map((n) => n.kind)).toEqual(['versionsBehind']);
    // verify follows the policy the archive is now synced with, without --versions.
    const check = await cli<VerifyJson>(h, ['verify']);
    expect(check.result.versionPolicy).toEqual({
      policy: 'original,live,alternative,adjusted',
      from: 'archive',
    });
    expect({ code: check.code, missing: check.result.missing.length }).toEqual({ code: 5, missing: 4 });
    const repair = await cli<VerifyJson>(h, ['verify', '--repair']);
    expect({
      code: repair.code,
      status: repair.result.status,
      caughtUp: repair.result.versionsCaughtUp,
    }).toEqual({
      code: 0,
      status: 'repaired',
      caughtUp: true,
    });
    expect(await lacking()).toEqual([]);
    expect((await cli<StatusJson>(h, ['status'])).result.settings?.notices).toEqual([]);
    expect((await cli<VerifyJson>(h, ['verify'])).code).toBe(0);
  });
});

describe('an archive kept under `sync --versions original`, then verified', () => {
  it('verify and verify --repair follow the policy the archive was synced with; --versions still names another', async () => {
    const h = await harness(1605, 2);
    await h.mutate({ op: 'add', kind: 'live', count: 4 });
    const { VERSION_POLICY: _unset, ...env } = process.env;
    const sync = await runCli(
      [
        'sync',
        '--versions',
        'original',
        '--no-shared-albums',
        '--local',
        h.dataDir,
        '--endpoint',
        h.sim.controlUrl,
        '--session-file',
        join(dirname(h.dataDir), 'session.json'),
      ],
      { env },
    );
    expect(sync.code).toBe(0);
    const before = (await h.snapshot()).objects.length;
    const check = await cli<VerifyJson>(h, ['verify']);
    expect(check.result.versionPolicy).toEqual({ policy: 'original', from: 'archive' });
    expect({ code: check.code, missing: check.result.missing.length }).toEqual({ code: 0, missing: 0 });
    const repair = await cli<VerifyJson>(h, ['verify', '--repair']);
    expect(repair.code).toBe(0);
    expect((await h.snapshot()).objects.length, 'verify --repair archived versions left out').toBe(before);
    // Named on the command line, another policy is checked and repaired: the status pairs with the exit.
    const named = await cli<VerifyJson>(h, ['verify', '--versions', 'default']);
    expect({ code: named.code, missing: named.result.missing.length }).toEqual({ code: 5, missing: 4 });
    const wider = await cli<VerifyJson>(h, ['verify', '--repair', '--versions', 'default']);
    expect(wider.result.repair?.work?.versionsArchived).toBe(4);
    expect({ code: wider.code, repaired: wider.result.status === 'repaired' }).toEqual({
      code: wider.result.status === 'repaired' ? 0 : 5,
      repaired: wider.result.status === 'repaired',
    });
  });
});

describe('the deletion policy switched from keep to mirror', () => {
  it('is told by the sync and status: what iCloud purged under keep stays in the bucket', async () => {
    const h = await harness(1603, 8);
    expect((await h.sync({ deletePolicy: KEEP })).outcome).toBe('succeeded');
    const [victim] = (await h.truth()).filter((a) => a.mediaType === 'photo' && !a.isDeleted);
    if (victim === undefined) throw new Error('no photo');
    const keys = (await h.snapshot()).entry(victim.assetRecordName)?.versions.map((v) => v.key) ?? [];
    expect(keys.length).toBeGreaterThan(0);
    await h.mutate({ op: 'purge', assetRecordName: victim.assetRecordName });
    expect((await h.sync({ deletePolicy: KEEP })).outcome).toBe('succeeded');
    const mirror = await h.sync({ deletePolicy: MIRROR });
    expect(kinds(mirror.settingsChanged)).toEqual(['mirrorAfterKeep']);
    expect(kinds((await h.sync({ deletePolicy: MIRROR })).settingsChanged), 'told once').toEqual([]);
    const status = await cli<StatusJson>(h, ['status']);
    expect(status.result.settings).toMatchObject({ deletePolicy: 'mirror' });
    expect(status.result.settings?.notices.map((n) => n.kind)).toEqual(['mirrorAfterKeep']);
    // Still open (finding 115): the kept purge is not removed by the switch.
    const left = (await bucketKeys(h.dataDir)).filter((k) => keys.includes(k));
    expect(left).toEqual(keys);
  });
});

describe('XMP sidecars turned on for an archive that already holds photos', () => {
  it('is told by the sync and status: the photos archived before have none until their record changes', async () => {
    const h = await harness(1601);
    expect((await h.sync()).outcome).toBe('succeeded');
    const on = await h.sync({ xmpSidecars: true });
    expect(kinds(on.settingsChanged)).toEqual(['sidecarsOn']);
    const status = await cli<StatusJson>(h, ['status']);
    expect(status.result.settings).toMatchObject({ xmpSidecars: true });
    expect(status.result.settings?.notices.map((n) => n.kind)).toEqual(['sidecarsOn']);
    // Switched off again: the note goes with it.
    await h.sync({ xmpSidecars: false });
    expect((await cli<StatusJson>(h, ['status'])).result.settings?.notices).toEqual([]);
  });
});
