/**
 * In-memory IdMSA state: SRP handshakes (keyed by `c`), signed-in IdMSA sessions (keyed by
 * `X-Apple-ID-Session-Id`), per-account SRP throttling windows and two-factor code state. None of it
 * survives a restart, as a half-finished sign-in would not survive one at Apple either.
 */
import { randomInt } from 'node:crypto';
import type { AccountRecord } from '../accounts/account.ts';
import type { Clock } from '../types.ts';
import type { AuthSettings } from './settings.ts';

const HANDSHAKE_TTL_MS = 5 * 60_000;

export interface Handshake {
  readonly c: string;
  readonly accountName: string;
  readonly account: AccountRecord | undefined;
  readonly salt: Buffer;
  /** The client's public value, from signin/init. */
  readonly A: bigint;
  readonly b: bigint;
  readonly B: bigint;
  readonly v: bigint;
  readonly scnt: string;
  readonly createdAt: number;
}

export interface IdmsaSession {
  readonly id: string;
  readonly account: AccountRecord;
  /** Every scnt this session handed out; a request must echo one of them (strict mode). */
  readonly scnts: Set<string>;
  /** The browser id from the `aasp` cookie, when the client keeps cookies. */
  aasp: string | undefined;
  needs2fa: boolean;
  repairPending: boolean;
  fido: boolean;
  verified: boolean;
  trusted: boolean;
  /** Escrow (EDP/PDP) is required before this session counts as trusted (docs/protocol/sign-in.md). */
  escrowPending: boolean;
  /** The running escrow/init handshake, good for one escrow/complete. */
  escrowHandshake: EscrowHandshake | undefined;
  /** The `fsaChallenge.challenge` of a security-key account's 409. */
  fsaChallenge: string | undefined;
  lastActive: number;
}

export interface EscrowHandshake {
  readonly c: string;
  readonly salt: Buffer;
  readonly A: bigint;
  readonly b: bigint;
  readonly B: bigint;
  readonly v: bigint;
}

/** One sign-in step an account performed (`GET /__sim/accounts/steps`), for checking a client's order of calls. */
export interface SignInStep {
  readonly at: number;
  readonly step: SignInStepName;
  readonly status: number;
}

export type SignInStepName =
  | 'signin-init'
  | 'signin-complete'
  | 'auth-options'
  | 'push-trigger'
  | 'old-trigger'
  | 'sms-sent'
  | 'code-accepted'
  | 'code-rejected'
  | 'escrow-init'
  | 'escrow-complete'
  | 'trust'
  | 'key-assertion'
  | 'bridge-step'
  | 'account-login';

export interface PushedCode {
  readonly appleId: string;
  readonly code: string;
  readonly via: 'device' | 'sms' | 'voice';
  readonly at: number;
}

interface CodeState {
  current: PushedCode | undefined;
  wrong: number[];
  pushes: number[];
}

export type PushOutcome = { readonly ok: true; readonly code: PushedCode } | { readonly ok: false };
export type CheckOutcome = 'ok' | 'wrong' | 'locked';

export class IdmsaState {
  readonly #clock: Clock;
  readonly #settings: AuthSettings;
  readonly #handshakes = new Map<string, Handshake>();
  readonly #sessions = new Map<string, IdmsaSession>();
  readonly #attempts = new Map<string, number[]>();
  readonly #codes = new Map<string, CodeState>();
  #lastCode: PushedCode | undefined;
  readonly #lastByAccount = new Map<string, PushedCode>();
  #nextCode: string | undefined;
  readonly #steps = new Map<string, SignInStep[]>();

  constructor(clock: Clock, settings: AuthSettings) {
    this.#clock = clock;
    this.#settings = settings;
  }

  addHandshake(h: Handshake): void {
    const now = this.#clock.now();
    for (const [c, old] of this.#handshakes)
      if (now - old.createdAt > HANDSHAKE_TTL_MS) this.#handshakes.delete(c);
    this.#handshakes.set(h.c, h);
  }

  /** Removes and returns the handshake: a `c` is good for one signin/complete only. */
  takeHandshake(c: string): Handshake | undefined {
    const h = this.#handshakes.get(c);
    this.#handshakes.delete(c);
    if (h && this.#clock.now() - h.createdAt > HANDSHAKE_TTL_MS) return undefined;
    return h;
  }

  addSession(s: IdmsaSession): void {
    this.#sessions.set(s.id, s);
  }

  session(id: string): IdmsaSession | undefined {
    return this.#sessions.get(id);
  }

  sessionByAasp(aasp: string): IdmsaSession | undefined {
    let found: IdmsaSession | undefined;
    for (const s of this.#sessions.values()) if (s.aasp === aasp) found = s;
    return found;
  }

  /**
   * Records an SRP attempt for `accountName` and says whether it is throttled: more than `srpLimit`
   * attempts in the rolling window. A blocked attempt is recorded too (when `srpBlockExtends`).
   */
  srpAttempt(accountName: string): { readonly throttled: boolean } {
    const key = accountName.trim().toLowerCase();
    const now = this.#clock.now();
    const recent = (this.#attempts.get(key) ?? []).filter((t) => now - t < this.#settings.srpWindowMs);
    const throttled = recent.length >= this.#settings.srpLimit;
    if (!throttled || this.#settings.srpBlockExtends) recent.push(now);
    this.#attempts.set(key, recent);
    return { throttled };
  }

  resetThrottle(): void {
    this.#attempts.clear();
    for (const s of this.#codes.values()) {
      s.wrong = [];
      s.pushes = [];
    }
  }

  /** Records a sign-in step of `appleId` (kept per account, newest last, at most 500). */
  logStep(appleId: string, step: SignInStepName, status: number): void {
    const key = appleId.trim().toLowerCase();
    const list = this.#steps.get(key) ?? [];
    list.push({ at: this.#clock.now(), step, status });
    if (list.length > 500) list.shift();
    this.#steps.set(key, list);
  }

  steps(appleId: string): readonly SignInStep[] {
    return this.#steps.get(appleId.trim().toLowerCase()) ?? [];
  }

  clearSteps(): void {
    this.#steps.clear();
  }

  /**
   * Shows a code on the account's devices that no verifier accepts: the code of a bridge session
   * opened with a push token the simulator never issued (icloudpd PR #1327, kei v0.5.1).
   */
  showUnusableCode(account: AccountRecord): PushedCode {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const shown: PushedCode = { appleId: account.appleId, code, via: 'device', at: this.#clock.now() };
    this.#lastCode = shown;
    this.#lastByAccount.set(account.appleId.toLowerCase(), shown);
    return shown;
  }

  /** Makes the next pushed code `code` (tests of leading zeros). */
  setNextCode(code: string): void {
    this.#nextCode = code;
  }

  /** Sends a new code to the account's devices or phone; a new code replaces the previous one. */
  push(account: AccountRecord, via: PushedCode['via']): PushOutcome {
    const state = this.#codeState(account);
    const now = this.#clock.now();
    if (this.tooManyCodesSent(account)) return { ok: false };
    state.pushes.push(now);
    const dedup = this.#settings.pushDedupMs;
    if (state.current && dedup > 0 && now - state.current.at < dedup)
      return { ok: true, code: state.current };
    const code = this.#nextCode ?? String(randomInt(0, 1_000_000)).padStart(6, '0');
    this.#nextCode = undefined;
    state.current = { appleId: account.appleId, code, via, at: now };
    this.#lastCode = state.current;
    this.#lastByAccount.set(account.appleId.toLowerCase(), state.current);
    return { ok: true, code: state.current };
  }

  /** Compares as strings (leading zeros significant); a correct code is used up. */
  checkCode(account: AccountRecord, sent: unknown): CheckOutcome {
    const state = this.#codeState(account);
    if (this.securityCodeLocked(account)) return 'locked';
    const sentCode = typeof sent === 'string' || typeof sent === 'number' ? String(sent) : undefined;
    if (state.current && sentCode === state.current.code) {
      state.current = undefined;
      state.wrong = [];
      return 'ok';
    }
    state.wrong.push(this.#clock.now());
    return 'wrong';
  }

  tooManyCodesSent(account: AccountRecord): boolean {
    const s = this.#codeState(account);
    return s.pushes.length >= this.#settings.maxPushes;
  }

  securityCodeLocked(account: AccountRecord): boolean {
    return this.#codeState(account).wrong.length >= this.#settings.maxWrongCodes;
  }

  /** The last code pushed to any simulated device or phone (optionally of one account). */
  lastCode(appleId?: string): PushedCode | undefined {
    if (appleId === undefined) return this.#lastCode;
    return this.#lastByAccount.get(appleId.trim().toLowerCase());
  }

  #codeState(account: AccountRecord): CodeState {
    const key = account.appleId.toLowerCase();
    let s = this.#codes.get(key);
    if (!s) {
      s = { current: undefined, wrong: [], pushes: [] };
      this.#codes.set(key, s);
    }
    const now = this.#clock.now();
    s.wrong = s.wrong.filter((t) => now - t < this.#settings.codeWindowMs);
    s.pushes = s.pushes.filter((t) => now - t < this.#settings.codeWindowMs);
    return s;
  }
}
