import { describe, expect, it } from 'vitest';
import type { Asset, AssetOnlyChange, AssetVersion, VersionKind } from '#domain/model.ts';
import type { ArchivedObject, ManifestEntry, MasterState } from '#domain/plan/change-input.ts';
import { planChange } from '#domain/plan/plan-change.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY as POLICY, parseVersionPolicy } from '#domain/plan/version-policy.ts';

const NOW = Date.UTC(2025, 0, 1);
const PRIMARY = { database: 'private', zoneName: 'PrimarySync' } as const;
const SHARED = { database: 'shared', zoneName: 'SharedSync-0000' } as const;

function version(kind: VersionKind, uti: string, fileChecksum = `${kind}-1`): AssetVersion {
  return { kind, resourceField: `res${kind}Res`, size: 1000, fileChecksum, uti };
}

function assetOf(overrides: Partial<Asset> = {}): Asset {
  return {
    zone: PRIMARY,
    assetRecordName: 'ASSET-1',
    masterRecordName: 'MASTER1',
    assetChangeTag: 'a1',
    masterChangeTag: 'm1',
    fileName: 'IMG_0001.HEIC',
    fileNameSource: 'filenameEnc',
    mediaType: 'photo',
    itemType: 'public.heic',
    captureTime: Date.UTC(2024, 6, 14, 12),
    timeZoneOffsetSeconds: 0,
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    subtypes: [],
    versions: [version('original', 'public.heic'), version('live', 'com.apple.quicktime-movie')],
    ...overrides,
  };
}

/** The manifest after archiving `asset` under the plain keys. */
function archivedState(asset: Asset, extra: Partial<ManifestEntry> = {}): MasterState {
  const plan = planChange({ kind: 'new', asset }, undefined, POLICY, NOW);
  const objects: ArchivedObject[] = plan.archive.map((request) => ({
    objectId: request.planned.objectId,
    key: request.keyCandidates[0],
    kind: request.planned.kind,
    size: request.planned.version.size,
  }));
  const entry = plan.entries[0]!;
  return { masterRecordName: asset.masterRecordName, entries: [{ ...entry, ...extra }], objects };
}

function assetOnly(asset: Asset, overrides: Partial<AssetOnlyChange> = {}): AssetOnlyChange {
  const { zone, assetRecordName, masterRecordName, isFavorite, isHidden, isDeleted, isExpunged } = asset;
  return {
    zone,
    assetRecordName,
    masterRecordName,
    assetChangeTag: 'a2',
    isFavorite,
    isHidden,
    isDeleted,
    isExpunged,
    versions: [],
    ...overrides,
  };
}

describe('planVersions', () => {
  it('plans the original of a slo-mo video only, as it has no rendition', () => {
    const asset = assetOf({
      mediaType: 'video',
      fileName: 'IMG_0002.MOV',
      adjustmentType: 'com.apple.video.slomo',
      versions: [version('original', 'com.apple.quicktime-movie'), version('medium', 'public.mpeg-4')],
    });
    expect(planVersions(asset, POLICY).map((p) => p.kind)).toEqual(['original']);
  });

  it('skips the automatic JPEG of a screenshot unless asked', () => {
    const asset = assetOf({
      fileName: 'IMG_0003.PNG',
      adjustmentType: 'ScreenshotServices',
      versions: [version('original', 'public.png'), version('adjusted', 'public.jpeg')],
    });
    expect(planVersions(asset, POLICY).map((p) => p.kind)).toEqual(['original']);
    expect(planVersions(asset, parseVersionPolicy('default,screenshot-render')).map((p) => p.kind)).toEqual([
      'original',
      'adjusted',
    ]);
  });

  it('plans a rendition the person made of a screenshot', () => {
    const asset = assetOf({
      fileName: 'IMG_0003.PNG',
      adjustmentType: 'com.apple.photo',
      versions: [version('original', 'public.png'), version('adjusted', 'public.jpeg')],
    });
    expect(planVersions(asset, POLICY).map((p) => p.kind)).toEqual(['original', 'adjusted']);
  });

  it('gives two assets of one master the same object identity', () => {
    const duplicate = assetOf({ assetRecordName: 'ASSET-2' });
    expect(planVersions(duplicate, POLICY).map((p) => p.objectId)).toEqual(
      planVersions(assetOf(), POLICY).map((p) => p.objectId),
    );
  });

  it('plans a resource that repeats another one once', () => {
    const asset = assetOf({
      versions: [version('original', 'public.heic', 'same'), version('adjusted', 'public.heic', 'same')],
    });
    expect(planVersions(asset, POLICY).map((p) => p.kind)).toEqual(['original']);
  });

  it('never plans live parts of a video', () => {
    const asset = assetOf({
      mediaType: 'video',
      versions: [
        version('original', 'com.apple.quicktime-movie'),
        version('live', 'com.apple.quicktime-movie'),
      ],
    });
    expect(planVersions(asset, POLICY).map((p) => p.kind)).toEqual(['original']);
  });
});

describe('planChange', () => {
  it('archives a new Live Photo as still and video', () => {
    const plan = planChange({ kind: 'new', asset: assetOf() }, undefined, POLICY, NOW);
    expect(plan.archive.map((request) => request.keyCandidates[0])).toEqual([
      'library/2024/2024-07-14/IMG_0001.HEIC',
      'library/2024/2024-07-14/IMG_0001_HEVC.MOV',
    ]);
    expect(plan.entries[0]).toMatchObject({
      state: 'active',
      objectIds: plan.archive.map((r) => r.planned.objectId),
    });
  });

  it('does not download again for a favourite', () => {
    const asset = assetOf();
    const plan = planChange(
      { kind: 'metadata', target: assetOnly(asset, { isFavorite: true }) },
      archivedState(asset),
      POLICY,
      NOW,
    );
    expect(plan.archive).toEqual([]);
    expect(plan.entries[0]?.isFavorite).toBe(true);
  });

  it('archives only the new rendition of an edit, beside the original', () => {
    const asset = assetOf();
    const state = archivedState(asset);
    const edit = assetOnly(asset, {
      captureTime: Date.UTC(2030, 0, 1),
      versions: [version('adjusted', 'public.jpeg', 'edit-1')],
    });
    const plan = planChange({ kind: 'edited', target: edit }, state, POLICY, NOW);
    expect(plan.archive.map((request) => request.keyCandidates[0])).toEqual([
      'library/2024/2024-07-14/IMG_0001-edited.JPG',
    ]);
  });

  it('archives a second edit under a new key and keeps the first', () => {
    const asset = assetOf();
    const first = planChange(
      {
        kind: 'edited',
        target: assetOnly(asset, { versions: [version('adjusted', 'public.jpeg', 'edit-1')] }),
      },
      archivedState(asset),
      POLICY,
      NOW,
    );
    const state0 = archivedState(asset);
    const state: MasterState = {
      ...state0,
      entries: first.entries,
      objects: [
        ...state0.objects,
        {
          objectId: first.archive[0]!.planned.objectId,
          key: first.archive[0]!.keyCandidates[0],
          kind: 'adjusted',
          size: 1,
        },
      ],
    };
    const second = planChange(
      {
        kind: 'edited',
        target: assetOnly(asset, { versions: [version('adjusted', 'public.jpeg', 'edit-2')] }),
      },
      state,
      POLICY,
      NOW,
    );
    expect(second.archive.map((request) => request.keyCandidates[0])).toEqual([
      'library/2024/2024-07-14/IMG_0001-edited-2.JPG',
    ]);
    expect(second.entries[0]?.objectIds).toContain(first.archive[0]!.planned.objectId);
    expect(second.released).toEqual([]);
  });

  it('asks for the full record when an edit arrives for an unknown entry', () => {
    const plan = planChange({ kind: 'edited', target: assetOnly(assetOf()) }, undefined, POLICY, NOW);
    expect(plan.needsFullRecord).toBe(true);
  });

  it('keeps objects when a photo is trashed and marks the entry', () => {
    const asset = assetOf();
    const plan = planChange(
      { kind: 'trashed', target: assetOnly(asset, { isDeleted: true }) },
      archivedState(asset),
      POLICY,
      NOW,
    );
    expect(plan).toMatchObject({ archive: [], released: [] });
    expect(plan.entries[0]).toMatchObject({ state: 'trashed', stateSince: NOW });
  });

  it('undoes the trash on restore', () => {
    const asset = assetOf();
    const state = archivedState(asset, { state: 'trashed', stateSince: NOW - 1000 });
    const plan = planChange({ kind: 'restored', target: assetOnly(asset) }, state, POLICY, NOW);
    expect(plan.entries[0]?.state).toBe('active');
    expect(plan.entries[0]?.stateSince).toBeUndefined();
  });

  it('archives the Shared Library copy of your own photo once', () => {
    const asset = assetOf();
    const shared = assetOf({ zone: SHARED, assetRecordName: 'ASSET-S' });
    const plan = planChange({ kind: 'movedToShared', asset: shared }, archivedState(asset), POLICY, NOW);
    expect(plan.archive).toEqual([]);
    expect(plan.entries[0]).toMatchObject({
      zone: SHARED,
      objectIds: archivedState(asset).objects.map((o) => o.objectId),
    });
  });

  it('releases the objects of a purged photo', () => {
    const asset = assetOf();
    const state = archivedState(asset, { state: 'trashed' });
    const plan = planChange(
      { kind: 'purged', zone: PRIMARY, masterRecordName: 'MASTER1' },
      state,
      POLICY,
      NOW,
    );
    expect(plan.released.map((object) => object.key)).toEqual([
      'library/2024/2024-07-14/IMG_0001.HEIC',
      'library/2024/2024-07-14/IMG_0001_HEVC.MOV',
    ]);
    expect(plan.entries[0]?.state).toBe('purged');
  });

  it('releases nothing when another entry of the master still references the objects', () => {
    const asset = assetOf();
    const state = archivedState(asset);
    const sharedEntry: ManifestEntry = { ...state.entries[0]!, zone: SHARED, assetRecordName: 'ASSET-S' };
    const plan = planChange(
      { kind: 'purged', zone: PRIMARY, masterRecordName: 'MASTER1', assetRecordName: 'ASSET-1' },
      { ...state, entries: [...state.entries, sharedEntry] },
      POLICY,
      NOW,
    );
    expect(plan.released).toEqual([]);
    expect(plan.entries).toHaveLength(1);
  });

  it('does not delete when a photo leaves the Shared Library for a personal library', () => {
    const shared = assetOf({ zone: SHARED, assetRecordName: 'ASSET-S' });
    const plan = planChange(
      { kind: 'movedFromShared', target: assetOnly(shared, { isDeleted: true }) },
      archivedState(shared),
      POLICY,
      NOW,
    );
    expect(plan).toMatchObject({ archive: [], released: [] });
    expect(plan.entries[0]?.state).toBe('movedOut');
  });

  it('records album membership in the manifest only', () => {
    const asset = assetOf();
    const plan = planChange(
      { kind: 'albumAdded', zone: PRIMARY, assetRecordName: 'ASSET-1', albumRecordName: 'ALB' },
      archivedState(asset),
      POLICY,
      NOW,
    );
    expect(plan.archive).toEqual([]);
    expect(plan.entries[0]?.albumRecordNames).toEqual(['ALB']);
  });
});
