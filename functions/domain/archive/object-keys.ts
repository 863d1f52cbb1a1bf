/**
 * Where objects are stored, by `objectId`, as a worker read them (the `objectKey` items, in the
 * batched read of its entries) and wrote them since. Keys come from the asset being archived (its
 * date, time zone, name), so an asset whose date was corrected, reaching a master another asset
 * archived, computes keys nobody claimed: the recorded key sends it to the object instead
 * (docs/state.md, "One download per object").
 */
import { foldKey } from '#domain/model/key-fold.ts';

export class ObjectKeys {
  readonly #keys: Map<string, string>;

  constructor(found: ReadonlyMap<string, string> = new Map()) {
    this.#keys = new Map(found);
  }

  /** The key recorded for `objectId`, if one was read or written. */
  recorded(objectId: string): string | undefined {
    return this.#keys.get(objectId);
  }

  /** True when `objectId`'s recorded key is `key` already: nothing to write. */
  names(objectId: string, key: string): boolean {
    const recorded = this.#keys.get(objectId);
    return recorded !== undefined && foldKey(recorded) === foldKey(key);
  }

  note(objectId: string, key: string): void {
    this.#keys.set(objectId, key);
  }
}
