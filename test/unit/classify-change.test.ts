import { describe, expect, it } from 'vitest';
import {
  type ChangeKind,
  classifyChange,
  mostSevereState,
  type PreviousAssetState,
} from '#domain/classify-change.ts';
import type { Asset, AssetOnlyChange, AssetVersion, ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const SHARED: ZoneRef = { database: 'private', zoneName: 'SharedSync-00000000-1111-4222-8333-444444444444' };

const version = (kind: AssetVersion['kind'], fileChecksum: string): AssetVersion => ({
  kind,
  resourceField: kind === 'adjusted' ? 'resJPEGFullRes' : 'resOriginalRes',
  size: 100,
  fileChecksum,
  uti: 'public.jpeg',
  downloadUrl: 'https://cvws.icloud-content.com/B/x',
});

function pair(overrides: Partial<Asset> = {}): ZoneChange {
  const asset: Asset = {
    zone: PRIMARY,
    assetRecordName: 'A1',
    masterRecordName: 'M1',
    assetChangeTag: 't2',
    masterChangeTag: 't1',
    fileName: 'IMG_0001.HEIC',
    fileNameSource: 'filenameEnc',
    mediaType: 'photo',
    captureTime: 1,
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    subtypes: [],
    versions: [version('original', 'orig')],
    ...overrides,
  };
  return { type: 'asset', asset };
}

function lone(overrides: Partial<AssetOnlyChange> = {}): ZoneChange {
  return {
    type: 'assetOnly',
    change: {
      zone: PRIMARY,
      assetRecordName: 'A1',
      masterRecordName: 'M1',
      assetChangeTag: 't3',
      isFavorite: false,
      isHidden: false,
      isDeleted: false,
      isExpunged: false,
      versions: [],
      ...overrides,
    },
  };
}

const known = (overrides: Partial<PreviousAssetState> = {}): PreviousAssetState => ({
  zone: PRIMARY,
  assetRecordName: 'A1',
  masterRecordName: 'M1',
  isFavorite: false,
  isHidden: false,
  isDeleted: false,
  albums: [],
  ...overrides,
});

const kindsOf = (change: ZoneChange, previous?: PreviousAssetState): readonly ChangeKind[] =>
  classifyChange(change, previous).kinds;

describe('classifying a zone change against the previous state', () => {
  it('calls a photo never seen before new', () => {
    expect(classifyChange(pair(), undefined)).toEqual({ kind: 'new', kinds: ['new'] });
  });

  it('calls a photo that arrives already hidden hidden and new', () => {
    expect(kindsOf(pair({ isHidden: true }))).toEqual(['hidden', 'new']);
  });

  it('calls an unchanged re-delivery unchanged', () => {
    expect(classifyChange(pair(), known())).toEqual({ kind: 'unchanged', kinds: ['unchanged'] });
  });

  it('calls a favourite toggle a metadata change', () => {
    expect(kindsOf(lone({ isFavorite: true }), known())).toEqual(['metadataChanged']);
  });

  it('calls a new adjusted rendition an edit', () => {
    expect(
      kindsOf(lone({ adjustmentType: 'com.apple.photo', versions: [version('adjusted', 'e1')] }), known()),
    ).toEqual(['edited']);
  });

  it('calls a different adjusted rendition another edit, and the same one unchanged', () => {
    const edited = lone({ adjustmentType: 'com.apple.photo', versions: [version('adjusted', 'e2')] });
    expect(kindsOf(edited, known({ adjustedFileChecksum: 'e1' }))).toEqual(['edited']);
    expect(kindsOf(edited, known({ adjustedFileChecksum: 'e2' }))).toEqual(['unchanged']);
  });

  it('calls a vanished rendition without adjustmentType a reverted edit', () => {
    expect(kindsOf(lone(), known({ adjustedFileChecksum: 'e1' }))).toEqual(['editReverted']);
  });

  it('tells hiding from unhiding by the previous state', () => {
    expect(kindsOf(lone({ isHidden: true }), known())).toEqual(['hidden']);
    expect(kindsOf(lone({ isHidden: false }), known({ isHidden: true }))).toEqual(['unhidden']);
  });

  it('calls isDeleted = 1 trashed, once', () => {
    expect(kindsOf(pair({ isDeleted: true }), known())).toEqual(['trashed']);
    expect(kindsOf(pair({ isDeleted: true }), known({ isDeleted: true }))).toEqual(['unchanged']);
  });

  it('calls a lone asset leaving the trash restored, with its other changes', () => {
    expect(kindsOf(lone({ isFavorite: true }), known({ isDeleted: true }))).toEqual([
      'restored',
      'metadataChanged',
    ]);
  });

  it('calls a tombstone of a known asset purged and of an unknown one unchanged', () => {
    const tombstone: ZoneChange = {
      type: 'tombstone',
      zone: PRIMARY,
      recordName: 'A1',
      inferredType: 'CPLAsset',
    };
    expect(kindsOf(tombstone, known())).toEqual(['purged']);
    expect(kindsOf(tombstone, undefined)).toEqual(['unchanged']);
    expect(kindsOf(tombstone, known({ isPurged: true }))).toEqual(['unchanged']);
  });

  it('reports album membership added and removed against the known albums', () => {
    const membership = (present: boolean): ZoneChange => ({
      type: 'albumMembership',
      zone: PRIMARY,
      assetRecordName: 'A1',
      albumRecordName: 'ALB',
      present,
    });
    expect(kindsOf(membership(true), known())).toEqual(['albumAdded']);
    expect(kindsOf(membership(true), known({ albums: ['ALB'] }))).toEqual(['unchanged']);
    expect(kindsOf(membership(false), known({ albums: ['ALB'] }))).toEqual(['albumRemoved']);
    expect(kindsOf(membership(false), known())).toEqual(['unchanged']);
  });
});

describe('the Shared Library (docs/protocol/records.md#shared-library)', () => {
  it('calls a shared item deleted with trashReason 1 trashed', () => {
    expect(kindsOf(lone({ zone: SHARED, isDeleted: true, trashReason: 1 }), known({ zone: SHARED }))).toEqual(
      ['trashed'],
    );
  });

  it.each([0, undefined])(
    'calls a shared item removed with trashReason %s moved to a personal library',
    (trashReason) => {
      const change = lone({
        zone: SHARED,
        isDeleted: true,
        ...(trashReason === undefined ? {} : { trashReason }),
        deletedBy: '_me',
      });
      expect(kindsOf(change, known({ zone: SHARED }))).toEqual(['movedToPersonalLibrary']);
    },
  );

  it('calls a personal photo that appears in the Shared Library moved there', () => {
    expect(kindsOf(pair({ zone: SHARED, assetRecordName: 'S1' }), known())).toEqual(['movedToSharedLibrary']);
  });

  it('calls a shared photo that appears in the personal library moved to it', () => {
    expect(kindsOf(pair({ assetRecordName: 'P2' }), known({ zone: SHARED }))).toEqual([
      'movedToPersonalLibrary',
    ]);
  });

  it('calls a personal asset trashed and expunged together moved to the Shared Library', () => {
    expect(kindsOf(lone({ isDeleted: true, isExpunged: true }), known())).toEqual(['movedToSharedLibrary']);
  });
});

describe("kei's severity rule for split halves", () => {
  it.each([
    ['hardDeleted', 'softDeleted', 'hardDeleted'],
    ['softDeleted', 'hardDeleted', 'hardDeleted'],
    ['softDeleted', 'hidden', 'softDeleted'],
    ['live', 'hidden', 'hidden'],
    ['live', 'live', 'live'],
  ] as const)('keeps %s against %s as %s', (a, b, expected) => {
    expect(mostSevereState(a, b)).toBe(expected);
  });
});
