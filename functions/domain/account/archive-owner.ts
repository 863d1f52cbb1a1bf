/**
 * The archive's account check, the one owner of the rule: a run that reads the library (detection,
 * `verify --repair`, a download batch) first compares the signed-in account with the one recorded
 * with the archive's state. The first run records it (an archive made by a release that recorded
 * none adopts the account of its first run under this one); another account's session is refused
 * with `AccountConditionError('otherAccount')` before any request to Apple and any write: no
 * purge is inferred from a library that is not the archive's, nothing of that library is mixed in.
 *
 * Cost: one strongly consistent read of a small item per run; one conditional write, once per
 * archive.
 */
import { AccountConditionError } from '../errors.ts';
import type { AccountIdentity, ArchiveOwner } from '../model/archive-owner.ts';

/** `AccountConditionError.condition` of a session signed in to another account than the archive's. */
export const OTHER_ACCOUNT = 'otherAccount';

/** What the check reads and writes (a part of the state store port). */
export interface ArchiveOwnerStore {
  /** The account recorded with the archive, undefined before the first run (or an older release's archive). */
  loadArchiveOwner(): Promise<ArchiveOwner | undefined>;
  /**
   * Records `owner` unless an owner is recorded (one conditional write); returns the recorded
   * owner: `owner`, or the one another run recorded first.
   */
  recordArchiveOwner(owner: ArchiveOwner): Promise<ArchiveOwner>;
}

export type ArchiveOwnerCheck =
  /** The session's account is the archive's. */
  | 'same'
  /** No account was recorded: the session's is now (a new archive, or one made by an older release). */
  | 'recorded'
  /** The session does not say which account it is: nothing to compare (test doubles). */
  | 'unknown';

/**
 * Compares the session's account with the archive's. `record: false` (a download batch) only
 * compares: recording is the detector's and `verify --repair`'s.
 *
 * @throws AccountConditionError (`otherAccount`) when the archive belongs to another account.
 */
export async function checkArchiveOwner(
  store: Pick<ArchiveOwnerStore, 'loadArchiveOwner'> & Partial<Pick<ArchiveOwnerStore, 'recordArchiveOwner'>>,
  options: {
    readonly account: AccountIdentity | undefined;
    readonly now: number;
    /** What to run to sign in again (`icloud-s3 login`, `icloud-s3 login --aws`). */
    readonly loginCommand?: string;
  },
): Promise<ArchiveOwnerCheck> {
  const { account } = options;
  if (account === undefined) return 'unknown';
  let owner = await store.loadArchiveOwner();
  if (owner === undefined) {
    if (store.recordArchiveOwner === undefined) return 'unknown';
    owner = await store.recordArchiveOwner({
      accountId: account.id,
      ...(account.label === undefined ? {} : { label: account.label }),
      since: options.now,
    });
    if (owner.accountId === account.id) return 'recorded';
  }
  if (owner.accountId === account.id) return 'same';
  throw new AccountConditionError(OTHER_ACCOUNT, otherAccountMessage(owner, account, options.loginCommand));
}

/** The refusal, naming both accounts masked and what to do. */
export function otherAccountMessage(
  owner: ArchiveOwner,
  account: AccountIdentity,
  loginCommand = 'icloud-s3 login',
): string {
  const archive = owner.label ?? 'another Apple ID';
  const signedIn = account.label ?? 'another Apple ID';
  return (
    `this archive belongs to ${archive}, but the session is signed in to ${signedIn}: ` +
    `nothing was read, written or deleted. Sign in again with the archive's Apple ID (${loginCommand}), ` +
    'or archive the other account into its own folder or stack (its own --local DIR and --session-file PATH; in AWS its own stack)'
  );
}
