/**
 * The state of one `icloud-s3 login`: a session for the Apple ID (keeping the stored client id and
 * trust token when the stored session is for the same Apple ID, so Apple may skip two-factor), the
 * authenticator that drives it, and a way to store the result.
 */

import { ConflictError } from '#domain/errors.ts';
import type { SessionStore } from '#ports/session-store.ts';
import type { Logger } from '#shared/logger.ts';
import type { Secret } from '#shared/redact.ts';
import type { AccountInfo } from '../auth/account-document.ts';
import type { AuthContext } from '../auth/auth-context.ts';
import { IcloudAuthenticator } from '../auth/authenticator.ts';
import { validateSession } from '../auth/setup-service.ts';
import type { IcloudEndpoint } from '../endpoints.ts';
import { FetchIcloudHttp } from '../http/fetch-icloud-http.ts';
import type { ExchangeObserver } from '../http/types.ts';
import { accountIdentity } from './account-identity.ts';
import { IcloudSession } from './icloud-session.ts';
import { parseSessionDocument, serializeSessionDocument } from './session-schema.ts';

export interface BeginLoginOptions {
  readonly endpoint: IcloudEndpoint;
  readonly store: SessionStore;
  readonly appleId: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** Sees every exchange with Apple (`--trace`). */
  readonly observer?: ExchangeObserver;
}

export interface LoginSession {
  readonly session: IcloudSession;
  /**
   * When the session stored before this login had signed in to another account than `dsid` (the
   * new sign-in's): that account's Apple ID, masked (`login` warns: an archive synced with it
   * refuses the new session). Undefined for the same account or none.
   */
  replacedAccount(dsid: string): string | undefined;
  /** Clears what a previous sign-in left (keeping client id and trust token) and returns the authenticator. */
  startSignIn(): Promise<IcloudAuthenticator>;
  /** Whether a stored session for this Apple ID already works (one `validate`, no sign-in). */
  checkStored(): Promise<AccountInfo | undefined>;
  /** Stores the signed-in session; the password only when given (`--remember-password`). */
  save(options: { readonly rememberPassword?: Secret<string> }): Promise<void>;
  /** Stores what a failed attempt learned that must survive (throttle window), nothing else. */
  saveThrottle(): Promise<void>;
  /**
   * After `checkStored` found the session working: decides its remembered password again, as a
   * sign-in's `save` does (stored when given, else removed), with no sign-in. What changed.
   */
  rememberPassword(password: Secret<string> | undefined): Promise<PasswordChange>;
}

/** What `rememberPassword` changed in the stored session (`null`: nothing). */
export type PasswordChange = 'stored' | 'removed' | null;

/** The Apple ID of the stored session, if one is stored (`login` without `--apple-id`). */
export async function storedAppleId(store: SessionStore): Promise<string | undefined> {
  const stored = await store.load();
  return stored ? parseSessionDocument(stored.document).appleId : undefined;
}

/** Tries of a save that meets runs saving the same session meanwhile (each try reloads). */
const SAVE_TRIES = 3;

export async function beginLogin(options: BeginLoginOptions): Promise<LoginSession> {
  const now = options.now ?? Date.now;
  const stored = await options.store.load();
  const previous = stored
    ? await IcloudSession.fromDocument(parseSessionDocument(stored.document))
    : undefined;
  const sameAccount = previous && previous.appleId.toLowerCase() === options.appleId.toLowerCase();
  const session = sameAccount
    ? previous
    : IcloudSession.create({ appleId: options.appleId, endpoint: options.endpoint.id, now: now() });
  const storedSession = sameAccount ? previous : undefined;
  let revision = stored?.revision;

  const makeContext = (s: IcloudSession): AuthContext => ({
    http: new FetchIcloudHttp({
      endpoint: options.endpoint,
      jar: s.jar,
      logger: options.logger,
      onSessionHeaders: (values) => s.applyHeaders(values, now()),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.observer ? { observer: options.observer } : {}),
    }),
    session: s,
    endpoint: options.endpoint,
    logger: options.logger,
    now,
  });

  const ctx = makeContext(session);
  /** What the stored session now is, as far as this login knows (a run's save it met, adopted). */
  let base = session;
  /**
   * Saves `first` compare-and-set. A run that saved meanwhile (its rotated cookies every 30 min,
   * a refresh: `ConflictError`) is not lost or fatal: the stored session is reloaded and
   * `onLatest(it)` saved over it, at most `SAVE_TRIES` times; another Apple ID's is never replaced.
   */
  const saveOverRuns = async (
    first: IcloudSession,
    onLatest: (latest: IcloudSession) => IcloudSession,
  ): Promise<void> => {
    let current = first;
    for (let attempt = 1; ; attempt++) {
      try {
        const document = serializeSessionDocument(await current.toDocument(now()));
        revision = (await options.store.save(document, revision)).revision;
        base = current;
        return;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= SAVE_TRIES) throw error;
        const latest = await options.store.load();
        if (latest !== undefined) {
          const fresh = await IcloudSession.fromDocument(parseSessionDocument(latest.document));
          if (fresh.appleId.toLowerCase() !== session.appleId.toLowerCase()) throw error;
          current = onLatest(fresh);
        }
        revision = latest?.revision;
      }
    }
  };

  const previousDsid = previous?.fields.dsid;
  const storedAccount = previousDsid ? accountIdentity(previousDsid, previous?.appleId) : undefined;
  return {
    replacedAccount(dsid: string) {
      if (storedAccount === undefined || storedAccount.id === accountIdentity(dsid, undefined).id)
        return undefined;
      return storedAccount.label ?? 'another Apple ID';
    },
    async startSignIn() {
      await session.resetForSignIn();
      return new IcloudAuthenticator(ctx);
    },
    session,
    async checkStored() {
      if (!storedSession?.fields.dsid) return undefined;
      // Latched: a run learnt Apple wants a person (two-factor, a changed password...). A session
      // that still answers would not tell whether the remembered password works: sign in afresh.
      if (storedSession.fields.signInNeeded) return undefined;
      const account = await validateSession(ctx).catch(() => undefined);
      if (account && !account.requiresTwoFactor) {
        // A run's save meanwhile holds the newer cookies of the same working session: it stands.
        await saveOverRuns(session, (latest) => latest);
        return account;
      }
      return undefined;
    },
    async save({ rememberPassword }) {
      session.update({
        endpoint: options.endpoint.id,
        throttledUntil: undefined,
        signInNeeded: undefined,
        password: rememberPassword?.reveal(),
      });
      // The person's sign-in is the newest: it replaces what a run saved meanwhile (that run's
      // cookies, or its latch, finding 22, belong to the sign-in this one supersedes).
      await saveOverRuns(session, () => session);
    },
    async saveThrottle() {
      const throttledUntil = session.fields.throttledUntil;
      if (throttledUntil === undefined) return;
      // On a run's save meanwhile the window goes onto what it saved (its session may still work).
      await saveOverRuns(session, (latest) => {
        latest.update({ throttledUntil });
        return latest;
      });
    },
    async rememberPassword(password) {
      const wanted = password?.reveal();
      if (session.fields.password === wanted) return null;
      // A run that saved its rotated cookies meanwhile keeps them: the decision goes onto its save.
      const decide = (s: IcloudSession) => {
        s.update({ password: wanted });
        return s;
      };
      decide(session);
      await saveOverRuns(decide(base), decide);
      return wanted === undefined ? 'removed' : 'stored';
    },
  };
}
