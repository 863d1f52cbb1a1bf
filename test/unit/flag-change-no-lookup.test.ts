/**
 * A favourite toggled on an edited photo or a screenshot. The recorded CPLAsset of an edited photo carries the edit's `resJPEGThumbRes` beside `resJPEGFullRes`
 * (test/fixtures/recorded/icloudpd/listing_photos_raw_alt_adj.json), which `assetOnlyChange` lists
 * as a `thumb` version. The default policy never archives thumbs, so the change needs no download
 * and no records/lookup: it is a flag change ("favourite, hide/unhide: manifest only"). Nor does a
 * screenshot's automatic render, which the default policy does not keep (`screenshotRender`).
 */
import { describe, expect, it } from 'vitest';
import { mapRecords } from '#adapters/icloud/records/map-records.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset, AssetOnlyChange, AssetVersion } from '#domain/model/asset.ts';
import { planVersions, SCREENSHOT_ADJUSTMENT } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { recordedQueryRecords } from '#test/fixtures/recorded-cloudkit.ts';
import { jpegBytes, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { base, message, T0 } from '#test/helpers/edited-photo.ts';

const rendition = (kind: 'adjusted' | 'thumb', checksum: string): AssetVersion => ({
  kind,
  resourceField: kind === 'adjusted' ? 'resJPEGFullRes' : 'resJPEGThumbRes',
  size: 100,
  fileChecksum: checksum,
  uti: 'public.jpeg',
  downloadUrl: `https://cdn.test/${checksum}`,
});

/**
 * `asset` archived, then its favourite toggled by a flag change that lists its renditions (as the
 * CPLAsset does); the CDN serves every version's bytes. The records/lookup made, and the entry.
 */
async function favouritedAfterArchive(asset: Asset) {
  const cdn = new ScriptedCdn();
  for (const [i, version] of asset.versions.entries())
    cdn.files.set(version.downloadUrl ?? '', jpegBytes(version.size, 3 + i));
  const lookups: string[] = [];
  const deps: ArchiveDeps = {
    state: new InMemorySyncStateStore({ now: () => T0 }),
    objects: new InMemoryObjectStore({ now: () => T0 }),
    downloader: cdn,
    refresh: async (_zone, keys) => {
      lookups.push(...keys.map((k) => k.assetRecordName));
      return { assets: [{ ...asset, assetChangeTag: 'a2', isFavorite: true }] };
    },
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => T0,
  };
  await processWorkMessage(deps, message(T0, [{ type: 'asset', asset }]));
  const favourite: AssetOnlyChange = {
    zone: asset.zone,
    assetRecordName: asset.assetRecordName,
    masterRecordName: asset.masterRecordName,
    assetChangeTag: 'a2',
    ...(asset.adjustmentType === undefined ? {} : { adjustmentType: asset.adjustmentType }),
    isFavorite: true,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    versions: asset.versions.filter((v) => v.kind !== 'original'),
  };
  await processWorkMessage(deps, message(T0 + 1, [{ type: 'assetOnly', change: favourite }]));
  return {
    lookups,
    entry: await deps.state.getEntry({ zone: asset.zone, assetRecordName: asset.assetRecordName }),
  };
}

describe('a flag change of an edited photo or a screenshot', () => {
  it('asks iCloud for nothing', async () => {
    const edited: Asset = {
      ...base,
      adjustmentType: 'com.apple.photo',
      versions: [...base.versions, rendition('adjusted', 'E1'), rendition('thumb', 'T1')],
    };
    const { lookups } = await favouritedAfterArchive(edited);

    expect(lookups).toEqual([]);
  });
  it('asks iCloud for nothing when the change is the recorded edited CPLAsset, favourited', async () => {
    const zone = { database: 'private' as const, zoneName: 'PrimarySync' };
    const records = recordedQueryRecords('listing_photos_raw_alt_adj', 'CPLAssetAndMasterByAddedDate');
    const full = mapRecords(records, zone).changes.flatMap((c) =>
      c.type === 'asset' && c.asset.assetRecordName === '166B201A-1513-4AD6-AA27-F6116D360652'
        ? [c.asset]
        : [],
    )[0];
    const alone = records.filter(
      (r) => (r as { recordName?: string }).recordName === '166B201A-1513-4AD6-AA27-F6116D360652',
    );
    const change = mapRecords(alone, zone).changes.flatMap((c) =>
      c.type === 'assetOnly' ? [c.change] : [],
    )[0];
    if (full === undefined || change === undefined) throw new Error('recorded edited asset not found');
    const state = new InMemorySyncStateStore({ now: () => T0 });
    // The photo archived as the default policy plans it.
    await state.putEntry(
      {
        zone,
        assetRecordName: full.assetRecordName,
        masterRecordName: full.masterRecordName,
        assetChangeTag: full.assetChangeTag,
        masterChangeTag: full.masterChangeTag,
        status: 'archived',
        flags: { isFavorite: false, isHidden: false, isDeleted: false },
        albums: [],
        versions: planVersions(full, DEFAULT_VERSION_POLICY).map((p, i) => ({
          kind: p.kind,
          key: `library/k${i}`,
          size: p.version.size,
          sha256: '0'.repeat(64),
          md5: '0'.repeat(32),
          fileChecksum: p.version.fileChecksum,
          archivedAt: T0,
        })),
        deletions: [],
      },
      0,
    );
    const lookups: string[] = [];
    const deps: ArchiveDeps = {
      state,
      objects: new InMemoryObjectStore({ now: () => T0 }),
      downloader: new ScriptedCdn(),
      refresh: async (_zone, keys) => {
        lookups.push(...keys.map((k) => k.assetRecordName));
        return { assets: [{ ...full, isFavorite: true }] };
      },
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => T0,
    };
    await processWorkMessage(
      deps,
      message(T0 + 1, [
        { type: 'assetOnly', change: { ...change, assetChangeTag: 'later', isFavorite: true } },
      ]),
    );

    expect({ kinds: change.versions.map((v) => v.kind), lookups }).toEqual({
      kinds: ['adjusted', 'thumb'],
      lookups: [],
    });
  });
  it('asks iCloud for nothing for a screenshot whose render the policy does not keep', async () => {
    const screenshot: Asset = {
      ...base,
      adjustmentType: SCREENSHOT_ADJUSTMENT,
      versions: [...base.versions, rendition('adjusted', 'S1')],
    };
    const { lookups, entry } = await favouritedAfterArchive(screenshot);

    expect({ lookups, favourite: entry?.flags.isFavorite }).toEqual({ lookups: [], favourite: true });
  });
});
