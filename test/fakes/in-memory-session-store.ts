/** `SessionStore` in memory with real compare-and-set on revisions. */
import { ConflictError } from '#domain/errors.ts';
import type { SessionStore, StoredSession } from '#ports/session-store.ts';

export class InMemorySessionStore implements SessionStore {
  private current: StoredSession | undefined;
  private revisions = 0;

  constructor(initial?: string) {
    if (initial !== undefined) this.current = { document: initial, revision: this.nextRevision() };
  }

  private nextRevision(): string {
    this.revisions += 1;
    return `rev-${this.revisions}`;
  }

  async load(): Promise<StoredSession | undefined> {
    return this.current;
  }

  async save(document: string, expectedRevision?: string): Promise<{ readonly revision: string }> {
    if (expectedRevision !== undefined && this.current?.revision !== expectedRevision) {
      throw new ConflictError('the session changed since it was read');
    }
    this.current = { document, revision: this.nextRevision() };
    return { revision: this.current.revision };
  }

  describe(): string {
    return 'in-memory session';
  }
}
