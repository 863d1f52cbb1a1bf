/**
 * Audit 16 review (scratch evidence): findings 114 and 115 record `sidecarsOnSince` / `mirrorSince`
 * when XMP sidecars or `mirror` are switched on, and `status` prints their notice "while they stay
 * on". Nothing ever drops either field (no catch-up exists, no command clears them), so every
 * `status` of an archive that switched once prints the warning for ever, years on.
 */
import { describe, expect, it } from 'vitest';
import {
  type ArchiveSettingsInput,
  settingsAfterRun,
  settingsNotices,
} from '#domain/model/archive-settings.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('audit16-review: a settings notice with no way to clear it', () => {
  it('stops telling status about a switch made a year ago', () => {
    let recorded: ArchiveSettingsInput | undefined;
    const run = (at: number, xmpSidecars: boolean, deleteMode: 'keep' | 'mirror') => {
      const next = settingsAfterRun(
        recorded,
        { versionPolicy: DEFAULT_VERSION_POLICY, xmpSidecars, deleteMode },
        at,
      );
      if (next !== undefined) recorded = next;
    };
    run(0, false, 'keep');
    run(DAY, true, 'mirror');
    // A year of runs every 15 minutes with the same settings.
    for (let at = 2 * DAY; at < 367 * DAY; at += DAY / 96) run(at, true, 'mirror');
    expect(settingsNotices(recorded).map((n) => n.kind)).toEqual([]);
  });
});
