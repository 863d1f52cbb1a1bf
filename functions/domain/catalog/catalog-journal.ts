/**
 * The catalog's journal: what detection handed to the workers, written to the bucket before the
 * work is enqueued (one object per enqueue, never per asset), so a crash between the two can only
 * leave a journal entry for work that never came, which the fold drops in time. The single writer
 * folds the journal into the shards once the workers have settled each item
 * (docs/archive-layout.md#9-the-catalog).
 */

import type { ManifestEntry } from '#domain/model/manifest.ts';
import { issuedBefore } from '#domain/model/manifest.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import * as z from '#shared/zod.ts';
import { type AssetFacts, mergeFacts } from './asset-facts.ts';
import { catalogIdOfItem } from './journal-ids.ts';
import { JOURNAL_RETENTION_MS } from './journal-items.ts';

export {
  CATALOG_JOURNAL_PREFIX,
  JOURNAL_RENEW_AFTER_MS,
  JOURNAL_RETENTION_MS,
  journalItemOf,
  renewedJournalItems,
} from './journal-items.ts';

const zoneRef = z.strictObject({
  database: z.enum(['private', 'shared']),
  zoneName: z.string().check(z.minLength(1)),
  ownerRecordName: z.optional(z.string()),
});

const location = z.strictObject({
  latitude: z.number(),
  longitude: z.number(),
  altitude: z.optional(z.number()),
});

const facts = z.strictObject({
  fileName: z.optional(z.string()),
  mediaType: z.optional(z.enum(['photo', 'video'])),
  captureTime: z.optional(z.number()),
  timeZoneOffsetSeconds: z.optional(z.number()),
  description: z.optional(
    z.strictObject({
      title: z.optional(z.string()),
      caption: z.optional(z.string()),
      keywords: z.optional(z.array(z.string())),
      location: z.optional(location),
      width: z.optional(z.number()),
      height: z.optional(z.number()),
      durationMs: z.optional(z.number()),
      timeZoneName: z.optional(z.string()),
    }),
  ),
});

/** When the work an item stands for is done, as the manifest shows it. */
const expectation = z.discriminatedUnion('type', [
  /** The entry carries this asset change tag (or has given up: `failed`). */
  z.strictObject({ type: z.literal('changeTag'), assetChangeTag: z.string() }),
  /** The entry lists (or no longer lists) the album. */
  z.strictObject({ type: z.literal('album'), album: z.string(), present: z.boolean() }),
  /** The entry is purged. */
  z.strictObject({ type: z.literal('purged') }),
]);

export const journalItemSchema = z.strictObject({
  zone: zoneRef,
  asset: z.string().check(z.minLength(1)),
  at: z.number(),
  expect: expectation,
  facts: z.optional(facts),
  /**
   * When a worker that took the item's work late journalled it again (`renewedJournalItems`):
   * the asset's retention counts from then. `at` stays the time detection read it (the order).
   */
  renewedAt: z.optional(z.number()),
});

export const journalSchema = z.strictObject({
  v: z.literal(1),
  items: z.array(journalItemSchema),
});

export type JournalItem = z.infer<typeof journalItemSchema>;
export type Journal = z.infer<typeof journalSchema>;

/**
 * Whether the manifest shows the item's work done. A `pending` entry is not done (a version
 * waits for its download URL, or a repair for the workers): its item stays for the fold that
 * sees it archived, within the journal's retention.
 */
export function isSettled(item: JournalItem, entry: ManifestEntry, albumsFromStore = false): boolean {
  if (entry.status === 'failed' || entry.status === 'purged') return true;
  // The workers leave its state alone: it never gets its change tag, and there is nothing to wait for.
  if (supersededBy(item, entry)) return true;
  if (entry.status === 'pending') return false;
  switch (item.expect.type) {
    case 'changeTag':
      return entry.assetChangeTag === item.expect.assetChangeTag;
    case 'album':
      // With the album store as the albums' source, the entry's existence is all the item waits
      // for: a membership a worker met before the entry never reaches the manifest.
      return albumsFromStore || entry.albums.includes(item.expect.album) === item.expect.present;
    case 'purged':
      return false;
  }
}

/**
 * Whether `entry` holds a newer change of the asset than the item's: another change tag, written
 * by work issued after the item was journalled (archive/state-order.ts, the workers' own order).
 * The workers leave such an item's state alone (`isOlder`), so it never gets its change tag, and
 * its facts are older than the ones the record was (or is being) folded with: a late worker's
 * renewed item (`renewedJournalItems`, which keeps its old `at`), or an item carried past a
 * newer one that a fold met first.
 */
export function supersededBy(item: JournalItem, entry: ManifestEntry | undefined): boolean {
  return (
    item.expect.type === 'changeTag' &&
    entry !== undefined &&
    entry.assetChangeTag !== item.expect.assetChangeTag &&
    issuedBefore(item.at, entry.stateAt)
  );
}

/** An asset's facts as the fold takes them, given its entry (`foldFacts`). */
export interface FoldedFacts {
  /** The facts of the items the entry holds no newer change than, merged in journal order. */
  readonly facts?: AssetFacts;
  /**
   * The facts of the items older than the entry's change (`supersededBy`), merged in journal
   * order: they go beneath the record's and the newer items' (a new photo's name, kind and size
   * when nothing newer says them), never over them.
   */
  readonly older?: AssetFacts;
}

/** The asset's facts in the journal, split by whether `entry` holds a newer change than their item. */
export function foldFacts(fold: AssetFold, entry: ManifestEntry | undefined): FoldedFacts {
  let facts: AssetFacts | undefined;
  let older: AssetFacts | undefined;
  for (const item of fold.items) {
    const itemFacts = item.facts as AssetFacts | undefined;
    if (itemFacts === undefined) continue;
    if (supersededBy(item, entry)) older = mergeFacts(older, itemFacts);
    else facts = mergeFacts(facts, itemFacts);
  }
  return { ...(facts === undefined ? {} : { facts }), ...(older === undefined ? {} : { older }) };
}

/** What the fold does with one asset's journal items. */
export interface AssetFold {
  readonly id: string;
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  /** The asset's items in journal order (their facts are taken with the entry: `foldFacts`). */
  readonly items: readonly JournalItem[];
  /** The newest item. */
  readonly latest: JournalItem;
  /** The newest change of the asset itself (a change tag or a purge), if any: older than `latest` when an album item came after it. */
  readonly change: JournalItem | undefined;
  /** The latest time a worker that took the asset's work late journalled it again, if one did. */
  readonly renewedAt?: number;
}

/** Groups items by asset in journal order. */
export function groupByAsset(items: readonly JournalItem[]): AssetFold[] {
  const byId = new Map<string, AssetFold>();
  for (const item of items) {
    const id = catalogIdOfItem(item);
    const before = byId.get(id);
    const renewedAt = Math.max(before?.renewedAt ?? 0, item.renewedAt ?? 0);
    byId.set(id, {
      id,
      zone: item.zone,
      assetRecordName: item.asset,
      items: [...(before?.items ?? []), item],
      latest: item,
      change: item.expect.type === 'album' ? before?.change : item,
      ...(renewedAt > 0 ? { renewedAt } : {}),
    });
  }
  return [...byId.values()];
}

/** Where the fold takes an asset's albums from, and whether they are known yet. */
export interface AlbumsSource {
  /** The catalog takes albums from the album store (else the manifest's). */
  readonly albumsFromStore?: boolean;
  /**
   * The asset's zone is being walked and its album walk has not recorded its memberships yet
   * (domain/detect/zone-checkpoint.ts `albumWalkUnderWay`): the store does not know its albums.
   */
  readonly albumWalkUnderWay?: boolean;
}

/**
 * The items of an asset not done yet, each with the merged facts, to carry into the next fold
 * (none: the asset is folded now). The fold waits for the newest item and for the asset's newest
 * own change: an album joined while a favourite or an edit is still being worked on must not fold
 * the asset without it (and drop the journal that holds it). An older album item is not waited
 * for: the catalog takes albums from the album store, which detection wrote before enqueuing, and
 * a membership that reached the workers before the asset's entry existed never settles. An item
 * not done after `JOURNAL_RETENTION_MS` (a message given up) is waited for no longer, counted
 * from its journalling or from the latest time a worker that took the asset's work late
 * journalled it again (`renewedJournalItems`), whichever is later: that work is still coming.
 *
 * While the zone's album walk is still to record its memberships (a first sync: photos first,
 * then albums), the asset waits whatever its items say: the store would give it no albums, the
 * walk journals nothing, and a record folded now would keep them missing (finding 101). Its
 * retention still counts from its journalling: an item whose work is unfinished when a walk longer
 * than the retention ends is dropped then (late work journals it again).
 */
export function unsettledItems(
  fold: AssetFold,
  entry: ManifestEntry | undefined,
  now: number,
  albums: AlbumsSource = {},
): JournalItem[] {
  const waitForWalk = albums.albumsFromStore === true && albums.albumWalkUnderWay === true;
  // Carried, an item holds the facts merged so far: the older ones only beneath newer ones (alone,
  // they would be folded over the record next time).
  const { facts: newer, older } = foldFacts(fold, entry);
  const facts = newer === undefined ? undefined : mergeFacts(older, newer);
  return [...new Set([fold.change ?? fold.latest, fold.latest])]
    .filter(
      (item) =>
        waitForWalk ||
        (now - Math.max(item.at, fold.renewedAt ?? 0) <= JOURNAL_RETENTION_MS &&
          !(entry !== undefined && isSettled(item, entry, albums.albumsFromStore))),
    )
    .map((item) => ({
      ...item,
      ...(facts === undefined ? {} : { facts: facts as JournalItem['facts'] }),
      // Carried, the renewal stays the asset's: the next fold counts the retention from it too.
      ...(fold.renewedAt === undefined ? {} : { renewedAt: fold.renewedAt }),
    }));
}
