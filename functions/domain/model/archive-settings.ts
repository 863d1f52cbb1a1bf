/**
 * The settings that shape what the archive holds (the version policy, XMP sidecars, the deletion
 * policy), recorded with the archive's state by the detection run that used them: `verify` checks
 * against the policy the archive was synced with, and a run that sees one widened or switched on
 * notes what the photos archived before lack, so `sync` and `status` can say what to run.
 *
 * Absent on an archive no run of this release has detected yet: nothing is assumed then, and the
 * first run records what it used (a change made before that run is not known).
 */
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import { formatVersionPolicy, parseVersionPolicy } from '#domain/plan/version-policy.ts';

/** What a detection run used: the three settings the archive's contents follow. */
export interface ArchiveSettingsUsed {
  readonly versionPolicy: VersionPolicy;
  readonly xmpSidecars: boolean;
  readonly deleteMode: 'keep' | 'mirror';
}

export interface ArchiveSettingsInput {
  /** The version policy of the last run that detected (`formatVersionPolicy`'s canonical string). */
  readonly versionPolicy: string;
  readonly xmpSidecars: boolean;
  readonly deleteMode: 'keep' | 'mirror';
  /**
   * The policy was widened at `since`: photos archived before hold only the versions of `policy`
   * (the narrowest recorded since), until a `verify --repair` under the recorded policy queues the rest.
   */
  readonly versionsBehind?: { readonly policy: string; readonly since: number };
  /** Sidecars were switched on at this time: photos archived before have none until their record changes. */
  readonly sidecarsOnSince?: number;
  /**
   * The deletion policy went from `keep` to `mirror` at this time: what iCloud purged while the
   * archive kept it is still in the bucket (mirror deletes on the purge it sees, not afterwards).
   */
  readonly mirrorSince?: number;
}

export interface ArchiveSettings extends ArchiveSettingsInput {
  readonly updatedAt: number;
  readonly revision: number;
}

/**
 * How long the notices with nothing to run are told (`sidecarsOn`, `mirrorAfterKeep`): by the
 * switching run, then by `status` for 30 days, long enough to be seen by anyone who looks, and
 * not a warning for ever about a switch the person made on purpose. The run that finds the time
 * past drops the field (one write, once); `status` stops at the same time without it. A notice
 * with a command (`versionsBehind`) stays until the command is run.
 */
export const SETTINGS_NOTICE_MS = 30 * 24 * 60 * 60 * 1000;

/** Whether a notice with nothing to run, raised at `since`, is still told at `now`. */
function stillTold(since: number | undefined, now: number): since is number {
  return since !== undefined && now < since + SETTINGS_NOTICE_MS;
}

const KINDS = ['live', 'alternative', 'adjusted', 'screenshotRender', 'medium', 'thumb'] as const;

/** The versions `wider` archives that `narrower` does not (empty when it adds none). */
export function versionsAdded(narrower: VersionPolicy, wider: VersionPolicy): string[] {
  return KINDS.filter((kind) => wider[kind] && !narrower[kind]);
}

/**
 * The record after a run that used `used` at `at`, or undefined when the recorded one stands as it
 * is (a run with unchanged settings writes nothing).
 */
export function settingsAfterRun(
  recorded: ArchiveSettingsInput | undefined,
  used: ArchiveSettingsUsed,
  at: number,
): ArchiveSettingsInput | undefined {
  const versionPolicy = formatVersionPolicy(used.versionPolicy);
  if (recorded === undefined)
    return { versionPolicy, xmpSidecars: used.xmpSidecars, deleteMode: used.deleteMode };
  // What the photos archived before hold: the narrowest policy recorded since the last catch-up.
  const held = recorded.versionsBehind?.policy ?? recorded.versionPolicy;
  const versionsBehind =
    versionsAdded(parseVersionPolicy(held), used.versionPolicy).length === 0
      ? undefined
      : { policy: held, since: recorded.versionsBehind?.since ?? at };
  // Told for SETTINGS_NOTICE_MS, then dropped (the setting itself stays recorded, so not raised again).
  const sidecarsOn = used.xmpSidecars
    ? (recorded.sidecarsOnSince ?? (recorded.xmpSidecars ? undefined : at))
    : undefined;
  const sidecarsOnSince = stillTold(sidecarsOn, at) ? sidecarsOn : undefined;
  const mirror =
    used.deleteMode === 'mirror'
      ? (recorded.mirrorSince ?? (recorded.deleteMode === 'keep' ? at : undefined))
      : undefined;
  const mirrorSince = stillTold(mirror, at) ? mirror : undefined;
  const next: ArchiveSettingsInput = {
    versionPolicy,
    xmpSidecars: used.xmpSidecars,
    deleteMode: used.deleteMode,
    ...(versionsBehind === undefined ? {} : { versionsBehind }),
    ...(sidecarsOnSince === undefined ? {} : { sidecarsOnSince }),
    ...(mirrorSince === undefined ? {} : { mirrorSince }),
  };
  return sameSettings(recorded, next) ? undefined : next;
}

function sameSettings(a: ArchiveSettingsInput, b: ArchiveSettingsInput): boolean {
  return (
    a.versionPolicy === b.versionPolicy &&
    a.xmpSidecars === b.xmpSidecars &&
    a.deleteMode === b.deleteMode &&
    a.versionsBehind?.policy === b.versionsBehind?.policy &&
    a.versionsBehind?.since === b.versionsBehind?.since &&
    a.sidecarsOnSince === b.sidecarsOnSince &&
    a.mirrorSince === b.mirrorSince
  );
}

/** The record without the fields of the store (`updatedAt`, `revision`). */
export function settingsInput(settings: ArchiveSettings): ArchiveSettingsInput {
  const { updatedAt: _u, revision: _r, ...input } = settings;
  return input;
}

/**
 * What a person should be told of the recorded settings: one line per catch-up the archive
 * waits for, with the command that does it when there is one.
 */
export interface SettingsNotice {
  readonly kind: 'versionsBehind' | 'sidecarsOn' | 'mirrorAfterKeep';
  readonly since: number;
  readonly message: string;
  readonly action?: string;
}

/**
 * `now` (when given): the notices with nothing to run are left out once `SETTINGS_NOTICE_MS` has
 * passed, though no run has dropped them yet (the schedule stopped, no sync since).
 */
export function settingsNotices(
  settings: ArchiveSettingsInput | undefined,
  options: { readonly now?: number } = {},
): SettingsNotice[] {
  if (settings === undefined) return [];
  const notices: SettingsNotice[] = [];
  const behind = settings.versionsBehind;
  if (behind !== undefined) {
    const added = versionsAdded(
      parseVersionPolicy(behind.policy),
      parseVersionPolicy(settings.versionPolicy),
    ).join(', ');
    notices.push({
      kind: 'versionsBehind',
      since: behind.since,
      message: `The version policy was widened (${behind.policy} -> ${settings.versionPolicy}): photos archived before lack their ${added} versions; a sync archives them only for photos that change.`,
      action: 'icloud-s3 verify --repair',
    });
  }
  const told = (since: number | undefined): since is number =>
    options.now === undefined ? since !== undefined : stillTold(since, options.now);
  if (told(settings.sidecarsOnSince))
    notices.push({
      kind: 'sidecarsOn',
      since: settings.sidecarsOnSince,
      message:
        'XMP sidecars were switched on: photos archived before get theirs when their record next changes (the catalog under catalog/ holds the same facts for all). Told for 30 days.',
    });
  if (told(settings.mirrorSince))
    notices.push({
      kind: 'mirrorAfterKeep',
      since: settings.mirrorSince,
      message:
        'The deletion policy went from keep to mirror: photos iCloud purged while the archive kept them stay in the bucket (mirror deletes what it sees purged from now on). Told for 30 days.',
    });
  return notices;
}
