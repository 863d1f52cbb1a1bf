/**
 * What happens in the archive when a photo is gone from iCloud for good, and the circuit
 * breaker that stops a run from deleting a large part of the archive.
 *
 * - `keep` (default): nothing is ever deleted; the manifest records that iCloud purged the
 *   photo. What kei does, and what people who use the archive as a backup expect.
 * - `mirror`: objects are deleted once iCloud PURGES the photo (its tombstone), never when it
 *   is merely in Recently Deleted, and never while another entry (a duplicate, the Shared
 *   Library copy) still references them.
 *
 * Mass deletions are how mirroring tools lose people's photos (icloud-photos-sync's mirror
 * wipes when iCloud briefly listed fewer items). A mirror run that would delete more than
 * `maxDeleteFraction` of the archive's objects, or more than `maxDeleteCount` objects, is
 * refused at the page that passes the limit (`MassDeletionRefusedError`; earlier pages were
 * queued), and later runs count on from there (detect-changes.ts, the zone's `brake`), so a
 * person looks before more goes (the same habit as rclone's `--max-delete`).
 */
import { InvalidInputError } from '#domain/errors.ts';

export type DeleteMode = 'keep' | 'mirror';

export interface DeletePolicy {
  readonly mode: DeleteMode;
  /** Largest share (0..1) of the archive's objects one run may delete. */
  readonly maxDeleteFraction: number;
  /** Most objects one run may delete, whatever the archive's size. */
  readonly maxDeleteCount: number;
}

/**
 * 5 %: iCloud's own 30-day purge trickles (a fraction of a percent a day); emptying Recently
 * Deleted after a big clean-up stays below it; a listing glitch or a wrong zone is far above.
 * 1,000 objects: one S3 DeleteObjects batch, and still a few hundred photos with their videos.
 */
export const DEFAULT_DELETE_POLICY: DeletePolicy = Object.freeze({
  mode: 'keep',
  maxDeleteFraction: 0.05,
  maxDeleteCount: 1000,
});

/**
 * The least limits that let a refused deletion of `wouldDelete` of `archiveObjects` objects
 * through: each field only where `policy` is below it (the share rounded up to 3 places). Later
 * pages of the same purge, not seen yet, may need more: the next refusal says so.
 */
export interface LimitsToAllow {
  readonly maxDeleteCount?: number;
  readonly maxDeleteFraction?: number;
}

export function limitsToAllow(
  policy: DeletePolicy,
  wouldDelete: number,
  archiveObjects: number,
): LimitsToAllow {
  const share =
    archiveObjects > 0 ? Math.min(1, Math.ceil((wouldDelete / archiveObjects) * 1000 - 1e-9) / 1000) : 1;
  return {
    ...(policy.maxDeleteCount < wouldDelete ? { maxDeleteCount: wouldDelete } : {}),
    ...(deletionLimit({ ...policy, maxDeleteCount: wouldDelete }, archiveObjects) < wouldDelete
      ? { maxDeleteFraction: share }
      : {}),
  };
}

/** `MAX_DELETE_COUNT to 1100 or more and MAX_DELETE_FRACTION to 0.917 or more` (setting names: `names`). */
export function describeLimitsToAllow(
  allow: LimitsToAllow,
  names: { readonly count: string; readonly fraction: string } = {
    count: 'MAX_DELETE_COUNT',
    fraction: 'MAX_DELETE_FRACTION',
  },
): string {
  return [
    ...(allow.maxDeleteCount === undefined ? [] : [`${names.count} to ${allow.maxDeleteCount} or more`]),
    ...(allow.maxDeleteFraction === undefined
      ? []
      : [`${names.fraction} to ${allow.maxDeleteFraction} or more`]),
  ].join(' and ');
}

/** A mirror run wanted to delete too much: nothing past the refused page was deleted (`queued` before it). */
export class MassDeletionRefusedError extends Error {
  override readonly name = 'MassDeletionRefusedError';
  readonly wouldDelete: number;
  readonly archiveObjects: number;
  readonly limit: number;
  /** What the run had put on the queue before the refusal (its tokens moved on; workers archive it). */
  readonly enqueuedBefore: { readonly items: number; readonly messages: number };
  /** The least limits that let it through (empty when the refusal came from elsewhere). */
  readonly allow: LimitsToAllow;
  constructor(
    wouldDelete: number,
    archiveObjects: number,
    limit: number,
    reason: string,
    enqueuedBefore: { readonly items: number; readonly messages: number } = { items: 0, messages: 0 },
    /** Objects the run had queued for deletion before the refused page (their tokens moved on). */
    readonly queued = 0,
    /** The policy that refused: the message then says which raised limits let the deletion through. */
    options: { readonly policy?: DeletePolicy } = {},
  ) {
    const allow =
      options.policy === undefined ? {} : limitsToAllow(options.policy, wouldDelete, archiveObjects);
    const how = describeLimitsToAllow(allow);
    super(
      `refused to delete ${wouldDelete} of ${archiveObjects} archived objects (${reason}; at most ${limit} per run); ${queued ? `${queued} queued for deletion before the stop` : 'nothing was deleted'}${how ? `; to let it through, raise ${how} (then set it back)` : ''}`,
    );
    this.wouldDelete = wouldDelete;
    this.archiveObjects = archiveObjects;
    this.limit = limit;
    this.enqueuedBefore = enqueuedBefore;
    this.allow = allow;
  }
}

/**
 * The stricter of two delete modes: `keep` unless both say `mirror`. A purge detection queued
 * carries the mode it was checked under (`WorkMessage.deleteMode`); the worker deletes only when
 * that and its own mode are both `mirror`, so work queued under `keep` (no safety stop) is never
 * deleted by workers switched to `mirror` since. A message without the mode (an older release's)
 * counts as `keep`: deleting needs the detection's word that the stop weighed it.
 */
export function stricterDeleteMode(a: DeleteMode | undefined, b: DeleteMode): DeleteMode {
  return a === 'mirror' && b === 'mirror' ? 'mirror' : 'keep';
}

/** Most objects a run over an archive of `archiveObjects` objects may delete under `policy`. */
export function deletionLimit(policy: DeletePolicy, archiveObjects: number): number {
  return Math.min(policy.maxDeleteCount, Math.floor(policy.maxDeleteFraction * archiveObjects + 1e-9));
}

/**
 * Parses `DELETE_POLICY`, `MAX_DELETE_FRACTION` and `MAX_DELETE_COUNT` (each optional; the
 * defaults above apply).
 *
 * @throws InvalidInputError naming the variable and the valid values.
 */
export function parseDeletePolicy(values: {
  readonly mode?: string | undefined;
  readonly maxDeleteFraction?: string | undefined;
  readonly maxDeleteCount?: string | undefined;
}): DeletePolicy {
  const modeText = values.mode?.trim() || DEFAULT_DELETE_POLICY.mode;
  if (modeText !== 'keep' && modeText !== 'mirror') {
    throw new InvalidInputError(`DELETE_POLICY: unknown value "${modeText}". Valid values: keep, mirror`);
  }
  const fraction = parseNumber(
    'MAX_DELETE_FRACTION',
    values.maxDeleteFraction,
    DEFAULT_DELETE_POLICY.maxDeleteFraction,
  );
  if (fraction < 0 || fraction > 1) {
    throw new InvalidInputError(`MAX_DELETE_FRACTION: ${fraction} is outside 0..1 (e.g. 0.05 for 5 %)`);
  }
  const count = parseNumber('MAX_DELETE_COUNT', values.maxDeleteCount, DEFAULT_DELETE_POLICY.maxDeleteCount);
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new InvalidInputError(`MAX_DELETE_COUNT: ${count} is not a whole number of objects >= 0`);
  }
  return Object.freeze({ mode: modeText, maxDeleteFraction: fraction, maxDeleteCount: count });
}

function parseNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text.trim());
  if (!Number.isFinite(value)) throw new InvalidInputError(`${name}: "${text}" is not a number`);
  return value;
}
