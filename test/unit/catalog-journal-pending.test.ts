/**
 * A journal item about an asset whose entry is `pending` (a version waiting for its download URL)
 * is not settled: folded then, the catalog would keep the pending state after the version is
 * archived (found by the fault matrix, `quirk:withheldDownloadUrls|detection page|after`).
 */
import { describe, expect, it } from 'vitest';
import { isSettled, type JournalItem } from '#domain/catalog/catalog-journal.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';

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
