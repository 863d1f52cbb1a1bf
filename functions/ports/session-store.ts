/**
 * Where the iCloud session (cookie jar, trust token, dsid, service URLs) is kept between runs:
 * a local file (mode 0600) for the CLI, a Secrets Manager secret for the Lambdas.
 *
 * The store treats the session as an opaque serialised document; the iCloud adapter owns its
 * schema and versioning. `revision` makes writes safe when two writers race: a save with a
 * stale `expectedRevision` fails with `ConflictError` instead of overwriting a newer session.
 */
export interface StoredSession {
  /** The serialised session document (JSON). Secret: never log it. */
  readonly document: string;
  /** Opaque revision of this document (file mtime+hash, secret VersionId, ...). */
  readonly revision: string;
}

export interface SessionStore {
  /** The current session, or undefined when none was ever stored. */
  load(): Promise<StoredSession | undefined>;
  /**
   * Stores a new session document. With `expectedRevision`, succeeds only if the stored revision
   * is still that one (compare-and-set); otherwise throws `ConflictError`.
   */
  save(document: string, expectedRevision?: string): Promise<{ readonly revision: string }>;
  /** Human-readable location for messages (`~/.config/icloud-s3/session.json`, `secret icloud-s3/session`). */
  describe(): string;
}
