/**
 * `SimLibrary`: the simulated iCloud Photos library of one family (owner's PrimarySync, the Shared
 * Library zone, the member's PrimarySync), generated from a seed, changed by mutations, persisted as
 * an op log. The CloudKit endpoints (`cloudkit/`) read it; the CDN asks it what a checksum names.
 */
import type { SimFamily } from '../identity.ts';
import { mediaSha256 } from '../media/index.ts';
import { SharedCollections } from '../sharedcollections/service.ts';
import type { Clock, MediaSpec, ResolveResource, UrlMinter } from '../types.ts';
import { type GroundTruthAlbum, groundTruthAlbums } from './album-truth.ts';
import { Catalog } from './catalog.ts';
import { LibraryCore } from './core.ts';
import { type GroundTruthAsset, groundTruthAsset, ZONES_IN_TRUTH } from './ground-truth.ts';
import { IdCodec } from './ids.ts';
import { IndexCache } from './indexes.ts';
import { libraryOriginal } from './library-original.ts';
import { DAY_MS, type FilenameEncoding, TRASH_WINDOW_MS } from './model.ts';
import { applyMutation, type MutateOp, MutationError, parseMutateOp } from './mutations.ts';
import { UNRECORDED_ENCODINGS } from './names.ts';
import { LibraryStore } from './persistence.ts';
import { DEFAULT_QUIRKS, type Quirks } from './quirks.ts';
import { recordExists, recordNameOf, recordTypeOf } from './record-names.ts';
import { type IdentifiedResource, mediaSpecOf, resolveResource } from './resources.ts';
import { LibraryState } from './state.ts';

export interface SimLibraryOptions {
  readonly seed: number;
  /** Generated assets, 0 to 1,000,000 (and more if you have the time). */
  readonly assets: number;
  /** Where the op log lives; without it the library is in memory only. */
  readonly stateDir?: string;
  readonly clock: Clock;
  readonly family: SimFamily;
  readonly minter: UrlMinter;
  /** Multiplies generated media sizes (0.01 makes a photo tens of KB). Default 1. */
  readonly mediaScale?: number;
}

export interface GroundTruth {
  readonly assets: readonly GroundTruthAsset[];
}

/** A record a mutation logged, as `changes/zone` will show it. */
export interface ChangedRecordSummary {
  readonly zone: string;
  readonly recordName: string;
  readonly recordType: string;
  readonly deleted: boolean;
}

export interface MutateResult {
  readonly op: string;
  /** Assets the op created (add, duplicate, share, move-to-personal), with digests. */
  readonly assets: readonly GroundTruthAsset[];
  /** Existing assets the op changed, in their new state. */
  readonly updated: readonly GroundTruthAsset[];
  readonly changed: readonly ChangedRecordSummary[];
}

export { MutationError };

/** `/mutate` answers include digests only for files up to this size. */
export const MUTATE_DIGEST_LIMIT = 100 * 1024 * 1024;

export class SimLibrary {
  readonly core: LibraryCore;
  readonly indexes: IndexCache;
  readonly clock: Clock;
  readonly minter: UrlMinter;
  quirks: Quirks = { ...DEFAULT_QUIRKS };
  /** New-generation Shared Albums (`SharedCollection-<UUID>` zones); none until the control API creates them. */
  readonly collections: SharedCollections;
  readonly #store: LibraryStore | undefined;
  readonly #digests = new Map<string, Promise<string>>();
  #nextExpiryCheck: number;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(core: LibraryCore, clock: Clock, minter: UrlMinter, store: LibraryStore | undefined) {
    this.core = core;
    this.indexes = new IndexCache(core);
    this.clock = clock;
    this.minter = minter;
    this.#store = store;
    this.collections = new SharedCollections({
      seed: core.seed,
      clock,
      family: core.family,
      bump: () => {
        core.seq += 1;
        return core.seq;
      },
      libraryOriginal: (assetRecordName) => libraryOriginal(core, assetRecordName),
    });
    core.state.unrecordedEncodings = () => this.quirks.unrecordedFilenameEncodings;
    core.ownerPrimaryZoneName = () => (this.quirks.migratedPrimaryZone ? 'PrimarySync1' : 'PrimarySync');
    // Generated trash is at most 29 days old at the anchor, so nothing expires before anchor + 1 day.
    this.#nextExpiryCheck = core.state.catalog.anchor + DAY_MS;
  }

  /**
   * Generates (or, with `stateDir`, restores) the library. Start-up is one pass over the slots with
   * integer hashing; per-asset records are derived on demand.
   */
  static async open(options: SimLibraryOptions): Promise<SimLibrary> {
    const dayAnchor = Math.floor(options.clock.now() / DAY_MS) * DAY_MS;
    const store = options.stateDir ? new LibraryStore(options.stateDir) : undefined;
    const loaded = store?.load(options.seed, options.assets, dayAnchor);
    const anchor = loaded?.meta.anchor ?? dayAnchor;
    const ids = new IdCodec(options.seed);
    const catalog = new Catalog({
      seed: options.seed,
      assets: options.assets,
      anchor,
      mediaScale: options.mediaScale ?? 1,
      memberAlbums: LibraryState.memberAlbumIndexes(options.assets),
    });
    const state = new LibraryState(catalog, options.assets, ids, anchor);
    const core = new LibraryCore(options.seed, state, ids, options.family);
    const library = new SimLibrary(core, options.clock, options.minter, store);
    for (const line of loaded?.ops ?? []) {
      try {
        applyMutation(core, parseMutateOp(line.op), line.at);
      } catch (error) {
        if (!(error instanceof MutationError)) throw error;
      }
    }
    return library;
  }

  /** What the CDN serves for a `fileChecksum` (the `/B/` path of its URL). */
  readonly resolveResource: ResolveResource = (fileChecksum: string): MediaSpec | undefined =>
    resolveResource(this.core, fileChecksum);

  /**
   * Applies time-driven changes: assets whose `dateExpunged` the simulated clock has passed are
   * purged (S99 in docs/protocol/simulator-contract.md#records-and-library), each logged at its expiry time. Called before every CloudKit request.
   */
  refresh(): void {
    const now = this.clock.now();
    if (now < this.#nextExpiryCheck) return;
    const s = this.core.state;
    const due: { slot: number; at: number }[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const slot of s.trashed) {
      const expiry = LibraryState.expiryOf(s.state(slot));
      if (expiry === undefined) continue;
      if (expiry <= now) due.push({ slot, at: expiry });
      else next = Math.min(next, expiry);
    }
    due.sort((a, b) => a.at - b.at || a.slot - b.slot);
    for (const { slot, at } of due) {
      this.#apply({ op: 'purge', assetRecordName: this.core.assetName(slot), auto: true }, at);
    }
    this.#nextExpiryCheck = next;
  }

  /**
   * Applies one change (the `/__sim/mutate` contract) and returns the assets it created or changed
   * and every record it logged. Throws `MutationError` for an invalid or inapplicable op.
   */
  async mutate(input: MutateOp | unknown): Promise<MutateResult> {
    const run = this.#queue.then(() => this.#mutateNow(input));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #mutateNow(input: unknown): Promise<MutateResult> {
    this.refresh();
    const op = parseMutateOp(input);
    const encoding = 'filenameEncoding' in op ? op.filenameEncoding : undefined;
    if (
      encoding &&
      UNRECORDED_ENCODINGS.has(encoding as FilenameEncoding) &&
      !this.quirks.unrecordedFilenameEncodings
    ) {
      throw new MutationError(
        `filenameEncoding ${encoding} was never seen from Apple: turn on the unrecordedFilenameEncodings quirk first`,
      );
    }
    const outcome = this.#apply(op, this.clock.now());
    // Answers stay quick: digests of very large files are left to GET /library (which caches them).
    const digest = this.#digester(MUTATE_DIGEST_LIMIT);
    const truth = (slot: number) => groundTruthAsset(this.core, slot, digest);
    const changed = outcome.changed.map(({ zone, key }) => ({
      zone: this.core.zone(zone).zoneName,
      recordName: recordNameOf(this.core, zone, key),
      recordType: recordTypeOf(key),
      deleted: !this.#exists(zone, key),
    }));
    const live = (slot: number) => !this.core.state.isPurged(slot);
    return {
      op: op.op,
      assets: await Promise.all(outcome.newSlots.map(truth)),
      updated: await Promise.all([...new Set(outcome.touchedSlots)].filter(live).map(truth)),
      changed,
    };
  }

  #exists(zone: 0 | 1 | 2, key: Parameters<typeof recordNameOf>[2]): boolean {
    return recordExists(this.core, zone, key);
  }

  #apply(op: ReturnType<typeof parseMutateOp>, at: number) {
    const outcome = applyMutation(this.core, op, at);
    this.#store?.append({ at, op });
    if (
      op.op === 'trash' ||
      op.op === 'shared-delete' ||
      op.op === 'move-to-personal' ||
      op.op === 'unshare'
    ) {
      this.#nextExpiryCheck = Math.min(this.#nextExpiryCheck, at + TRASH_WINDOW_MS);
    }
    return outcome;
  }

  /** Every asset in every zone (purged ones excluded), optionally with the served bytes' digests. */
  async groundTruth(options: { sha256?: boolean } = {}): Promise<GroundTruth> {
    this.refresh();
    const digest = options.sha256 === false ? undefined : this.#digester();
    const assets: GroundTruthAsset[] = [];
    for (const zone of ZONES_IN_TRUTH) {
      for (const slot of this.core.state.slotsOf(zone))
        assets.push(await groundTruthAsset(this.core, slot, digest));
    }
    return { assets };
  }

  /** Every CPLAlbum of the owner's library with its folder, position and members in order. */
  albumsTruth(): { albums: GroundTruthAlbum[] } {
    this.refresh();
    return { albums: groundTruthAlbums(this.core) };
  }

  #digester(maxBytes = Number.POSITIVE_INFINITY) {
    return (
      resource: IdentifiedResource,
      content: Parameters<typeof mediaSpecOf>[1],
    ): Promise<string | undefined> => {
      const key = resource.fileChecksum;
      if (resource.resource.size > maxBytes && !this.#digests.has(key)) return Promise.resolve(undefined);
      let digest = this.#digests.get(key);
      if (!digest) {
        digest = mediaSha256(mediaSpecOf(resource, content));
        this.#digests.set(key, digest);
        digest.catch(() => this.#digests.delete(key));
      }
      return digest;
    };
  }

  /** Waits for pending mutations. The op log is appended synchronously, so nothing else needs flushing. */
  async close(): Promise<void> {
    await this.#queue;
  }
}
