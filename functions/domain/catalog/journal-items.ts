/**
 * A journal item as it is made from a work item (domain/catalog/catalog-journal.ts holds its
 * schema and the fold's rules), apart from the schemas: the workers, which journal late work
 * again, take this module alone.
 */
import type { LibraryWorkItem } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { factsOfAsset, factsOfAssetRecord } from './asset-facts.ts';
import type { JournalItem } from './catalog-journal.ts';

/** Where the journal's objects are written (`catalog/`, journal-ids.ts `CATALOG_PREFIX`). */
export const CATALOG_JOURNAL_PREFIX = 'catalog/journal/';

/** How long an item whose work never settled is kept (a message given up, a trashed asset never archived). */
export const JOURNAL_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Work a worker takes this long after it was issued may find its journal item dropped already (or
 * dropped while it runs): a message parked through a long sign-in latch, or a dead letter sent
 * back by hand. The worker journals its items again first (`renewedJournalItems`). A day short of
 * the retention: the detector's and the worker's clocks, a fold's and a delivery's own length lie
 * well within it.
 */
export const JOURNAL_RENEW_AFTER_MS = JOURNAL_RETENTION_MS - 24 * 60 * 60 * 1000;

/** The journal item of one work item (tombstones are journalled under the record they name). */
export function journalItemOf(item: LibraryWorkItem, at: number): JournalItem {
  switch (item.type) {
    case 'asset':
      return {
        zone: zoneCopy(item.asset.zone),
        asset: item.asset.assetRecordName,
        at,
        expect: { type: 'changeTag', assetChangeTag: item.asset.assetChangeTag },
        facts: factsOfAsset(item.asset) as JournalItem['facts'],
      };
    case 'assetOnly':
      return {
        zone: zoneCopy(item.change.zone),
        asset: item.change.assetRecordName,
        at,
        expect: { type: 'changeTag', assetChangeTag: item.change.assetChangeTag },
        facts: factsOfAssetRecord(item.change) as JournalItem['facts'],
      };
    case 'albumMembership':
      return {
        zone: zoneCopy(item.zone),
        asset: item.assetRecordName,
        at,
        expect: { type: 'album', album: item.albumRecordName, present: item.present },
      };
    case 'tombstone':
      return { zone: zoneCopy(item.zone), asset: item.recordName, at, expect: { type: 'purged' } };
  }
}

/**
 * The journal items a worker writes again before it carries out work issued at `issuedAt`, when
 * that is so long ago that a fold may have dropped them (none otherwise: on time, nothing is
 * added to the download path). Without them, a photo whose work finishes past the retention is
 * archived but never reaches the catalog, and an edit finished so late never updates its record.
 * Each keeps the message's time as its order (a newer change detection journalled meanwhile still
 * wins) and renews the asset's retention from `now`.
 */
export function renewedJournalItems(
  items: readonly LibraryWorkItem[],
  issuedAt: number,
  now: number,
): JournalItem[] {
  if (now - issuedAt <= JOURNAL_RENEW_AFTER_MS) return [];
  return items.map((item) => ({ ...journalItemOf(item, issuedAt), renewedAt: now }));
}

function zoneCopy(zone: ZoneRef): JournalItem['zone'] {
  return {
    database: zone.database,
    zoneName: zone.zoneName,
    ...(zone.ownerRecordName === undefined ? {} : { ownerRecordName: zone.ownerRecordName }),
  };
}
