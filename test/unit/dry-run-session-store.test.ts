/** The dry run's session store: reads the real one, keeps saves in memory, compare-and-set as a store. */
import { describe, expect, it } from 'vitest';
import { dryRunSessionStore } from '#compose/dry-run-session-store.ts';
import { ConflictError } from '#domain/errors.ts';
import type { SessionStore, StoredSession } from '#ports/session-store.ts';

function realStore(): SessionStore & { saves: number } {
  let stored: StoredSession | undefined = { document: '{"a":1}', revision: 'r1' };
  return {
    saves: 0,
    describe: () => 'the real store',
    load: async () => stored,
    async save(document) {
      this.saves++;
      stored = { document, revision: 'r2' };
      return { revision: 'r2' };
    },
  };
}

describe('dryRunSessionStore', () => {
  it('keeps saves in memory and reads them back; the real store is never written', async () => {
    const real = realStore();
    const store = dryRunSessionStore(real);
    const { revision } = await store.save('{"a":2}', 'r1');
    expect(await store.load()).toEqual({ document: '{"a":2}', revision });
    await store.save('{"a":3}', revision);
    expect((await store.load())?.document).toBe('{"a":3}');
    expect(real.saves).toBe(0);
    expect((await real.load())?.document).toBe('{"a":1}');
  });

  it('refuses a save from a revision it no longer holds', async () => {
    const store = dryRunSessionStore(realStore());
    await store.save('{"a":2}', 'r1');
    await expect(store.save('{"a":3}', 'r1')).rejects.toBeInstanceOf(ConflictError);
    expect(store.describe()).toBe('the real store');
  });
});
