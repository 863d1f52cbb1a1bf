/**
 * Two edits of one photo whose work meets out of order: the first edit's entry write loses to the
 * second's (its worker died after storing it, or another worker wrote first). Each edit's bytes
 * must be stored once, and every stored edit listed by the entry: the retry, which now counts one
 * edit more, must find the key it already holds rather than claim the next generation's.
 */
import { describe, expect, it } from 'vitest';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import {
  base,
  edited,
  editedPhotoArchive,
  MIN,
  message as photoMessage,
  ref,
  T0,
} from '#test/helpers/edited-photo.ts';

/** A state store whose next `failNext` entry writes fail (a worker dying before its entry is written). */
class DyingStateStore extends InMemorySyncStateStore {
  failNext = 0;
  /** Runs once before the next entry write (another worker writing first). */
  before: (() => Promise<void>) | undefined;
  async #before() {
    const run = this.before;
    this.before = undefined;
    await run?.();
  }
  override async putEntry(...args: Parameters<InMemorySyncStateStore['putEntry']>) {
    await this.#before();
    if (this.failNext > 0) {
      this.failNext--;
      throw new UnexpectedResponseError('the state table did not answer: the entry was not written');
    }
    return super.putEntry(...args);
  }
  override async putEntries(...args: Parameters<InMemorySyncStateStore['putEntries']>) {
    await this.#before();
    if (this.failNext > 0) {
      this.failNext--;
      throw new UnexpectedResponseError('the state table did not answer: the entry was not written');
    }
    return super.putEntries(...args);
  }
}

const setUp = () => editedPhotoArchive({ state: (now) => new DyingStateStore({ now }) });

/** A work message of one asset item. */
const message = (issuedAt: number, asset: Asset): WorkMessage =>
  photoMessage(issuedAt, [{ type: 'asset', asset }]);

/** Each edit downloaded once, every stored object listed by the entry, and counted once. */
async function storedOnce(setup: ReturnType<typeof setUp>, checksum: string) {
  const { state, objects, cdn } = setup;
  const listed = (await state.getEntry(ref))?.versions.map((v) => v.key) ?? [];
  return {
    downloads: cdn.opened.filter((url) => url.endsWith(`/${checksum}`)).length,
    stored: objects.keys(),
    counted: (await state.getCounters()).objects,
    expected: { downloads: 1, stored: [...listed].sort(), counted: listed.length },
  };
}

describe('an edit whose entry write lost to a newer edit', () => {
  it('is stored once when its worker died after storing it and its retry comes after the newer edit', async () => {
    const setup = setUp();
    const { deps, state, at } = setup;
    await processWorkMessage(deps, message(T0, base));
    // Run 2: edit E1. The worker stores it, then dies before the entry is written.
    at(T0 + 16 * MIN);
    state.failNext = 100;
    await expect(processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')))).rejects.toThrow();
    state.failNext = 0;
    // Run 3: edited again (E2), done at once: p-edited.JPG is E1's, so E2 takes the suffixed key.
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, message(T0 + 30 * MIN, edited('a3', 'E2')));
    // The run-2 message comes back (its URLs still young enough not to be looked up again).
    at(T0 + 40 * MIN);
    await processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')));

    const { expected, ...found } = await storedOnce(setup, 'E1');
    expect(found).toEqual(expected);
  });

  it('is stored once when another worker wrote the newer edit first (two workers at once, no crash)', async () => {
    const setup = setUp();
    const { deps, state, at } = setup;
    await processWorkMessage(deps, message(T0, base));
    at(T0 + 31 * MIN);
    // Run 2's message (edit E1) has stored E1; just before its entry write, run 3's message
    // (edit E2, in another worker) writes its entry.
    state.before = async () => {
      await processWorkMessage(deps, message(T0 + 30 * MIN, edited('a3', 'E2')));
    };
    await processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')));

    const { expected, ...found } = await storedOnce(setup, 'E1');
    expect(found).toEqual(expected);
  });

  // The edit that lost holds the suffixed key of a generation whose plain key the entry now lists
  // (the other edit's): nothing in the entry tells that key from a free one, the object's
  // recorded key (`objectKey#`, finding 29) does.
  it('is stored once when it took the suffixed key and the older edit’s entry landed first (through its recorded key, finding 29)', async () => {
    const setup = setUp();
    const { deps, state, at } = setup;
    await processWorkMessage(deps, message(T0, base));
    // Run 2: E1 stored under p-edited.JPG; its worker dies before the entry is written.
    at(T0 + 16 * MIN);
    state.failNext = 100;
    await expect(processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')))).rejects.toThrow();
    state.failNext = 0;
    // Run 3: E2 goes to the suffixed key; just before its entry write, E1's retry writes its own.
    at(T0 + 31 * MIN);
    state.before = async () => {
      await processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')));
    };
    await processWorkMessage(deps, message(T0 + 30 * MIN, edited('a3', 'E2')));

    const { expected, ...found } = await storedOnce(setup, 'E2');
    expect(found).toEqual(expected);
  });
});
