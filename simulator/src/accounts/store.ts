/**
 * Everything about accounts that must survive a restart: the accounts themselves, trust tokens,
 * session tokens (`dsWebAuthToken`) and web sessions (the `.icloud.com` cookies CloudKit checks).
 * Lifetimes run on the simulated clock. A token or session carries the account's credential epoch at
 * issue; a password change or sign-out-all bumps the epoch and so kills them all at once.
 */
import type { SimFamily } from '../identity.ts';
import type { Clock } from '../types.ts';
import type { AccountRecord } from './account.ts';
import { accountFor, DEFAULT_FLAGS } from './account.ts';
import { StateFile } from './state-file.ts';
import { newSessionToken, newTrustToken, newWebAuthValue } from './tokens.ts';

const DAY = 86_400_000;

export interface Lifetimes {
  /** Trust token (`X-Apple-TwoSV-Trust-Token`) lifetime; default 60 days (docs/protocol/session.md#cookies). */
  trustTokenMs: number;
  /** `X-Apple-Session-Token` lifetime; default 30 days. */
  sessionTokenMs: number;
  /** Web session (X-APPLE-WEBAUTH-TOKEN, -USER, DS-WEB-SESSION-TOKEN) lifetime; default 30 days. */
  webSessionMs: number;
  /** How long a rotated-out X-APPLE-WEBAUTH-TOKEN value stays valid; default 1 hour. */
  tokenGraceMs: number;
}

export const DEFAULT_LIFETIMES: Lifetimes = {
  trustTokenMs: 60 * DAY,
  sessionTokenMs: 30 * DAY,
  webSessionMs: 30 * DAY,
  tokenGraceMs: 3_600_000,
};

export interface TrustTokenRecord {
  appleId: string;
  issuedAt: number;
  expiresAt: number;
  epoch: number;
}

export interface SessionTokenRecord {
  appleId: string;
  /** The IdMSA session (X-Apple-ID-Session-Id) that issued it. */
  idmsaSessionId: string;
  issuedAt: number;
  expiresAt: number;
  epoch: number;
  /** Two-factor completed (or not needed) for this sign-in. */
  verified: boolean;
  /** A trust token was sent at sign-in or issued by 2sv/trust. */
  trusted: boolean;
  /** The 412 repair step is still outstanding. */
  repairPending: boolean;
  /** The account has security keys and the key challenge was never completed. */
  fidoIncomplete: boolean;
  /** Escrow (EDP/PDP) was required for this sign-in and not yet completed. */
  escrowPending?: boolean;
}

export interface WebSessionRecord {
  id: string;
  appleId: string;
  epoch: number;
  createdAt: number;
  expiresAt: number;
  /** May call CloudKit (two-factor done or not needed). */
  authorized: boolean;
  trusted: boolean;
  fidoIncomplete: boolean;
  /** Current X-APPLE-WEBAUTH-TOKEN value (with its quotes). */
  current: string;
  /** Rotated-out values -> valid until (ms). */
  previous: Record<string, number>;
  /** PCS cookies granted (ADP accounts need requestPCS first). */
  pcsGranted: boolean;
}

interface PersistedState {
  version: 1;
  clockOffsetMs: number;
  accounts: Record<string, AccountRecord>;
  trustTokens: Record<string, TrustTokenRecord>;
  sessionTokens: Record<string, SessionTokenRecord>;
  webSessions: Record<string, WebSessionRecord>;
}

export type WebTokenCheck =
  | { readonly ok: true; readonly session: WebSessionRecord; readonly account: AccountRecord }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'revoked' };

export class AccountStore {
  readonly lifetimes: Lifetimes;
  readonly #clock: Clock & { readonly offsetMs?: number };
  readonly #file: StateFile<PersistedState> | undefined;
  #state: PersistedState;
  /** X-APPLE-WEBAUTH-TOKEN value -> web session id. */
  readonly #byWebToken = new Map<string, string>();

  constructor(options: {
    family: SimFamily;
    clock: Clock & { readonly offsetMs?: number };
    stateDir?: string | undefined;
    lifetimes?: Partial<Lifetimes> | undefined;
  }) {
    this.#clock = options.clock;
    this.lifetimes = { ...DEFAULT_LIFETIMES, ...options.lifetimes };
    this.#file = options.stateDir ? new StateFile<PersistedState>(options.stateDir) : undefined;
    const stored = this.#file?.read() as PersistedState | undefined;
    if (stored?.version === 1) {
      this.#state = stored;
      // State files written before a flag existed lack it: the default applies.
      for (const a of Object.values(stored.accounts)) a.flags = { ...DEFAULT_FLAGS, ...a.flags };
    } else {
      const { owner, member } = options.family;
      this.#state = {
        version: 1,
        clockOffsetMs: 0,
        accounts: {
          [owner.appleId.toLowerCase()]: accountFor(owner, '81'),
          [member.appleId.toLowerCase()]: accountFor(member, '42'),
        },
        trustTokens: {},
        sessionTokens: {},
        webSessions: {},
      };
      this.changed();
    }
    for (const s of Object.values(this.#state.webSessions)) this.#indexWebSession(s);
  }

  /** The simulated-clock offset stored with the state (so a restart keeps simulated time). */
  get storedClockOffsetMs(): number {
    return this.#state.clockOffsetMs;
  }

  account(appleId: string): AccountRecord | undefined {
    return this.#state.accounts[appleId.trim().toLowerCase()];
  }

  accounts(): AccountRecord[] {
    return Object.values(this.#state.accounts);
  }

  /** Persists account edits made through the returned records. */
  changed(): void {
    this.#file?.schedule(() => ({ ...this.#state, clockOffsetMs: this.#clock.offsetMs ?? 0 }));
  }

  flush(): void {
    this.changed();
    this.#file?.flush();
  }

  /** Password change / sign-out of all browsers: every trust token, session token and web session dies. */
  revokeAll(account: AccountRecord): void {
    account.credentialEpoch += 1;
    this.changed();
  }

  issueTrustToken(account: AccountRecord): string {
    const token = newTrustToken();
    const now = this.#clock.now();
    this.#state.trustTokens[token] = {
      appleId: account.appleId.toLowerCase(),
      issuedAt: now,
      expiresAt: now + this.lifetimes.trustTokenMs,
      epoch: account.credentialEpoch,
    };
    this.changed();
    return token;
  }

  /** True when `token` is an unexpired, unrevoked trust token of `account`. */
  trustTokenValid(account: AccountRecord, token: string): boolean {
    const t = this.#state.trustTokens[token];
    return (
      t !== undefined &&
      t.appleId === account.appleId.toLowerCase() &&
      t.epoch === account.credentialEpoch &&
      this.#clock.now() < t.expiresAt
    );
  }

  issueSessionToken(
    account: AccountRecord,
    fields: Pick<
      SessionTokenRecord,
      'idmsaSessionId' | 'verified' | 'trusted' | 'repairPending' | 'fidoIncomplete' | 'escrowPending'
    >,
  ): string {
    const token = newSessionToken();
    const now = this.#clock.now();
    this.#state.sessionTokens[token] = {
      appleId: account.appleId.toLowerCase(),
      issuedAt: now,
      expiresAt: now + this.lifetimes.sessionTokenMs,
      epoch: account.credentialEpoch,
      ...fields,
    };
    this.changed();
    return token;
  }

  /** A live session token and its account, or undefined when unknown, expired or revoked. */
  sessionToken(token: string): { record: SessionTokenRecord; account: AccountRecord } | undefined {
    const record = this.#state.sessionTokens[token];
    if (!record) return undefined;
    const account = this.#state.accounts[record.appleId];
    if (!account || record.epoch !== account.credentialEpoch || this.#clock.now() >= record.expiresAt) {
      return undefined;
    }
    return { record, account };
  }

  /** Clears the repair flag on every session token of one IdMSA session. */
  completeRepair(idmsaSessionId: string): void {
    for (const t of Object.values(this.#state.sessionTokens)) {
      if (t.idmsaSessionId === idmsaSessionId) t.repairPending = false;
    }
    this.changed();
  }

  createWebSession(
    account: AccountRecord,
    fields: Pick<WebSessionRecord, 'authorized' | 'trusted' | 'fidoIncomplete'>,
  ): WebSessionRecord {
    const now = this.#clock.now();
    const session: WebSessionRecord = {
      id: newWebAuthValue(1),
      appleId: account.appleId.toLowerCase(),
      epoch: account.credentialEpoch,
      createdAt: now,
      expiresAt: now + this.lifetimes.webSessionMs,
      current: newWebAuthValue(2),
      previous: {},
      pcsGranted: !account.flags.iCDPEnabled,
      ...fields,
    };
    this.#state.webSessions[session.id] = session;
    this.#indexWebSession(session);
    this.changed();
    return session;
  }

  /** Checks an X-APPLE-WEBAUTH-TOKEN value (with or without its quotes). */
  checkWebToken(value: string): WebTokenCheck {
    const quoted = value.startsWith('"') ? value : `"${value}"`;
    const id = this.#byWebToken.get(quoted);
    const session = id === undefined ? undefined : this.#state.webSessions[id];
    if (!session) return { ok: false, reason: 'unknown' };
    const account = this.#state.accounts[session.appleId];
    if (!account || session.epoch !== account.credentialEpoch) return { ok: false, reason: 'revoked' };
    const now = this.#clock.now();
    if (now >= session.expiresAt) return { ok: false, reason: 'expired' };
    if (session.current !== quoted) {
      const until = session.previous[quoted];
      if (until === undefined || now >= until) return { ok: false, reason: 'expired' };
    }
    return { ok: true, session, account };
  }

  /**
   * Issues the next X-APPLE-WEBAUTH-TOKEN value of a session (every CloudKit response does this).
   * The value the client sent stays valid for `tokenGraceMs`; older rotated values are pruned.
   */
  rotateWebToken(session: WebSessionRecord, sent: string): string {
    const now = this.#clock.now();
    const quoted = sent.startsWith('"') ? sent : `"${sent}"`;
    // Values were retired in order, so the expired ones are at the front: stop at the first live one.
    for (const value in session.previous) {
      if ((session.previous[value] ?? 0) > now) break;
      delete session.previous[value];
      this.#byWebToken.delete(value);
    }
    if (session.current === quoted) {
      session.previous[quoted] = now + this.lifetimes.tokenGraceMs;
      session.current = newWebAuthValue(2);
      this.#byWebToken.set(session.current, session.id);
      this.changed();
      return session.current;
    }
    // An older, still-in-grace value: answer with the current one rather than forking the chain.
    return session.current;
  }

  #indexWebSession(s: WebSessionRecord): void {
    this.#byWebToken.set(s.current, s.id);
    for (const v of Object.keys(s.previous)) this.#byWebToken.set(v, s.id);
  }
}
