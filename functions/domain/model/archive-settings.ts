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
  const sidecarsOnSince = used.xmpSidecars
    ? (recorded.sidecarsOnSince ?? (recorded.xmpSidecars ? undefined : at))
    : undefined;
  const mirrorSince =
    used.deleteMode === 'mirror'
      ? (recorded.mirrorSince ?? (recorded.deleteMode === 'keep' ? at : undefined))
      : undefined;
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

export function settingsNotices(settings: ArchiveSettingsInput | undefined): SettingsNotice[] {
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
  if (settings.sidecarsOnSince !== undefined)
    notices.push({
      kind: 'sidecarsOn',
      since: settings.sidecarsOnSince,
      message:
        'XMP sidecars were switched on: photos archived before get theirs when their record next changes (the catalog under catalog/ holds the same facts for all).',
    });
  if (settings.mirrorSince !== undefined)
    notices.push({
      kind: 'mirrorAfterKeep',
      since: settings.mirrorSince,
      message:
        'The deletion policy went from keep to mirror: photos iCloud purged while the archive kept them stay in the bucket (mirror deletes what it sees purged from now on).',
    });
  return notices;
}
