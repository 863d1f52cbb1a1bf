/**
 * A journal item about an asset whose entry is `pending` (a version waiting for its download URL)
 * is not settled: folded then, the catalog would keep the pending state after the version is
 * archived (found by the fault matrix, `quirk:withheldDownloadUrls|detection page|after`). Nor is
 * one of a zone whose album walk is still to record its albums (finding 101). And work a worker
 * takes late journals its items again, each in its old place, its asset's retention renewed.
 */
import { describe, expect, it } from 'vitest';
import {
  CATALOG_JOURNAL_PREFIX,
  foldFacts,
  groupByAsset,
  isSettled,
  JOURNAL_RENEW_AFTER_MS,
  JOURNAL_RETENTION_MS,
  type JournalItem,
  journalItemOf,
  renewedJournalItems,
  supersededBy,
  unsettledItems,
} from '#domain/catalog/catalog-journal.ts';
import { CATALOG_PREFIX } from '#domain/catalog/journal-ids.ts';
import { albumWalkUnderWay, serialiseZoneCheckpoint } from '#domain/detect/zone-checkpoint.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import type { ZoneSyncState } from '#domain/model/sync-state.ts';

const ZONE = { database: 'private', zoneName: 'PrimarySync' } as const;
const item: JournalItem = {
  zone: ZONE,
  asset: 'A',
  at: 1,
  expect: { type: 'changeTag', assetChangeTag: 'a1' },
};

function entry(status: ManifestEntry['status']): ManifestEntry {
  return {
    zone: ZONE,
    assetRecordName: 'A',
    masterRecordName: 'M',
    assetChangeTag: 'a1',
    status,
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: [],
    versions: [],
    deletions: [],
    updatedAt: 1,
    revision: 1,
  };
}

describe('a journal item of an asset change', () => {
  it('is not settled while the entry is pending, though its change tag is there', () => {
    expect(isSettled(item, entry('pending'))).toBe(false);
  });

  it('is settled once the entry is archived with that change tag', () => {
    expect(isSettled(item, entry('archived'))).toBe(true);
  });
});

describe('an asset whose zone is still to walk its albums (finding 101)', () => {
  const [fold] = groupByAsset([item]);
  if (fold === undefined) throw new Error('no fold');
  const walking = { albumsFromStore: true, albumWalkUnderWay: true };

  it('waits though its work is done, and past the retention: the album store knows no albums yet', () => {
    expect(unsettledItems(fold, entry('archived'), 2, walking)).toHaveLength(1);
    expect(unsettledItems(fold, undefined, 2 + JOURNAL_RETENTION_MS, walking)).toHaveLength(1);
  });

  it('folds once the walk is done, or when the catalog takes albums from the manifest', () => {
    expect(unsettledItems(fold, entry('archived'), 2, { albumsFromStore: true })).toEqual([]);
    expect(unsettledItems(fold, entry('archived'), 2, { albumWalkUnderWay: true })).toEqual([]);
  });

  const zoneState = (checkpoint: object | undefined, extra: Partial<ZoneSyncState> = {}): ZoneSyncState => ({
    zone: ZONE,
    ...(checkpoint === undefined ? {} : { checkpoint: serialiseZoneCheckpoint(checkpoint) }),
    updatedAt: 1,
    revision: 1,
    ...extra,
  });

  it("is walking while the zone's photos or albums are walked, not while it reconciles or follows its feed", () => {
    expect(albumWalkUnderWay(zoneState({ enumeration: { scope: 'library' } }))).toBe(true);
    expect(
      albumWalkUnderWay(zoneState({ albums: { capturedToken: 't', listed: true, pending: ['A'] } })),
    ).toBe(true);
    expect(albumWalkUnderWay(zoneState({ reconcile: { generation: 'g', capturedToken: 't' } }))).toBe(false);
    expect(albumWalkUnderWay(zoneState(undefined, { syncToken: 't' }))).toBe(false);
    expect(albumWalkUnderWay(undefined)).toBe(false);
    // A Shared Library's zone has no albums; a retired zone walks nothing.
    const shared = { database: 'shared', zoneName: 'SharedSync-1', ownerRecordName: '_o' } as const;
    expect(albumWalkUnderWay({ ...zoneState({ enumeration: { scope: 'library' } }), zone: shared })).toBe(
      false,
    );
    expect(albumWalkUnderWay(zoneState({ enumeration: { scope: 'library' } }, { retired: true }))).toBe(
      false,
    );
  });
});

describe('work a worker takes past the point where a fold may have dropped its items', () => {
  const DAY = 24 * 60 * 60 * 1000;
  const change = { type: 'assetOnly', change: { zone: ZONE, assetRecordName: 'A', assetChangeTag: 'a1' } };
  const items = [change] as unknown as Parameters<typeof renewedJournalItems>[0];

  it("is written under the catalog's journal prefix", () => {
    expect(CATALOG_JOURNAL_PREFIX).toBe(`${CATALOG_PREFIX}/journal/`);
  });

  it('journals nothing on time, and its items again once late: in their old place, renewed from now', () => {
    expect(renewedJournalItems(items, 0, JOURNAL_RENEW_AFTER_MS)).toEqual([]);
    const late = renewedJournalItems(items, 0, JOURNAL_RENEW_AFTER_MS + 1);
    expect(late).toEqual([{ ...journalItemOf(items[0]!, 0), renewedAt: JOURNAL_RENEW_AFTER_MS + 1 }]);
  });

  it("renews its asset's retention: the item, and the asset's older one, wait a retention from the renewal", () => {
    const renewedAt = 10 * DAY;
    const [fold] = groupByAsset([item, { ...item, renewedAt }]);
    if (fold === undefined) throw new Error('no fold');
    expect(unsettledItems(fold, undefined, renewedAt + JOURNAL_RETENTION_MS)).toEqual([
      { ...item, renewedAt },
    ]);
    expect(unsettledItems(fold, undefined, renewedAt + JOURNAL_RETENTION_MS + 1)).toEqual([]);
    // Carried, the renewal stays: the next fold counts from it too.
    const [carried] = groupByAsset(unsettledItems(fold, undefined, renewedAt));
    expect(carried?.renewedAt).toBe(renewedAt);
  });

  it('does not put an old change after a newer one detection journalled meanwhile', () => {
    const newer: JournalItem = { ...item, at: 5 * DAY, expect: { type: 'changeTag', assetChangeTag: 'a2' } };
    // Sorted as the fold sorts them (by `at`): the renewed old item comes before the newer one.
    const renewed = { ...item, renewedAt: 10 * DAY };
    const [fold] = groupByAsset([renewed, newer].sort((a, b) => a.at - b.at));
    expect(fold?.latest).toEqual(newer);
    // The old work done (the entry at a1): the newer change is still waited for.
    expect(unsettledItems(fold!, entry('archived'), 10 * DAY)).toEqual([{ ...newer, renewedAt: 10 * DAY }]);
  });
});

describe('an item older than the change its entry holds', () => {
  const DAY = 24 * 60 * 60 * 1000;
  const old: JournalItem = {
    ...item,
    at: 1 * DAY,
    expect: { type: 'changeTag', assetChangeTag: 't2' },
    facts: { fileName: 'IMG_1.JPG', mediaType: 'photo', captureTime: 2001, description: { title: 'old' } },
  };
  const newer: JournalItem = {
    ...item,
    at: 2 * DAY,
    expect: { type: 'changeTag', assetChangeTag: 't3' },
    facts: { captureTime: 2002, description: { title: 'new' } },
  };
  const heldT3 = { ...entry('archived'), assetChangeTag: 't3', stateAt: 2 * DAY };

  it('is superseded only by another change tag written by work issued after it', () => {
    expect(supersededBy(old, heldT3)).toBe(true);
    expect(supersededBy(newer, heldT3)).toBe(false);
    expect(supersededBy(old, { ...heldT3, assetChangeTag: 't2' })).toBe(false);
    expect(supersededBy(old, { ...heldT3, stateAt: 1 * DAY })).toBe(false);
    // An entry from before `stateAt`, or none: nothing to tell the order by.
    expect(supersededBy(old, entry('archived'))).toBe(false);
    expect(supersededBy(old, undefined)).toBe(false);
  });

  it('is settled at once (even while the newer change waits), renewed and alone: nothing to wait for', () => {
    const renewed = { ...old, renewedAt: 10 * DAY };
    expect(isSettled(renewed, heldT3)).toBe(true);
    expect(isSettled(renewed, { ...heldT3, status: 'pending' })).toBe(true);
    const [fold] = groupByAsset([renewed]);
    expect(unsettledItems(fold!, heldT3, 10 * DAY)).toEqual([]);
  });

  it('brings its facts only beneath the newer ones: a new photo keeps its name and kind', () => {
    const [fold] = groupByAsset([old, newer]);
    expect(foldFacts(fold!, heldT3)).toEqual({ facts: newer.facts, older: old.facts });
    // Carried with the newer change (still pending elsewhere), the newer facts stay on top.
    const carried = unsettledItems(fold!, { ...heldT3, status: 'pending' }, 2 * DAY);
    expect(carried.map((c) => c.facts)).toEqual([
      { fileName: 'IMG_1.JPG', mediaType: 'photo', captureTime: 2002, description: { title: 'new' } },
    ]);
    // Alone, an older item carries no facts onto a newer item of the asset (an album's).
    const album: JournalItem = { ...item, at: 3 * DAY, expect: { type: 'album', album: 'B', present: true } };
    const [withAlbum] = groupByAsset([old, album]);
    expect(unsettledItems(withAlbum!, { ...heldT3, status: 'pending' }, 3 * DAY)).toEqual([album]);
  });
});
