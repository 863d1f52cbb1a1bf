/** Switches of the sign-in simulation (`GET`/`POST /__sim/settings`). */

export interface AuthSettings {
  /**
   * Strict (the simulator's pre-2026 default, now a switch; an account's own `strictIdmsaHeaders`
   * flag overrides it): signin/complete needs the `scnt` of its init, and verify/*, 2sv/trust, escrow/*
   * need `X-Apple-ID-Session-Id` (the session id itself) plus a `scnt` that session handed out, else 401.
   * Off (default, as Apple answers the recorded exchanges): signin/complete needs only its `c`; other
   * calls find their session by `X-Apple-ID-Session-Id` (the session id, or the session token that
   * icloudpd sends in its place), else by the `aasp` cookie; `scnt` is not checked.
   */
  strictIdmsaHeaders: boolean;
  /**
   * Replay icloudpd's hand-edited cassettes (S14, S19 in docs/protocol/simulator-contract.md#sign-in): two-factor answered 200
   * `{"auth_type":"hsa2"}` instead of 409, and the legacy `/signin` answered as recorded instead of 503.
   */
  cassetteMode: boolean;
  /** SRP sign-ins per account in a rolling window before signin/init answers 503 (S18 in docs/protocol/simulator-contract.md#sign-in). */
  srpLimit: number;
  srpWindowMs: number;
  /** A blocked attempt counts too, so retrying during a block extends it. */
  srpBlockExtends: boolean;
  /** Wrong codes / pushes within `codeWindowMs` before the lock-out flags are set (S28 in docs/protocol/simulator-contract.md#two-factor-and-trust). */
  maxWrongCodes: number;
  maxPushes: number;
  codeWindowMs: number;
  /** A push within this many ms of the previous one re-sends the same code (Apple de-duplicates). 0 = never. */
  pushDedupMs: number;
  /**
   * Accounts in the `2025` auth flow: signin/complete pushes a code by itself when it answers 409
   * (icloudpd relied on this). Accounts in the `2026` flow never do.
   */
  autoPushOnSignin: boolean;
  /** requestPCS answers `failure` this many times before the simulated device approves (ADP). */
  pcsPollsBeforeApproval: number;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
  strictIdmsaHeaders: false,
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
