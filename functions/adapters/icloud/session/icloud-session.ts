/**
 * The live, mutable form of the session document: a tough-cookie jar keyed on Apple's URLs plus
 * the tokens of docs/protocol/session.md#client-state. The HTTP transport feeds every response into it; `toDocument()` turns it
 * back into the versioned document the `SessionStore` keeps.
 */
import { randomUUID } from 'node:crypto';
import { Cookie, CookieJar, MemoryCookieStore } from 'tough-cookie';
import type { SessionHeaderValues } from './session-headers.ts';
import {
  SESSION_SCHEMA_VERSION,
  type SessionDocument,
  SessionDocumentSchema,
  type StoredCookie,
} from './session-schema.ts';

/** Apple's trust lasts about two months (docs/protocol/session.md#cookies); we estimate expiry from the issue time. */
export const TRUST_LIFETIME_MS = 60 * 24 * 60 * 60 * 1000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type SessionFields = Omit<SessionDocument, 'schemaVersion' | 'cookies'>;

export class IcloudSession {
  readonly jar: CookieJar;
  readonly #store: MemoryCookieStore;
  #fields: Mutable<SessionFields>;

  private constructor(fields: SessionFields, store: MemoryCookieStore) {
    this.#fields = { ...fields };
    this.#store = store;
    this.jar = new CookieJar(store, { looseMode: true, rejectPublicSuffixes: true });
  }

  /** A new session for `appleId` with a fresh, permanent client id. */
  static create(input: { appleId: string; endpoint: string; now: number }): IcloudSession {
    return new IcloudSession(
      {
        appleId: input.appleId,
        endpoint: input.endpoint,
        clientId: `auth-${randomUUID()}`,
        createdAt: input.now,
        updatedAt: input.now,
      },
      new MemoryCookieStore(),
    );
  }

  /** Restores a session from its stored document, cookies with their domains, paths and expiries. */
  static async fromDocument(document: SessionDocument): Promise<IcloudSession> {
    const store = new MemoryCookieStore();
    for (const c of document.cookies) {
      await store.putCookie(
        new Cookie({
          key: c.key,
          value: c.value,
          domain: c.domain,
          path: c.path,
          hostOnly: c.hostOnly,
          secure: c.secure,
          httpOnly: c.httpOnly,
          expires: c.expires === undefined ? 'Infinity' : new Date(c.expires),
          creation: c.creation === undefined ? new Date() : new Date(c.creation),
        }),
      );
    }
    const { schemaVersion: _v, cookies: _c, ...fields } = document;
    return new IcloudSession(fields, store);
  }

  get appleId(): string {
    return this.#fields.appleId;
  }
  get clientId(): string {
    return this.#fields.clientId;
  }
  get endpoint(): string {
    return this.#fields.endpoint;
  }
  get fields(): Readonly<SessionFields> {
    return this.#fields;
  }

  /** Copies the session-state headers of one response (only present, non-empty values). */
  applyHeaders(values: SessionHeaderValues, now: number): void {
    const f = this.#fields;
    if (values.scnt) f.scnt = values.scnt;
    if (values.sessionId) f.sessionId = values.sessionId;
    if (values.sessionToken) f.sessionToken = values.sessionToken;
    if (values.accountCountry) f.accountCountry = values.accountCountry;
    if (values.authAttributes) f.authAttributes = values.authAttributes;
    if (values.trustToken && values.trustToken !== f.trustToken) {
      f.trustToken = values.trustToken;
      f.trustTokenIssuedAt = now;
    }
  }

  /** Updates plain fields (dsid, CloudKit URL, timestamps...). */
  update(patch: Partial<Omit<SessionFields, 'clientId' | 'createdAt'>>): void {
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete (this.#fields as Record<string, unknown>)[key];
      else (this.#fields as Record<string, unknown>)[key] = value;
    }
  }

  /** When the trust token will probably stop being accepted (issue time + ~60 days). */
  trustExpiresAt(): number | undefined {
    const issued = this.#fields.trustTokenIssuedAt;
    return issued === undefined ? undefined : issued + TRUST_LIFETIME_MS;
  }

  /**
   * Forgets everything a failed sign-in may have spoiled, but keeps what lets the next SRP skip
   * two-factor: the trust token and the client id (kei's rule), plus the Apple ID and any
   * remembered password.
   */
  async resetForSignIn(): Promise<void> {
    const { appleId, endpoint, clientId, trustToken, trustTokenIssuedAt, password, createdAt, updatedAt } =
      this.#fields;
    this.#fields = { appleId, endpoint, clientId, createdAt, updatedAt };
    if (trustToken !== undefined) this.#fields.trustToken = trustToken;
    if (trustTokenIssuedAt !== undefined) this.#fields.trustTokenIssuedAt = trustTokenIssuedAt;
    if (password !== undefined) this.#fields.password = password;
    await this.#store.removeAllCookies();
  }

  /** Whether the jar holds a cookie named `name` that would be sent to `url`. */
  async hasCookie(url: string, name: string): Promise<boolean> {
    const cookies = await this.jar.getCookies(url);
    return cookies.some((c) => c.key === name);
  }

  /** The versioned document for the `SessionStore`. Expired cookies are dropped. */
  async toDocument(now: number): Promise<SessionDocument> {
    const all = await this.#store.getAllCookies();
    const cookies: StoredCookie[] = [];
    for (const c of all) {
      const expires = c.expires instanceof Date ? c.expires.getTime() : undefined;
      if (expires !== undefined && expires <= now) continue;
      if (!c.domain || !c.path) continue;
      cookies.push({
        key: c.key,
        value: c.value,
        domain: c.domain,
        path: c.path,
        hostOnly: c.hostOnly ?? false,
        secure: c.secure,
        httpOnly: c.httpOnly,
        ...(expires !== undefined ? { expires } : {}),
        ...(c.creation instanceof Date ? { creation: c.creation.getTime() } : {}),
      });
    }
    return SessionDocumentSchema.parse({
      schemaVersion: SESSION_SCHEMA_VERSION,
      ...this.#fields,
      updatedAt: now,
      cookies,
    });
  }
}
