/**
 * The download worker's fresh-URL lookup (records/lookup) meeting ZONE_NOT_FOUND. For the own
 * library that is what Apple answers while iCloud Photos or web access is off, ADP is on, or in
 * passing (docs/protocol/cloudkit.md#errors): never a photo to give up on, so the message comes
 * back (retryable) and detection, which owns zone discovery, stops with guidance or follows a
 * renamed zone. For a Shared Library zone it means the library was left: the photo is recorded
 * failed as before and detection retires the zone.
 */
import { describe, expect, it } from 'vitest';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { classifyError, DownloadUrlExpiredError, ZoneNotFoundError } from '#domain/errors.ts';
import type { Asset, AssetOnlyChange } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';

const NOW = 1_750_000_000_000;
const SHARED_ZONE: ZoneRef = { database: 'shared', zoneName: 'SharedSync-1', ownerRecordName: '_owner' };

/**
 * One photo in `zone` whose refresh answers ZONE_NOT_FOUND: delivered whole with an expired URL
 * (410), or as an asset-only change that needs its versions looked up.
 */
async function deliver(zone: ZoneRef, as: 'asset' | 'assetOnly' = 'asset') {
  const state = new InMemorySyncStateStore({ now: () => NOW });
  const cdn = new ScriptedCdn();
  const asset: Asset = { ...photoAsset('p1', 50), zone };
  cdn.files.set(asset.versions[0]?.downloadUrl ?? '', () => new DownloadUrlExpiredError('410'));
  const deps: ArchiveDeps = {
    state,
    objects: new InMemoryObjectStore({ now: () => NOW }),
    downloader: cdn,
    // What CloudKitAssetLookup throws when records/lookup answers ZONE_NOT_FOUND for the zone.
    refresh: async (z) => {
      throw new ZoneNotFoundError(z.zoneName);
    },
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => NOW,
  };
  const outcome = await processWorkMessage(deps, {
    v: WORK_MESSAGE_VERSION,
    runId: 'r',
    issuedAt: NOW,
    items: [
      as === 'asset' ? { type: 'asset', asset } : { type: 'assetOnly', change: assetOnlyChange(asset) },
    ],
  }).then(
    (result) => ({ thrown: undefined, failed: result.failed }),
    (error: unknown) => ({ thrown: classifyError(error), failed: 0 }),
  );
  const entry = await state.getEntry({ zone, assetRecordName: asset.assetRecordName });
  return { outcome, status: entry?.status };
}

function assetOnlyChange(asset: Asset): AssetOnlyChange {
  const { zone, assetRecordName, masterRecordName } = asset;
  return {
    zone,
    assetRecordName,
    masterRecordName,
    assetChangeTag: 'b',
    isFavorite: true,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    versions: [],
  };
}

describe('ZONE_NOT_FOUND on a worker URL refresh', () => {
  it('for the own library: the message comes back (retryable), no photo recorded failed', async () => {
    expect(await deliver(ZONE)).toEqual({
      outcome: { thrown: 'retryable', failed: 0 },
      status: undefined,
    });
  });

  it('for the own library: an asset-only change that needs its versions comes back too', async () => {
    expect(await deliver(ZONE, 'assetOnly')).toEqual({
      outcome: { thrown: 'retryable', failed: 0 },
      status: undefined,
    });
  });

  it('for a Shared Library left: the photo is recorded failed, as before', async () => {
    expect(await deliver(SHARED_ZONE)).toEqual({
      outcome: { thrown: undefined, failed: 1 },
      status: 'failed',
    });
  });
});
