/**
 * Which Apple ID account an archive belongs to. Recorded with the archive's state by its first run
 * (or the first run of a release that records it, over an older archive), then compared with the
 * signed-in session by every run that reads the library: another account's session is refused
 * before anything is read or written (domain/account/archive-owner.ts).
 */

/** The signed-in account, as the session knows it. */
export interface AccountIdentity {
  /**
   * `sha256:<hex>` of the account's dsid (Apple's account number): the same account always gives
   * the same id; the dsid itself is never stored or logged.
   */
  readonly id: string;
  /** The Apple ID masked (`j***@e***.com`), for messages; absent when the session does not know it. */
  readonly label?: string;
}

/** The account recorded with the archive's state. */
export interface ArchiveOwner {
  /** `AccountIdentity.id`. */
  readonly accountId: string;
  /** `AccountIdentity.label` when recorded (masked). */
  readonly label?: string;
  /** When it was recorded (ms). */
  readonly since: number;
}
