import type { SessionStore } from '#ports/session-store.ts';
import { describeSessionStoreContract } from '#test/fakes/contracts/session-store-contract.ts';
import { InMemorySessionStore } from '#test/fakes/in-memory-session-store.ts';

describeSessionStoreContract('InMemorySessionStore', async () => {
  const store: SessionStore = new InMemorySessionStore();
  return [store, store] as const;
});
