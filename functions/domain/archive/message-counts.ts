/**
 * The objects a work message stored or adopted, added to the archive totals together once its
 * items are done: one write for the message instead of one per object. The manifest entries that
 * list them are written first, so a crash in between leaves entries whose objects are not counted
 * yet; the message's redelivery repairs that: it finds those entries written since the message
 * was issued and counts their objects again, which adds nothing to what was counted (each count
 * is exactly-once, docs/state.md "Counting objects").
 */
import type { ArchivedVersion, ManifestEntry } from '#domain/model/manifest.ts';
import type { ArchiveStateStore } from '#ports/sync-state-store.ts';
import { sinceIssued } from './state-order.ts';

export class MessageCounts {
  /** By object key: its size, and what its key claim said of its count (spares a read). */
  readonly #objects = new Map<string, { key: string; size: number; count?: string }>();

  /** An object stored or adopted for the message, with what the claim said of its count. */
  add(version: Pick<ArchivedVersion, 'key' | 'size'>, count?: string): void {
    const known = this.#objects.get(version.key);
    if (known !== undefined && (known.count !== undefined || count === undefined)) return;
    this.#objects.set(version.key, {
      key: version.key,
      size: version.size,
      ...(count === undefined ? {} : { count }),
    });
  }

  /**
   * The objects of an entry an earlier delivery may have written without counting them (it was
   * written since the message was issued, as far as the store's clock and the detector's can tell:
   * state-order.ts `sinceIssued`): counted again, which adds nothing if they were.
   */
  addWrittenSince(entry: ManifestEntry | undefined, issuedAt: number): void {
    if (entry === undefined || !sinceIssued(entry.updatedAt, issuedAt)) return;
    for (const version of entry.versions) this.add(version);
  }

  /** Counts what was added (one call to the store), and forgets it. */
  async commit(state: ArchiveStateStore): Promise<void> {
    if (this.#objects.size === 0) return;
    const objects = [...this.#objects.values()];
    this.#objects.clear();
    await state.countObjects(objects);
  }
}
