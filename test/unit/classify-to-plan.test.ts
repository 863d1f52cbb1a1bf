import { describe, expect, it } from 'vitest';
import { toClassifiedChanges } from '#domain/classified-changes.ts';
import { classifyChange, type PreviousAssetState } from '#domain/classify-change.ts';
import type { Asset, ZoneChange, ZoneRef } from '#domain/model.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const SHARED: ZoneRef = { database: 'private', zoneName: 'SharedSync-00000000-1111-4222-8333-444444444444' };

const asset = (overrides: Partial<Asset> = {}): Asset => ({
  zone: PRIMARY,
  assetRecordName: 'A1',
  masterRecordName: 'M1',
  assetChangeTag: 't',
  masterChangeTag: 't',
  fileName: 'a.HEIC',
  fileNameSource: 'filenameEnc',
  mediaType: 'photo',
  captureTime: 1,
  isFavorite: false,
  isHidden: false,
  isDeleted: false,
  isExpunged: false,
  subtypes: [],
  versions: [],
  ...overrides,
});

const previous = (overrides: Partial<PreviousAssetState> = {}): PreviousAssetState => ({
  zone: PRIMARY,
  assetRecordName: 'A1',
  masterRecordName: 'M1',
  isFavorite: false,
  isHidden: false,
  isDeleted: false,
  albums: [],
  ...overrides,
});

const plan = (change: ZoneChange, prev?: PreviousAssetState) =>
  toClassifiedChanges(change, classifyChange(change, prev), prev).map((c) => c.kind);

describe('classification to planner input', () => {
  it('plans a new hidden photo as new, then hidden', () => {
    expect(plan({ type: 'asset', asset: asset({ isHidden: true }) })).toEqual(['new', 'hidden']);
  });

  it('plans a restore with a favourite as restored, then metadata', () => {
    const change: ZoneChange = { type: 'asset', asset: asset({ isFavorite: true }) };
    expect(plan(change, previous({ isDeleted: true }))).toEqual(['restored', 'metadata']);
  });

  it('names the master of a purged asset from the previous state', () => {
    const change: ZoneChange = {
      type: 'tombstone',
      zone: PRIMARY,
      recordName: 'A1',
      inferredType: 'CPLAsset',
    };
    expect(toClassifiedChanges(change, classifyChange(change, previous()), previous())).toEqual([
      { kind: 'purged', zone: PRIMARY, masterRecordName: 'M1', assetRecordName: 'A1' },
    ]);
  });

  it('plans the Shared Library side of a move in as movedToShared and a move out as movedFromShared', () => {
    expect(
      plan({ type: 'asset', asset: asset({ zone: SHARED, assetRecordName: 'S1' }) }, previous()),
    ).toEqual(['movedToShared']);
    const out: ZoneChange = {
      type: 'asset',
      asset: asset({ zone: SHARED, isDeleted: true, trashReason: 0 }),
    };
    expect(plan(out, previous({ zone: SHARED }))).toEqual(['movedFromShared']);
  });

  it('plans nothing for an unchanged re-delivery or an album record', () => {
    expect(plan({ type: 'asset', asset: asset() }, previous())).toEqual([]);
  });
});
