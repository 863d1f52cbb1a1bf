/**
 * The first-sync checkpoint detection stores with a zone (`ZoneSyncState.checkpoint`): where an
 * enumeration that spans several runs stands, and the halves of a change feed still waiting for
 * their partner. Our own stored data, so it is parsed strictly, never cast.
 *
 * A reconciling enumeration (see `reconcile-enumeration.ts`) adds its generation id and, after
 * the walk, the reconciliation's place; both optional, so older checkpoints read unchanged. So is
 * `unreadable`: the records CloudKit would not serve, `brake`, a refused purge's count (and
 * `brakeArchive`, the archive it was weighed against), and
 * `albumRetry`, when albums read in part are walked again: all kept whatever else it holds.
 * The walk's cursor gained `overlap`, `retreats` and `recovered` (rank-walk.ts), optional too: a
 * cursor stored without them resumes at its rank, as it was written to. A walk's `databaseToken`
 * (the database token read when it began) is optional too: without it the stored one is kept.
 *
 * Versioned: `v: 1` is written; a checkpoint without `v` predates the field and has the same
 * shape. A checkpoint this version cannot read is dropped (the zone's enumeration starts over,
 * which the idempotent archive absorbs) rather than guessed at.
 */
import type { JsonValue, ZoneSyncState } from '#domain/model/sync-state.ts';
import { isOwnLibrary } from '#domain/model/zone.ts';
import type {
  AlbumMembersCursor,
  EnumerationCursor,
  EnumerationScope,
  UnpairedHalves,
} from '#ports/asset-source.ts';
import * as z from '#shared/zod.ts';
import type { AlbumWalkRetry } from './album-walk-retry.ts';
import type { UnreadableRecord } from './unreadable-records.ts';

export const ZONE_CHECKPOINT_VERSION = 1;

const scope = z.enum(['library', 'hidden', 'recentlyDeleted']);

const unpairedHalves = z.strictObject({
  masters: z.array(z.string()),
  assets: z.array(z.string()),
});

const enumerationCursor = z.strictObject({
  scope,
  startRank: z.int().check(z.nonnegative()),
  continuationMarker: z.optional(z.string()),
  syncToken: z.optional(z.string()),
  expectedCount: z.optional(z.int().check(z.nonnegative())),
  emptyPagesInARow: z.optional(z.int().check(z.nonnegative())),
  overlap: z.optional(z.array(z.string())),
  retreats: z.optional(z.int().check(z.nonnegative())),
  recovered: z.optional(z.boolean()),
  unpaired: z.optional(unpairedHalves),
});

const zoneCheckpointSchema = z.strictObject({
  v: z.optional(z.literal(ZONE_CHECKPOINT_VERSION)),
  enumeration: z.optional(
    z.strictObject({
      scope,
      cursor: z.optional(enumerationCursor),
      capturedToken: z.optional(z.string()),
      databaseToken: z.optional(z.string()),
      generation: z.optional(z.string()),
    }),
  ),
  reconcile: z.optional(
    z.strictObject({
      generation: z.string(),
      capturedToken: z.string(),
      databaseToken: z.optional(z.string()),
      cursor: z.optional(z.string()),
    }),
  ),
  albums: z.optional(
    z.strictObject({
      capturedToken: z.string(),
      databaseToken: z.optional(z.string()),
      generation: z.optional(z.string()),
      listed: z.boolean(),
      pending: z.array(z.string()),
      problems: z.optional(z.int().check(z.nonnegative())),
      cursor: z.optional(
        z.strictObject({
          startRank: z.int().check(z.nonnegative()),
          overlap: z.optional(z.array(z.string())),
          retreats: z.optional(z.int().check(z.nonnegative())),
          recovered: z.optional(z.boolean()),
        }),
      ),
      only: z.optional(z.literal(true)),
    }),
  ),
  unpaired: z.optional(unpairedHalves),
  unreadable: z.optional(
    z.array(
      z.strictObject({
        name: z.string(),
        tries: z.int().check(z.nonnegative()),
        lastTriedAt: z.optional(z.number()),
        noUrl: z.optional(z.literal(true)),
      }),
    ),
  ),
  brake: z.optional(z.int().check(z.nonnegative())),
  brakeArchive: z.optional(z.int().check(z.nonnegative())),
  albumRetry: z.optional(
    z.strictObject({
      since: z.number(),
      tries: z.int().check(z.nonnegative()),
      lastTriedAt: z.number(),
      told: z.optional(z.literal(true)),
    }),
  ),
});

export interface ZoneCheckpoint {
  readonly enumeration?: {
    readonly scope: EnumerationScope;
    readonly cursor?: EnumerationCursor;
    readonly capturedToken?: string;
    /**
     * The database token the run that began the walk read (before `capturedToken`): saved in place
     * of a later one by the run that ends the walk, so the next delta lists what changed meanwhile.
     */
    readonly databaseToken?: string;
    /** Present when this enumeration reconciles: the stamp `markSeen` puts on what it returns. */
    readonly generation?: string;
  };
  /**
   * The walk is done; the manifest's unseen entries are being reconciled from `cursor`. The
   * zone's token (`capturedToken`) is saved only once this pass has enqueued every purge.
   */
  readonly reconcile?: {
    readonly generation: string;
    readonly capturedToken: string;
    readonly databaseToken?: string;
    readonly cursor?: string;
  };
  /**
   * The photo walk is done; the albums are being walked (`walk-albums.ts`). Reconciling, if the
   * enumeration does, and saving the token come after.
   */
  readonly albums?: {
    readonly capturedToken: string;
    readonly databaseToken?: string;
    readonly generation?: string;
    readonly listed: boolean;
    readonly pending: readonly string[];
    /** Problems on the walk's pages so far (`walk-albums.ts`): the walk is then not recorded as done. */
    readonly problems?: number;
    /** Where the read of `pending[0]` stopped (`walk-albums.ts`). */
    readonly cursor?: AlbumMembersCursor;
    /** The albums alone, on a caught-up zone that never walked them (no photo walk, no full scan). */
    readonly only?: true;
  };
  readonly unpaired?: UnpairedHalves;
  /** Records CloudKit answered as error entries: looked up again on later runs (`unreadable-records.ts`). */
  readonly unreadable?: readonly UnreadableRecord[];
  /**
   * A mirror purge the safety stop refused: the objects it had queued for deletion by then. Later
   * runs count on from it, so the refused page stays refused until a raised limit lets it through;
   * dropped once the zone is caught up.
   */
  readonly brake?: number;
  /**
   * The archive's objects when that purge was first refused: later runs weigh the purge against
   * it, not against the archive its own queued deletions have shrunk since (a stop raised to let
   * it through would never suffice otherwise). Absent (written before the field): the archive as
   * it is plus `brake`.
   */
  readonly brakeArchive?: number;
  /**
   * The album walks with problems in a row (`album-walk-retry.ts`): when the albums are walked
   * again. Kept whatever else the checkpoint holds; dropped by a walk that reads every album.
   */
  readonly albumRetry?: AlbumWalkRetry;
}

/** The stored checkpoint, parsed; `{}` (start over) when there is none or it cannot be read. */
export function parseZoneCheckpoint(value: JsonValue | undefined): ZoneCheckpoint {
  if (value === undefined) return {};
  const parsed = zoneCheckpointSchema.safeParse(value);
  if (!parsed.success) return {};
  const { v: _version, ...checkpoint } = parsed.data;
  return checkpoint;
}

/**
 * Whether a walk of the zone is under way whose album walk is still to record memberships: its
 * photos (`enumeration`, the albums come after them) or its albums (`albums`). Until it is done,
 * the album store does not know the albums the walk brings (a first sync knows none), so the
 * catalog waits for it (domain/catalog/catalog-journal.ts). Only the own library has albums; a
 * retired zone walks nothing.
 */
export function albumWalkUnderWay(state: ZoneSyncState | undefined): boolean {
  if (state === undefined || state.retired === true || !isOwnLibrary(state.zone)) return false;
  const checkpoint = parseZoneCheckpoint(state.checkpoint);
  return checkpoint.enumeration !== undefined || checkpoint.albums !== undefined;
}

/** The checkpoint as stored: plain JSON with its version. */
export function serialiseZoneCheckpoint(checkpoint: ZoneCheckpoint): JsonValue {
  return JSON.parse(JSON.stringify({ v: ZONE_CHECKPOINT_VERSION, ...checkpoint })) as JsonValue;
}

// Compile-time proof that the schema and the ports' cursor types stay in step.
type Fits<A, B> = [A] extends [B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type AssertTrue<T extends true> = T;
export type _CursorMatchesPort = AssertTrue<Fits<z.infer<typeof enumerationCursor>, EnumerationCursor>>;
