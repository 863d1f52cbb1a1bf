/**
 * The settings that shape the archive, recorded by each detection run (`settingsAfterRun`): what a
 * run writes, and the catch-up notes a widened policy, sidecars switched on and keep -> mirror raise.
 */
import { describe, expect, it } from 'vitest';
import {
  type ArchiveSettingsInput,
  settingsAfterRun,
  settingsNotices,
} from '#domain/model/archive-settings.ts';
import { parseVersionPolicy } from '#domain/plan/version-policy.ts';

const used = (versions: string, xmpSidecars = false, deleteMode: 'keep' | 'mirror' = 'keep') => ({
  versionPolicy: parseVersionPolicy(versions),
  xmpSidecars,
  deleteMode,
});

describe('settingsAfterRun', () => {
  it('records what the first run used, with no note (nothing is known of before)', () => {
    expect(settingsAfterRun(undefined, used('original', true, 'mirror'), 1)).toEqual({
      versionPolicy: 'original',
      xmpSidecars: true,
      deleteMode: 'mirror',
    });
  });

  it('writes nothing when a run used the recorded settings', () => {
    const recorded = settingsAfterRun(undefined, used('default'), 1) as ArchiveSettingsInput;
    expect(settingsAfterRun(recorded, used('default'), 2)).toBeUndefined();
  });

  it('notes a widened policy with the narrowest policy since, until a run narrows it back', () => {
    const original = settingsAfterRun(undefined, used('original'), 1) as ArchiveSettingsInput;
    const live = settingsAfterRun(original, used('original,live'), 2) as ArchiveSettingsInput;
    expect(live.versionsBehind).toEqual({ policy: 'original', since: 2 });
    const wider = settingsAfterRun(live, used('default,medium'), 3) as ArchiveSettingsInput;
    expect(wider.versionsBehind).toEqual({ policy: 'original', since: 2 });
    expect(settingsNotices(wider)[0]).toMatchObject({
      kind: 'versionsBehind',
      action: 'icloud-s3 verify --repair',
    });
    expect(settingsNotices(wider)[0]?.message).toContain('live, alternative, adjusted, medium');
    const back = settingsAfterRun(wider, used('original'), 4) as ArchiveSettingsInput;
    expect(back.versionsBehind).toBeUndefined();
  });

  it('a narrowed policy raises no note', () => {
    const all = settingsAfterRun(undefined, used('default'), 1) as ArchiveSettingsInput;
    expect(settingsAfterRun(all, used('original'), 2)).toEqual({
      versionPolicy: 'original',
      xmpSidecars: false,
      deleteMode: 'keep',
    });
  });

  it('notes sidecars switched on and keep -> mirror, and drops each note when switched back', () => {
    const off = settingsAfterRun(undefined, used('default'), 1) as ArchiveSettingsInput;
    const on = settingsAfterRun(off, used('default', true, 'mirror'), 2) as ArchiveSettingsInput;
    expect(on).toMatchObject({ sidecarsOnSince: 2, mirrorSince: 2 });
    expect(settingsNotices(on).map((n) => n.kind)).toEqual(['sidecarsOn', 'mirrorAfterKeep']);
    expect(settingsAfterRun(on, used('default', true, 'mirror'), 3)).toBeUndefined();
    expect(settingsAfterRun(on, used('default'), 4)).toEqual(off);
  });

  it('an archive first recorded with sidecars on, or under mirror, has no note', () => {
    const first = settingsAfterRun(undefined, used('default', true, 'mirror'), 1) as ArchiveSettingsInput;
    expect(settingsNotices(first)).toEqual([]);
  });
});
