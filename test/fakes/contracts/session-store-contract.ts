/** The behaviour every `SessionStore` must have (Secrets Manager adapter and in-memory fake). */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '#domain/errors.ts';
import type { SessionStore } from '#ports/session-store.ts';

/** A factory returns two stores over the same storage, to play two racing writers. */
export type SessionStoreFactory = () => Promise<readonly [SessionStore, SessionStore]>;

export function describeSessionStoreContract(name: string, create: SessionStoreFactory): void {
  describe(`${name} (SessionStore contract)`, () => {
    it('reads no session before one was saved', async () => {
      const [store] = await create();
      expect(await store.load()).toBeUndefined();
    });

    it('reads back what it saved with the revision it returned', async () => {
      const [store] = await create();
      const { revision } = await store.save('{"v":1,"cookies":[]}');
      expect(await store.load()).toEqual({ document: '{"v":1,"cookies":[]}', revision });
    });

    it('saves over the revision it read', async () => {
      const [store] = await create();
      const first = await store.save('one');
      const second = await store.save('two', first.revision);
      expect(second.revision).not.toBe(first.revision);
      expect((await store.load())?.document).toBe('two');
    });

    it('refuses a save over a revision another writer replaced', async () => {
      const [mine, theirs] = await create();
      const { revision } = await mine.save('one');
      await theirs.save('theirs', revision);
      await expect(mine.save('mine', revision)).rejects.toBeInstanceOf(ConflictError);
      expect((await theirs.load())?.document).toBe('theirs');
    });

    it('refuses a compare-and-set save when nothing was stored yet', async () => {
      const [store] = await create();
      await expect(store.save('x', 'some-revision')).rejects.toBeInstanceOf(ConflictError);
    });
  });
}
