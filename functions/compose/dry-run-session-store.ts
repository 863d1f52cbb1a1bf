/**
 * The session store as `sync --dry-run` sees it: reads go to the store, saves stay in memory.
 * A dry run changes nothing (docs/commands.md), the stored session included: what it learns
 * (a refresh's new cookies, the account's services a session stored before Shared Albums lacks)
 * it uses for its own requests, and the next real run learns it again and stores it.
 */
import { ConflictError } from '#domain/errors.ts';
import type { SessionStore, StoredSession } from '#ports/session-store.ts';

export function dryRunSessionStore(store: SessionStore): SessionStore {
  let kept: StoredSession | undefined;
  let saves = 0;
  return {
    describe: () => store.describe(),
    load: async () => kept ?? (await store.load()),
    async save(document, expectedRevision) {
      const current = kept ?? (await store.load());
      // Compare-and-set as the store does, so the session's conflict handling runs the same.
      if (expectedRevision !== undefined && current?.revision !== expectedRevision)
        throw new ConflictError(`the session at ${store.describe()} changed since it was read`);
      kept = { document, revision: `dry-run-${++saves}` };
      return { revision: kept.revision };
    },
  };
}
