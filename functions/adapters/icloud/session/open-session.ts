/**
 * Opens the stored iCloud session for unattended use (CloudKit client, Lambdas, CLI commands other
 * than `login`). Reuse is cheap: nothing is sent until the caller's first request, which goes out
 * with the stored cookies. When CloudKit answers 401/421 or a bare 403 (no error code), or
 * sharedstreams 401 (SA-3: the same cookies), the client refreshes headlessly (spec
 * docs/protocol/session.md#validate-and-reuse: `accountLogin` with the stored tokens, then SRP with the remembered password and trust
 * token), rebuilds the CloudKit URL if the partition moved, retries the request once, and stores
 * the refreshed session (compare-and-set). When only a person can help it throws
 * `SessionExpiredError` naming the command to run, and latches the stored session
 * (`signInNeeded`): every later open throws `SignInLatchedError` before a single request to Apple,
 * until `login` stores a new session. A headless refresh never asks for a code, and skips SRP once
 * the trust has probably expired (SRP would only end at two-factor, and in Apple's older flow its
 * 409 pushes a code to the person's devices by itself).
 */

import {
  AccountConditionError,
  ConflictError,
  RateLimitedError,
  SessionExpiredError,
  SignInLatchedError,
} from '#domain/errors.ts';
import type { AccountIdentity } from '#domain/model/archive-owner.ts';
import { ROTATED_SESSION_SAVE_INTERVAL_MS } from '#domain/session-saves.ts';
import type { SessionStore } from '#ports/session-store.ts';
import type { Logger } from '#shared/logger.ts';
import { Secret } from '#shared/redact.ts';
import { accountCondition } from '../auth/account-conditions.ts';
import type { AuthContext } from '../auth/auth-context.ts';
import { accountLogin } from '../auth/setup-service.ts';
import { type IcloudEndpoint, sessionService } from '../endpoints.ts';
import { FetchIcloudHttp } from '../http/fetch-icloud-http.ts';
import type { ExchangeObserver, IcloudHttp, IcloudHttpRequest, IcloudHttpResponse } from '../http/types.ts';
import { accountIdentity } from './account-identity.ts';
import { IcloudSession } from './icloud-session.ts';
import { parseSessionDocument, type SessionDocument, serializeSessionDocument } from './session-schema.ts';

/** CloudKit's answer to a session minted without the security-key step (docs/protocol/cloudkit.md). */
const NO_AUTH_METHOD = /no auth method found/i;

export interface OpenIcloudSessionOptions {
  readonly endpoint: IcloudEndpoint;
  readonly store: SessionStore;
  /** Overrides the remembered password for a headless SRP refresh (e.g. from a secret). */
  readonly password?: Secret<string>;
  readonly logger: Logger;
  /** The command a person should run when sign-in needs them (default `icloud-s3 login`). */
  readonly loginCommand?: string;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /**
   * Told the Apple URL of every request this session sends: CloudKit and CDN calls, a headless
   * refresh's sign-in and accountLogin, the retry after it, each redirect hop (a counter wrapped
   * around `http` would see only the first of those).
   */
  readonly onRequest?: (appleUrl: string) => void;
  /** Sees every exchange with Apple (`--trace`). */
  readonly observer?: ExchangeObserver;
}

export interface OpenedIcloudSession {
  /**
   * Sends requests with the session's cookies; CloudKit 401/421/bare 403 and sharedstreams 401
   * trigger one headless refresh and one retry.
   */
  readonly http: IcloudHttp;
  /** The current CloudKit base URL (`https://pNN-ckdatabasews.icloud.com:443`); changes if Apple moves the account. */
  ckdatabasewsUrl(): string;
  /** `webservices.sharedstreams.url` (legacy Shared Albums), when the account lists it. */
  sharedstreamsUrl?(): string | undefined;
  /**
   * One `accountLogin` with the stored tokens, to learn the account's services (a session stored
   * by a release from before Shared Albums lacks `sharedstreamsUrl`), and the session saved.
   * No refresh, no latch: a failure is thrown to the caller.
   */
  lookUpAccount?(): Promise<void>;
  readonly dsid: string;
  /** The signed-in account (a hash of the dsid, the Apple ID masked): never the dsid itself. */
  readonly account?: AccountIdentity;
  /** `auth-<uuid>`: the `clientId` query parameter of CloudKit calls. */
  readonly clientId: string;
  /** Estimated end of Apple's trust (issue + ~60 days); the next login after it needs two-factor. */
  readonly trustExpiresAt?: number;
  /** When the stored session was last written (ms): how stale its rotated cookies may be. */
  readonly storedAt: number;
  /**
   * Stores the session if it changed (compare-and-set against what was loaded): at once when
   * anything but the rotated X-APPLE-WEBAUTH-TOKEN changed (a refresh, the latch), and a
   * rotated cookie alone only once the stored session is `ROTATED_SESSION_SAVE_INTERVAL_MS` old.
   */
  save(): Promise<void>;
}

/** Tries to store the latch or a looked-up service over a session another writer saved meanwhile (each: one load, one save). */
const MERGED_SAVE_ATTEMPTS = 3;

/**
 * Which sign-in a document holds (its session and trust tokens): a rotated cookie keeps it, a
 * refresh or a person's login changes it.
 */
function signInOf(document: SessionDocument): string {
  return JSON.stringify([document.sessionToken ?? null, document.trustToken ?? null]);
}

/** The statuses of a session Apple no longer takes: 401 stale, 421 a lost cookie or the wrong partition. */
const expired = (status: number): boolean => status === 401 || status === 421;

/** Refreshes allowed per opened session: never loop on sign-in. */
const MAX_REFRESHES = 2;

/** Opens the stored session; throws `SessionExpiredError` when there is none or it is incomplete. */
export async function openIcloudSession(options: OpenIcloudSessionOptions): Promise<OpenedIcloudSession> {
  const action = options.loginCommand ?? 'icloud-s3 login';
  const stored = await options.store.load();
  if (!stored) {
    throw new SessionExpiredError(`no iCloud session is stored at ${options.store.describe()}`, { action });
  }
  const document = parseSessionDocument(stored.document);
  if (document.signInNeeded) {
    const { since, reason } = document.signInNeeded;
    throw new SignInLatchedError(
      `iCloud sign-in needed since ${new Date(since).toISOString()} (${reason}); not asking Apple again until you sign in`,
      { since, action },
    );
  }
  const session = await IcloudSession.fromDocument(document);
  const { dsid, ckdatabasewsUrl } = session.fields;
  if (!dsid || !ckdatabasewsUrl) {
    throw new SessionExpiredError('the stored iCloud session never finished signing in', { action });
  }
  return new OpenedSession(options, session, stored.revision, action, document);
}

/** The cookie every CloudKit answer re-issues (docs/protocol/session.md#http-conventions). */
const ROTATING_COOKIE = 'X-APPLE-WEBAUTH-TOKEN';

/**
 * A session document without what a CloudKit answer rotates (the X-APPLE-WEBAUTH-TOKEN value and
 * its dates) and without its own write time: two documents that differ only by rotation compare equal.
 */
function withoutRotation(document: SessionDocument): string {
  const cookies = document.cookies
    .map((cookie) =>
      cookie.key === ROTATING_COOKIE
        ? { key: cookie.key, domain: cookie.domain, path: cookie.path, hostOnly: cookie.hostOnly }
        : cookie,
    )
    .map((cookie) => JSON.stringify(cookie))
    .sort();
  return JSON.stringify({ ...document, updatedAt: 0, cookies });
}

class OpenedSession implements OpenedIcloudSession {
  readonly http: IcloudHttp;
  readonly clientId: string;
  readonly #options: OpenIcloudSessionOptions;
  readonly #session: IcloudSession;
  readonly #ctx: AuthContext;
  readonly #action: string;
  #revision: string;
  /** What the stored session holds, rotation aside: a save compares against it. */
  #storedWithoutRotation: string;
  /** The sign-in of the stored session as this one last read or wrote it (see `signInOf`). */
  #storedSignIn: string;
  #dirty = false;
  #refreshes = 0;
  #refreshing: Promise<void> | undefined;

  storedAt: number;

  constructor(
    options: OpenIcloudSessionOptions,
    session: IcloudSession,
    revision: string,
    action: string,
    stored: SessionDocument,
  ) {
    this.storedAt = stored.updatedAt;
    this.#storedWithoutRotation = withoutRotation(stored);
    this.#storedSignIn = signInOf(stored);
    this.#options = options;
    this.#session = session;
    this.#revision = revision;
    this.#action = action;
    this.clientId = session.clientId;
    const now = options.now ?? Date.now;
    const transport = new FetchIcloudHttp({
      endpoint: options.endpoint,
      jar: session.jar,
      logger: options.logger,
      onSessionHeaders: (values) => session.applyHeaders(values, now()),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.observer ? { observer: options.observer } : {}),
    });
    this.#ctx = { http: transport, session, endpoint: options.endpoint, logger: options.logger, now };
    this.http = { send: (request) => this.#send(request) };
  }

  get dsid(): string {
    return this.#session.fields.dsid ?? '';
  }

  get account(): AccountIdentity | undefined {
    const { dsid } = this.#session.fields;
    return dsid ? accountIdentity(dsid, this.#session.appleId) : undefined;
  }

  get trustExpiresAt(): number | undefined {
    return this.#session.trustExpiresAt();
  }

  ckdatabasewsUrl(): string {
    return this.#session.fields.ckdatabasewsUrl ?? '';
  }

  sharedstreamsUrl(): string | undefined {
    return this.#session.fields.sharedstreamsUrl;
  }

  async lookUpAccount(): Promise<void> {
    await accountLogin(this.#ctx);
    this.#dirty = true;
    try {
      await this.save();
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // Another invocation stored the session meanwhile (a worker's rotated cookies, a refresh):
      // the service goes onto theirs, and this run's later saves go on from it.
      const url = this.sharedstreamsUrl();
      await this.#saveOntoStored((theirs) =>
        url === undefined || theirs.sharedstreamsUrl !== undefined || theirs.signInNeeded !== undefined
          ? undefined
          : { ...theirs, sharedstreamsUrl: url, updatedAt: this.#ctx.now() },
      );
    }
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    const now = this.#ctx.now();
    const current = await this.#session.toDocument(now);
    const unchanged = withoutRotation(current) === this.#storedWithoutRotation;
    // Only the rotated cookie changed: the stored one is still accepted for now, and each write
    // is a version Secrets Manager keeps for a day (docs/protocol/session.md#saving-the-session).
    if (unchanged && now - this.storedAt < ROTATED_SESSION_SAVE_INTERVAL_MS) return;
    const { revision } = await this.#options.store.save(serializeSessionDocument(current), this.#revision);
    this.#stored(current, revision);
  }

  /** What the store now holds: `document`, as `revision`. */
  #stored(document: SessionDocument, revision: string): void {
    this.#revision = revision;
    this.#storedWithoutRotation = withoutRotation(document);
    this.#storedSignIn = signInOf(document);
    this.#dirty = false;
    this.storedAt = document.updatedAt;
  }

  /**
   * Stores the latch set on this session. When another writer saved the session after this one
   * read it (compare-and-set refused), the latch goes onto theirs, with their newer cookies:
   * reloaded, merged and saved again, at most `MERGED_SAVE_ATTEMPTS` times. Dropped with a warning,
   * the next run would load an unlatched session and try accountLogin and SRP again with no one
   * there. Not merged over a newer sign-in (a refresh or a person's login changed the tokens):
   * that session may work, and a run that finds it does not latches it then.
   */
  async #storeLatch(): Promise<void> {
    try {
      await this.save();
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
    const latch = this.#session.fields.signInNeeded;
    if (latch === undefined) return;
    // Latched by another run already: nothing to add.
    const newer = await this.#saveOntoStored((theirs) =>
      theirs.signInNeeded !== undefined
        ? undefined
        : { ...theirs, signInNeeded: latch, updatedAt: this.#ctx.now() },
    );
    if (newer) this.#options.logger.warn('latch not stored: a newer sign-in was stored meanwhile');
  }

  /**
   * Stores `merge(theirs)` over the session another writer stored after this one read it, at most
   * `MERGED_SAVE_ATTEMPTS` times (each: one load, one save); `merge` answers undefined when theirs
   * needs nothing. Never over a newer sign-in (resolves true then): that session may work.
   */
  async #saveOntoStored(merge: (theirs: SessionDocument) => SessionDocument | undefined): Promise<boolean> {
    for (let attempt = 1; attempt <= MERGED_SAVE_ATTEMPTS; attempt += 1) {
      const stored = await this.#options.store.load();
      if (stored === undefined) return false;
      const theirs = parseSessionDocument(stored.document);
      const merged = merge(theirs);
      if (merged === undefined) return false;
      if (signInOf(theirs) !== this.#storedSignIn) return true;
      try {
        const { revision } = await this.#options.store.save(
          serializeSessionDocument(merged),
          stored.revision,
        );
        this.#stored(merged, revision);
        return false;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    throw new ConflictError('session not stored: it kept changing');
  }

  async #send(request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
    // sharedstreams takes the same cookies as CloudKit, and answers their expiry with 401 (SA-3).
    const service = request.withoutCookies ? undefined : sessionService(request.url);
    const baseBefore = this.ckdatabasewsUrl();
    const response = await this.#ctx.http.send(request);
    if (!service) return response;
    // Every CloudKit answer rotates X-APPLE-WEBAUTH-TOKEN (docs/protocol/session.md#http-conventions): the jar changed.
    if (service === 'ckdatabasews') this.#dirty = true;
    const status = response.status;
    if (!expired(status) && status !== 403) return response;

    const text = await response.text();
    // CloudKit's bare 403 (no error code) may be a stale session or a rotated routing cookie:
    // refreshed once like a 401; one that persists surfaces (docs/protocol/cloudkit.md#errors).
    if (status === 403 && (service !== 'ckdatabasews' || text.includes('serverErrorCode'))) return response;
    if (NO_AUTH_METHOD.test(text)) return this.#afterNoAuthMethod(request);
    this.#options.logger.info('session refresh', { status });
    await this.#refreshOnce();
    const retried = await this.#ctx.http.send({
      ...request,
      url: rebase(request.url, baseBefore, this.ckdatabasewsUrl()),
    });
    if (!expired(retried.status)) return retried;
    await retried.text();
    throw this.#refused(retried.status);
  }

  /**
   * CloudKit's `no auth method found` means a session minted without the security-key step
   * (docs/protocol/cloudkit.md: stop), but one such answer can be a passing fault: the latch
   * stops every later run until a person signs in, so the request is tried once more first and
   * the latch is set only when CloudKit says it again.
   */
  async #afterNoAuthMethod(request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
    this.#options.logger.info('no auth method found: trying again');
    const retried = await this.#ctx.http.send(request);
    if (!expired(retried.status)) return retried;
    const text = await retried.text();
    if (NO_AUTH_METHOD.test(text)) throw await this.#latch(accountCondition('security-key'));
    throw this.#refused(retried.status);
  }

  /** A person must sign in: the answer to the one retry still refused the session. */
  #refused(status: number): SessionExpiredError {
    return new SessionExpiredError(`iCloud still refuses the session (HTTP ${status})`, {
      action: this.#action,
    });
  }

  /** One refresh shared by every request that hit the same expiry. */
  #refreshOnce(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    if (++this.#refreshes > MAX_REFRESHES) {
      throw new SessionExpiredError('the iCloud session keeps expiring', { action: this.#action });
    }
    try {
      if (await this.#tryAccountLogin()) return;
      await this.#signInAgain();
    } catch (error) {
      if (error instanceof SessionExpiredError || error instanceof AccountConditionError) {
        this.#setLatch(error);
      }
      throw error;
    } finally {
      this.#dirty = true;
      // A refreshed session not stored is not lost for good: the next run starts from the
      // previous one and refreshes again (one more sign-in request), so this warns and goes on.
      // A latch is stored over a newer session too (`#storeLatch`).
      const latched = this.#session.fields.signInNeeded !== undefined;
      await (latched ? this.#storeLatch() : this.save()).catch((error: unknown) => {
        this.#options.logger.warn('refreshed session not saved', {
          error,
          consequence: 'the next run refreshes again',
        });
      });
    }
  }

  /** Records in the session that only a person can sign it in again (saved by the caller). */
  #setLatch(error: Error): void {
    this.#session.update({ signInNeeded: { since: this.#ctx.now(), reason: error.message.slice(0, 500) } });
    this.#dirty = true;
  }

  /** Sets the latch, stores it, and hands back the error to throw. */
  async #latch(error: Error): Promise<Error> {
    this.#setLatch(error);
    await this.#storeLatch().catch((saveError: unknown) => {
      this.#options.logger.warn('sign-in latch not stored', { error: saveError });
    });
    return error;
  }

  /** Rung 1: accountLogin with the stored session and trust tokens (no SRP). */
  async #tryAccountLogin(): Promise<boolean> {
    if (!this.#session.fields.sessionToken) return false;
    try {
      const account = await accountLogin(this.#ctx);
      if (!account.requiresTwoFactor) {
        this.#options.logger.info('session refreshed', { via: 'accountLogin' });
        return true;
      }
    } catch (error) {
      if (error instanceof RateLimitedError || error instanceof AccountConditionError) throw error;
      if (!(error instanceof SessionExpiredError)) throw error;
    }
    return false;
  }

  /** Rung 2: SRP with the remembered password and the trust token, then accountLogin. */
  async #signInAgain(): Promise<void> {
    const password =
      this.#options.password ??
      (this.#session.fields.password ? new Secret(this.#session.fields.password) : undefined);
    if (!password) {
      throw new SessionExpiredError(
        'the iCloud session expired and no password is remembered for an unattended sign-in',
        { action: this.#action },
      );
    }
    const trustExpiresAt = this.#session.trustExpiresAt();
    if (trustExpiresAt !== undefined && trustExpiresAt <= this.#ctx.now()) {
      throw new SessionExpiredError(
        "Apple's trust in this sign-in has probably expired (about 60 days after the last two-factor login): signing in again needs a code",
        { action: this.#action },
      );
    }
    // SRP is the rare rung (accountLogin usually suffices): a bundle of its own in the Lambdas
    // (`LAZY_MODULES`, infra/lambda-bundle.ts), loaded only when a refresh gets this far.
    const { srpSignIn } = await import('../auth/srp-sign-in.ts');
    await srpSignIn(this.#ctx, password);
    // Even after a 409, a trust token Apple still honours signs in without a code (2026).
    const account = await accountLogin(this.#ctx);
    if (account.requiresTwoFactor) {
      throw new SessionExpiredError('Apple asks for two-factor verification again', { action: this.#action });
    }
    this.#options.logger.info('session refreshed', { via: 'srp' });
  }
}

/** Moves a CloudKit URL onto a new base after a partition move. */
function rebase(url: string, oldBase: string, newBase: string): string {
  const trim = (s: string) => s.replace(/\/+$/, '');
  if (!oldBase || !newBase || trim(oldBase) === trim(newBase)) return url;
  const from = new URL(oldBase);
  const to = new URL(newBase);
  const u = new URL(url);
  if (u.host !== from.host) return url;
  u.protocol = to.protocol;
  u.host = to.host;
  return u.toString();
}
