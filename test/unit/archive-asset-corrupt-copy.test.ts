/**
 * A library photo over one part whose metadata copy showed S3 stored other bytes
 * (`UploadDigestMismatchError`) under `keep`, where staging the corrupt copy again (`unmark`)
 * failed too: the copy keeps the streamed `md5chksum` and SHA-256 beside other bytes. Its ETag is
 * S3's MD5 of what it stored, so the retry must see the two disagree and download again; where
 * the ETag is no MD5 (SSE-KMS, DSSE-KMS, SSE-C) it must not compare them.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { ObjectHead } from '#ports/object-store.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LateFailureKeptObjectStore } from '#test/fakes/late-failure-kept-object-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;
/** Two parts: the S3 store sends it as a multipart upload. */
const SIZE = MIN_PART_SIZE + 1000;

const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

/** The bucket encrypts with a KMS key: HEAD says so, and an ETag is not the MD5 of the bytes. */
class KmsEncryptedObjectStore extends InMemoryObjectStore {
  override async head(key: string): Promise<ObjectHead | undefined> {
    const head = await super.head(key);
    return head && { ...head, etag: hex('md5', Buffer.from(`kms:${head.etag}`)), encryption: 'sse-kms' };
  }
}

function setUp(objects: InMemoryObjectStore) {
  const state = new InMemorySyncStateStore({ now: () => NOW });
  const cdn = new ScriptedCdn();
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [], unavailable: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => NOW,
  };
  const asset = photoAsset('corrupt', SIZE);
  const bytes = jpegBytes(SIZE, 7);
  cdn.files.set(asset.versions[0]?.downloadUrl ?? '', bytes);
  return { deps, objects, cdn, asset, bytes };
}

describe('a library photo whose corrupt copy kept its late metadata', () => {
  it('is downloaded again on the retry, not adopted: its MD5 ETag is not its md5chksum', async () => {
    const { deps, objects, cdn, asset, bytes } = setUp(
      new LateFailureKeptObjectStore('corrupt-kept', () => true, { partSize: MIN_PART_SIZE, now: () => NOW }),
    );
    await expect(archiveCounted(deps, asset)).rejects.toThrow(/other bytes/);

    const retry = await archiveCounted(deps, asset);

    expect(cdn.opened).toHaveLength(2);
    const [version] = retry.entry?.versions ?? [];
    expect(version).toMatchObject({ md5: hex('md5', bytes), sha256: hex('sha256', bytes) });
    const head = await objects.head(version?.key ?? '');
    expect(head?.etag).toBe(hex('md5', bytes));
  });

  it('is adopted where the ETag is no MD5 (a KMS key): md5chksum and the ETag are not compared', async () => {
    const { deps, cdn, asset, bytes } = setUp(
      new KmsEncryptedObjectStore({ partSize: MIN_PART_SIZE, now: () => NOW }),
    );
    const first = await archiveCounted(deps, asset);
    // The manifest write was lost: the object and its key claim remain.
    const again = setUp(deps.objects as InMemoryObjectStore);
    const fresh = { ...again.deps, state: deps.state };
    await deps.state.putEntry(
      { ...(first.entry as NonNullable<typeof first.entry>), versions: [] },
      first.entry?.revision ?? 0,
    );

    const retry = await archiveCounted(fresh, asset);

    expect(again.cdn.opened).toEqual([]);
    expect(cdn.opened).toHaveLength(1);
    expect(retry.entry?.versions[0]).toMatchObject({ md5: hex('md5', bytes) });
  });
});
