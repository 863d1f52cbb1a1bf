/**
 * The one serialisable iCloud session (docs/protocol/session.md#client-state, docs/protocol/session.md#cookies, docs/protocol/README.md#pipeline-notes): what a run needs to talk to
 * iCloud again without a person. Versioned and strict: an unknown key or a wrong type is an
 * `InvalidInputError`, never silently dropped, because this document is our own input.
 *
 * Secret fields (cookie values, tokens, the optional password) live only here and in the
 * `SessionStore`; they never reach logs.
 */

import { InvalidInputError } from '#domain/errors.ts';
import * as z from '#shared/zod.ts';

export const SESSION_SCHEMA_VERSION = 1;

/** A cookie with the attributes that decide where it is sent (kei: losing `Domain` breaks CloudKit). */
export const StoredCookieSchema = z.strictObject({
  key: z.string().check(z.minLength(1)),
  value: z.string(),
  /** Without a leading dot, as tough-cookie keeps it; `hostOnly` says whether sub-domains match. */
  domain: z.string().check(z.minLength(1)),
  path: z.string().check(z.minLength(1)),
  hostOnly: z.boolean(),
  secure: z.boolean(),
  httpOnly: z.boolean(),
  /** Absolute expiry (ms since the epoch); absent for session cookies. */
  expires: z.optional(z.int()),
  /** When the cookie was first stored (ms); kept so re-issued cookies keep their order. */
  creation: z.optional(z.int()),
});
export type StoredCookie = z.infer<typeof StoredCookieSchema>;

export const SessionDocumentSchema = z.strictObject({
  schemaVersion: z.literal(SESSION_SCHEMA_VERSION),
  /** The Apple ID as typed at login; `accountName` of SRP. */
  appleId: z.string().check(z.minLength(1)),
  /** `auth-<uuid>`, generated once and kept forever (X-Apple-OAuth-State, CloudKit clientId). */
  clientId: z.string().check(z.regex(/^auth-[0-9a-f-]{36}$/)),
  /** Which service this session belongs to: `apple`, `apple-cn` or a simulator control URL. */
  endpoint: z.string().check(z.minLength(1)),
  cookies: z.array(StoredCookieSchema),
  scnt: z.optional(z.string()),
  sessionId: z.optional(z.string()),
  sessionToken: z.optional(z.string()),
  trustToken: z.optional(z.string()),
  /** When the trust token was issued (ms); Apple's trust lasts about 60 days (docs/protocol/session.md#cookies). */
  trustTokenIssuedAt: z.optional(z.int()),
  accountCountry: z.optional(z.string()),
  authAttributes: z.optional(z.string()),
  dsid: z.optional(z.string()),
  ckdatabasewsUrl: z.optional(z.url()),
  /** `webservices.sharedstreams.url` (legacy Shared Albums); absent when the account lists none. */
  sharedstreamsUrl: z.optional(z.url()),
  /** Stored only with `login --remember-password`: lets a headless run redo SRP when cookies expire. */
  password: z.optional(z.string()),
  /** Last time Apple accepted the session (accountLogin, validate or a CloudKit call), ms. */
  lastValidatedAt: z.optional(z.int()),
  /** Apple throttled sign-in (503): no SRP before this time, ms. */
  throttledUntil: z.optional(z.int()),
  /**
   * The reauth latch: a run learnt that only a person can sign this session in again (two-factor,
   * a refused password, an account condition). Until `login` stores a new session no run talks to
   * Apple. Written only when set, so a document without it stays readable by older deployments.
   */
  signInNeeded: z.optional(
    z.strictObject({
      /** When the latch was set, ms. */
      since: z.int(),
      /** Why, in words (an error message: never a secret). */
      reason: z.string().check(z.maxLength(500)),
    }),
  ),
  createdAt: z.int(),
  updatedAt: z.int(),
});
export type SessionDocument = z.infer<typeof SessionDocumentSchema>;

/** Parses a stored session document; any problem is an `InvalidInputError` that names the field, never its value. */
export function parseSessionDocument(text: string): SessionDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidInputError('the stored iCloud session is not valid JSON');
  }
  const parsed = SessionDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`)
      .slice(0, 5)
      .join('; ');
    throw new InvalidInputError(`the stored iCloud session does not match schema version 1 (${where})`);
  }
  return parsed.data;
}

/** Serialises a session document (validated first, so a bug never stores something unreadable). */
export function serializeSessionDocument(document: SessionDocument): string {
  return `${JSON.stringify(SessionDocumentSchema.parse(document), null, 2)}\n`;
}
