/**
 * A download worker's URL refresh (records/lookup) that CloudKit answers in a shape the mapping
 * cannot read (`missing`) took the photo for deleted in iCloud meanwhile: the item was skipped
 * without a trace (not archived, not failed, the message acknowledged). Only NOT_FOUND or a
 * tombstone says gone; an unreadable answer is retried like an error entry, never a deletion.
 */
import { describe, expect, it } from 'vitest';
import { CloudKitAssetLookup } from '#adapters/icloud/cloudkit/cloudkit-asset-lookup.ts';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import { refreshFromLookup } from '#app/refresh-from-lookup.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { classifyError, DownloadUrlExpiredError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { asset, master, ScriptedCloudKit } from '#test/fixtures/scripted-cloudkit.ts';
import { photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';

const NOW = 1_750_000_000_000;

describe('a worker URL refresh answered in a shape that cannot be read', () => {
  it('fails the item retryably (the message comes back), never skips it as deleted', async () => {
    const photo: Asset = photoAsset('p1', 50);
    const cloudKit = new ScriptedCloudKit();
    const readable = asset(photo.assetRecordName, photo.masterRecordName);
    const { assetDate: _, ...fields } = readable['fields'] as Record<string, unknown>;
    cloudKit.records.set(photo.masterRecordName, master(photo.masterRecordName, 'p1.JPG'));
    cloudKit.records.set(photo.assetRecordName, { ...readable, fields });
    const lookup = new CloudKitAssetLookup({
      client: new CloudKitClient({
        http: cloudKit,
        ckdatabasewsUrl: () => 'https://p42-ckdatabasews.icloud.com:443',
        dsid: '12345',
        clientId: 'CLIENT',
        retry: {
          sleep: async () => {},
          policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 },
        },
      }),
    });
    const state = new InMemorySyncStateStore({ now: () => NOW });
    const cdn = new ScriptedCdn();
    cdn.files.set(photo.versions[0]?.downloadUrl ?? '', () => new DownloadUrlExpiredError('410'));
    const deps: ArchiveDeps = {
      state,
      objects: new InMemoryObjectStore({ now: () => NOW }),
      downloader: cdn,
      // What the workers' download batch hands the archive.
      refresh: refreshFromLookup(lookup),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => NOW,
    };

    const outcome = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW,
      items: [{ type: 'asset', asset: photo }],
    }).then(
      (result) => ({ thrown: undefined, failed: result.failed }),
      (error: unknown) => ({ thrown: classifyError(error), failed: 0 }),
    );

    expect(cloudKit.sentTo('records/lookup').length).toBeGreaterThan(0);
    expect(outcome).toEqual({ thrown: 'retryable', failed: 0 });
    expect(await state.getEntry({ zone: ZONE, assetRecordName: photo.assetRecordName })).toBeUndefined();
  });
});
