/**
 * The notices of findings 114 and 115 (`sidecarsOn`, `mirrorAfterKeep`) have no command that
 * clears them (the catch-ups are open), so they are told for a fixed time: by the switching run,
 * then by `status` for 30 days (`SETTINGS_NOTICE_MS`). Before: nothing ever dropped
 * `sidecarsOnSince` / `mirrorSince`, and every `status` printed the warning for ever.
 */
import { describe, expect, it } from 'vitest';
import {
  type ArchiveSettingsInput,
  SETTINGS_NOTICE_MS,
  settingsAfterRun,
  settingsNotices,
} from '#domain/model/archive-settings.ts';
import {
  DEFAULT_VERSION_POLICY,
  formatVersionPolicy,
  parseVersionPolicy,
} from '#domain/plan/version-policy.ts';

const DAY = 24 * 60 * 60 * 1000;

function runner() {
  let recorded: ArchiveSettingsInput | undefined;
  let writes = 0;
  const run = (
    at: number,
    xmpSidecars: boolean,
    deleteMode: 'keep' | 'mirror',
    versionPolicy = DEFAULT_VERSION_POLICY,
  ) => {
    const next = settingsAfterRun(recorded, { versionPolicy, xmpSidecars, deleteMode }, at);
    if (next !== undefined) {
      recorded = next;
      writes += 1;
    }
  };
  return { run, recorded: () => recorded, writes: () => writes };
}

describe('settings notices with nothing to run', () => {
  it('are told for 30 days after the switch, then dropped by a run (one write)', () => {
    const r = runner();
    r.run(0, false, 'keep');
    r.run(DAY, true, 'mirror');
    const kinds = (now?: number) =>
      settingsNotices(r.recorded(), now === undefined ? {} : { now }).map((n) => n.kind);
    expect(kinds()).toEqual(['sidecarsOn', 'mirrorAfterKeep']);
    // Runs every 15 minutes, same settings, for a year.
    for (let at = 2 * DAY; at < DAY + SETTINGS_NOTICE_MS; at += DAY / 96) r.run(at, true, 'mirror');
    expect(kinds(DAY + SETTINGS_NOTICE_MS - 1)).toEqual(['sidecarsOn', 'mirrorAfterKeep']);
    expect(r.writes()).toBe(2);
    for (let at = DAY + SETTINGS_NOTICE_MS; at < 367 * DAY; at += DAY / 96) r.run(at, true, 'mirror');
    expect(kinds()).toEqual([]);
    expect(r.writes()).toBe(3);
    // The settings themselves stay recorded: not raised again.
    expect(r.recorded()).toMatchObject({ xmpSidecars: true, deleteMode: 'mirror' });
  });

  it('stop in status after 30 days though no run dropped them (the schedule stopped)', () => {
    const r = runner();
    r.run(0, false, 'keep');
    r.run(DAY, true, 'mirror');
    expect(settingsNotices(r.recorded(), { now: DAY + 29 * DAY }).map((n) => n.kind)).toEqual([
      'sidecarsOn',
      'mirrorAfterKeep',
    ]);
    expect(settingsNotices(r.recorded(), { now: DAY + SETTINGS_NOTICE_MS })).toEqual([]);
  });

  it('a widened version policy stays told until its repair, however long', () => {
    const r = runner();
    const original = parseVersionPolicy('original');
    expect(formatVersionPolicy(original)).toBe('original');
    r.run(0, false, 'keep', original);
    r.run(DAY, false, 'keep');
    for (let at = 2 * DAY; at < 100 * DAY; at += DAY) r.run(at, false, 'keep');
    expect(settingsNotices(r.recorded(), { now: 100 * DAY }).map((n) => n.kind)).toEqual(['versionsBehind']);
  });

  it('a switch off and on again is told again, for 30 days from then', () => {
    const r = runner();
    r.run(0, false, 'keep');
    r.run(DAY, true, 'keep');
    r.run(40 * DAY, true, 'keep');
    expect(settingsNotices(r.recorded()).map((n) => n.kind)).toEqual([]);
    r.run(41 * DAY, false, 'keep');
    r.run(42 * DAY, true, 'keep');
    expect(settingsNotices(r.recorded(), { now: 43 * DAY }).map((n) => [n.kind, n.since])).toEqual([
      ['sidecarsOn', 42 * DAY],
    ]);
  });
});
