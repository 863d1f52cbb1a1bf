/**
 * What a local run's Shared Albums step stored, for the summary of `sync` (`sharedAlbums` in
 * `--json`): the run-record counts the workers add for each album's delivery
 * (app/shared-albums-work.ts, `sharedItemsArchived`...), added up over the run.
 */

/** What the Shared Albums step stored (a dry run: would store). */
export interface SharedAlbumsSummary {
  /** Items stored, or recorded as referencing a file already archived. */
  readonly itemsArchived: number;
  /** Items whose likes, comments or caption changed: their record written again, nothing downloaded. */
  readonly itemsUpdated: number;
  /** Items gone from their album, recorded as removed. */
  readonly itemsRemoved: number;
  /** Files deleted with removed items (`mirror`); a dry run leaves it out. */
  readonly objectsDeleted?: number;
  /** Bytes stored (a dry run: the sizes Apple states for the items to store, an upper bound). */
  readonly bytesArchived: number;
}

/** The run-record count behind each field. */
const RUN_COUNTS = {
  sharedItemsArchived: 'itemsArchived',
  sharedItemsUpdated: 'itemsUpdated',
  sharedItemsRemoved: 'itemsRemoved',
  sharedObjectsDeleted: 'objectsDeleted',
  sharedBytesArchived: 'bytesArchived',
} as const satisfies Record<string, keyof SharedAlbumsSummary>;

/** Adds up the Shared Albums' run-record counts of a run's deliveries. */
export class SharedAlbumTally {
  readonly #sum = { itemsArchived: 0, itemsUpdated: 0, itemsRemoved: 0, objectsDeleted: 0, bytesArchived: 0 };

  add(counts: Readonly<Record<string, number>>): void {
    for (const [name, field] of Object.entries(RUN_COUNTS)) this.#sum[field] += counts[name] ?? 0;
  }

  /** The sums, or undefined when the step stored, updated and removed nothing. */
  summary(): SharedAlbumsSummary | undefined {
    return Object.values(this.#sum).some((n) => n > 0) ? { ...this.#sum } : undefined;
  }
}
