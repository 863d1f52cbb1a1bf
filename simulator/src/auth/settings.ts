/** Switches of the sign-in simulation (`GET`/`POST /__sim/settings`). */

export interface AuthSettings {
  /**
   * Require `scnt` + `X-Apple-ID-Session-Id` from earlier responses on signin/complete, verify/*,
   * 2sv/trust (statement 17). Off: a request without them acts on the most recent IdMSA session.
   */
  strictIdmsaHeaders: boolean;
  /**
   * Replay icloudpd's hand-edited cassettes (statement 14, 19): two-factor answered 200
   * `{"auth_type":"hsa2"}` instead of 409, and the legacy `/signin` answered as recorded instead of 503.
   */
  cassetteMode: boolean;
  /** SRP sign-ins per account in a rolling window before signin/init answers 503 (statement 18). */
  srpLimit: number;
  srpWindowMs: number;
  /** A blocked attempt counts too, so retrying during a block extends it. */
  srpBlockExtends: boolean;
  /** Wrong codes / pushes within `codeWindowMs` before the lock-out flags are set (statement 28). */
  maxWrongCodes: number;
  maxPushes: number;
  codeWindowMs: number;
  /** A push within this many ms of the previous one re-sends the same code (Apple de-duplicates). 0 = never. */
  pushDedupMs: number;
  /** signin/complete pushes a code by itself when it answers 409 (icloudpd relies on this). */
  autoPushOnSignin: boolean;
  /** requestPCS answers `failure` this many times before the simulated device approves (ADP). */
  pcsPollsBeforeApproval: number;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
  strictIdmsaHeaders: true,
  cassetteMode: false,
  srpLimit: 10,
  srpWindowMs: 3_600_000,
  srpBlockExtends: true,
  maxWrongCodes: 5,
  maxPushes: 10,
  codeWindowMs: 3_600_000,
  pushDedupMs: 0,
  autoPushOnSignin: true,
  pcsPollsBeforeApproval: 3,
};
