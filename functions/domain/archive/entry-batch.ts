/**
 * The manifest entries of a work message's items, written together once the items' transfers
 * are done: one all-or-nothing write (`putEntries`) instead of one compare-and-set each. An item
 * hands its entry over (`write`) and learns what became of it after the message's `flush`: written,
 * or a `ConflictError` when its revision moved (the item re-reads and merges, as after a lost
 * `putEntry`). The entries held back only because of another's conflict, or by a racing write,
 * are written again; a batch write that fails leaves each entry to its own `putEntry`, which
 * succeeds or fails as it would have alone. An entry waits at most `ENTRY_BATCH_WAIT_MS` for the
 * rest of its message.
 *
 * Ordering (sync-state-store.ts): an item records its master's user before it hands its entry
 * over, and the message counts its objects only after the flush; a crash before the flush leaves
 * stored objects without entries, which the message's redelivery adopts.
 */
import { ConflictError } from '#domain/errors.ts';
import { MAX_BATCH_WRITES, type ManifestEntry, type ManifestEntryInput } from '#domain/model/manifest.ts';
import type { ArchiveStateStore } from '#ports/sync-state-store.ts';
import { pauseAfterHeldBack } from './held-back-pause.ts';

interface QueuedEntry {
  readonly entry: ManifestEntryInput;
  readonly expectedRevision: number;
  readonly resolve: (written: ManifestEntry) => void;
  readonly reject: (error: unknown) => void;
}

/** Batch writes refused this many times leave the rest to single writes. */
const BATCH_ROUNDS = 2;

/**
 * The longest an entry handed over waits for the rest of its message before it is written with
 * those already there: a large video does not hold the message's photos back, and the progress a
 * sync shows (an item counts once its entry is written) keeps moving.
 */
export const ENTRY_BATCH_WAIT_MS = 500;

export class EntryBatch {
  readonly #state: ArchiveStateStore;
  readonly #waitMs: number;
  readonly #pacing: { readonly sleep?: (ms: number) => Promise<void>; readonly signal?: AbortSignal };
  #queued: QueuedEntry[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #writing = new Set<Promise<void>>();

  /** `pacing`: how a batch cancelled by throttling waits before it is written again. */
  constructor(
    state: ArchiveStateStore,
    waitMs = ENTRY_BATCH_WAIT_MS,
    pacing: { readonly sleep?: (ms: number) => Promise<void>; readonly signal?: AbortSignal } = {},
  ) {
    this.#state = state;
    this.#waitMs = waitMs;
    this.#pacing = pacing;
  }

  /**
   * Queues `entry` for the message's batch; settles once it is written (see the class comment):
   * at the flush, or when it waited `waitMs` for the rest of its message.
   */
  write(entry: ManifestEntryInput, expectedRevision: number): Promise<ManifestEntry> {
    const written = new Promise<ManifestEntry>((resolve, reject) => {
      this.#queued.push({ entry, expectedRevision, resolve, reject });
    });
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#writeQueued();
      }, this.#waitMs);
      this.#timer.unref?.();
    }
    return written;
  }

  /** Writes what is queued (the message's items are done) and waits for every write under way. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writeQueued();
    while (this.#writing.size > 0) await Promise.all([...this.#writing]);
  }

  /** Writes what is queued now, a hundred entries a batch at most. */
  #writeQueued(): void {
    const queued = this.#queued;
    this.#queued = [];
    for (let start = 0; start < queued.length; start += MAX_BATCH_WRITES) {
      const writing = writeChunk(this.#state, queued.slice(start, start + MAX_BATCH_WRITES), this.#pacing);
      this.#writing.add(writing);
      void writing.finally(() => this.#writing.delete(writing));
    }
  }
}

async function writeChunk(
  state: ArchiveStateStore,
  chunk: readonly QueuedEntry[],
  pacing: { readonly sleep?: (ms: number) => Promise<void>; readonly signal?: AbortSignal },
): Promise<void> {
  let round = chunk;
  for (let attempt = 0; attempt < BATCH_ROUNDS && round.length > 1; attempt++) {
    let outcome: Awaited<ReturnType<ArchiveStateStore['putEntries']>>;
    try {
      outcome = await state.putEntries(
        round.map(({ entry, expectedRevision }) => ({ entry, expectedRevision })),
      );
    } catch {
      break; // each entry on its own, below
    }
    if ('written' in outcome) {
      // One written entry per queued one, in the same order (the port's promise).
      for (const [index, queued] of round.entries()) queued.resolve(outcome.written[index] as ManifestEntry);
      return;
    }
    // Nothing refused: throttling or a racing transaction cancelled it; the same batch again, after a pause.
    if (outcome.refused.length === 0) await pauseAfterHeldBack(attempt, pacing);
    const refused = new Set(outcome.refused);
    for (const index of refused)
      round[index]?.reject(
        new ConflictError(`manifest entry ${round[index]?.entry.assetRecordName} changed since it was read`),
      );
    round = round.filter((_, index) => !refused.has(index));
  }
  await Promise.all(
    round.map(({ entry, expectedRevision, resolve, reject }) =>
      state.putEntry(entry, expectedRevision).then(resolve, reject),
    ),
  );
}
