/**
 * Verify on a bucket that encrypts with SSE-KMS, run without `--sse-kms` (audit finding 13): its
 * ETags are 32 hex characters that are not MD5s. An ETag that disagrees with the manifest is
 * confirmed with one HEAD: under SSE-KMS (or SSE-C) the `md5chksum` metadata is compared instead,
 * so an intact archive is not reported, nor repaired, as corrupt.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runVerify } from '#app/verify.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { SseKmsObjectStore } from '#test/fakes/sse-kms-object-store.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const PHOTOS = 12;
const keyOf = (i: number) => `library/2024/2024-07-14/IMG_${i}.HEIC`;
const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

/** `PHOTOS` photos archived into `objects`, each recorded in the manifest with its true hashes. */
async function archive(objects: ObjectStore): Promise<InMemorySyncStateStore> {
  const state = new InMemorySyncStateStore();
  for (let i = 0; i < PHOTOS; i++) {
    const body = Buffer.from(`photo ${i} bytes`);
    await objects.putBytes(keyOf(i), body, { contentType: 'image/heic' });
    await state.putEntry(
      {
        zone: PRIMARY,
        assetRecordName: `ASSET-${i}`,
        masterRecordName: `MASTER-${i}`,
        assetChangeTag: 'a1',
        status: 'archived',
        flags: { isFavorite: false, isHidden: false, isDeleted: false },
        albums: [],
        versions: [
          {
            kind: 'original',
            key: keyOf(i),
            size: body.length,
            sha256: hex('sha256', body),
            md5: hex('md5', body),
            fileChecksum: `sum-${i}`,
            archivedAt: 1,
          },
        ],
        deletions: [],
      },
      0,
    );
  }
  return state;
}

const verify = (state: InMemorySyncStateStore, objects: ObjectStore, etagsAreMd5 = true) =>
  runVerify({ state, objects, versionPolicy: DEFAULT_VERSION_POLICY }, { deep: false, etagsAreMd5 });

describe('verify of an SSE-KMS bucket without --sse-kms', () => {
  it('finds no checksum mismatch in an intact archive: each ETag that disagrees is confirmed by a HEAD', async () => {
    const objects = new SseKmsObjectStore();
    const state = await archive(objects);

    const { report } = await verify(state, objects);

    expect(report.checksumMismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checked.md5Compared).toBe(PHOTOS);
    expect(report.checked.etagsNotMd5).toBe(PHOTOS);
    expect(objects.heads).toBe(PHOTOS);
  });

  it('still reports an object whose md5chksum disagrees, from md5chksum', async () => {
    const objects = new SseKmsObjectStore();
    const state = await archive(objects);
    const other = Buffer.from('photo 3 BYTES');
    await objects.putBytes(keyOf(3), other, { contentType: 'image/heic' });

    const { report } = await verify(state, objects);

    expect(report.checksumMismatches).toEqual([
      expect.objectContaining({ key: keyOf(3), source: 'md5chksum', actual: hex('md5', other) }),
    ]);
  });

  it('with --sse-kms reads every head up front, as before', async () => {
    const objects = new SseKmsObjectStore();
    const state = await archive(objects);

    const { report } = await verify(state, objects, false);

    expect(report.ok).toBe(true);
    expect(objects.heads).toBe(PHOTOS);
  });
});

describe('verify of an SSE-S3 bucket', () => {
  it('reads no head when every ETag agrees with the manifest', async () => {
    const objects = new CountingHeads();
    const state = await archive(objects);

    const { report } = await verify(state, objects);

    expect(report.ok).toBe(true);
    expect(objects.heads).toBe(0);
  });

  it('reports other bytes under an MD5 ETag from the ETag, after one HEAD', async () => {
    const objects = new CountingHeads();
    const state = await archive(objects);
    const other = Buffer.from('photo 5 BYTES');
    await objects.putBytes(keyOf(5), other, { contentType: 'image/heic' });

    const { report } = await verify(state, objects);

    expect(report.checksumMismatches).toEqual([
      expect.objectContaining({ key: keyOf(5), source: 'etag', actual: hex('md5', other) }),
    ]);
    expect(objects.heads).toBe(1);
  });
});

class CountingHeads extends InMemoryObjectStore {
  heads = 0;
  override async head(key: string) {
    this.heads++;
    return super.head(key);
  }
}
