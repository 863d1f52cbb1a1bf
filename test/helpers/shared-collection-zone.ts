/**
 * A new-generation Shared Album (a `SharedCollection-` zone) and its records as CloudKit's
 * `changes/zone` serves them, for tests of the worker's read of such an album over scripted pages.
 */
import type { CloudKitRecordsClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';

export const COLLECTION_ZONE = 'SharedCollection-7B1E0000-0000-4000-8000-0000000000AA';
export const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 100_000 };

/** The album of `COLLECTION_ZONE` at version `ctag`. */
export const collectionAlbum = (ctag: string): SharedAlbum => ({
  albumguid: COLLECTION_ZONE,
  name: 'Family',
  location: '',
  ctag,
  ownerDsid: '_owner',
  sharingType: 'owned',
  isPublic: false,
  collection: { database: 'private', zoneName: COLLECTION_ZONE, ownerRecordName: '_owner' },
});

/** Item `n`'s CPLMaster: a 32-byte JPEG the byte-serving downloader answers. */
export const collectionMaster = (n: number) => ({
  recordName: `M${n}`,
  recordType: 'CPLMaster',
  recordChangeTag: 'm1',
  fields: {
    resOriginalRes: {
      value: {
        downloadURL: `https://cdn.test/item${n}?size=32`,
        fileChecksum: Buffer.from(`checksum-of-item-${n}`.padEnd(21, '.')).toString('base64'),
        size: 32,
      },
    },
    resOriginalFileType: { value: 'public.jpeg' },
    originalCreationDate: { value: Date.UTC(2026, 4, 3) },
  },
});

/** Item `n`'s CPLAsset, pointing at its master. */
export const collectionAsset = (n: number, tag = 'a1') => ({
  recordName: `A${n}`,
  recordType: 'CPLAsset',
  recordChangeTag: tag,
  fields: { masterRef: { value: { recordName: `M${n}` } }, addedDate: { value: Date.UTC(2026, 4, 3) } },
});

/** A zone served as `changes/zone` pages of `perPage` records, `moreComing` until the last. */
export function zoneOf(records: readonly unknown[], perPage: number) {
  const calls = { pages: 0 };
  const client = {
    async changesZone(_zone: unknown, token?: string) {
      calls.pages++;
      const at = token === undefined ? 0 : Number(token);
      const next = at + perPage;
      return {
        records: records.slice(at, next),
        syncToken: String(Math.min(next, records.length)),
        moreComing: next < records.length,
      };
    },
  } as unknown as CloudKitRecordsClient;
  return { client, calls };
}
