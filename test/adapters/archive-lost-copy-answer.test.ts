/**
 * A video's metadata copy that S3 applied but whose answer was lost (a 500 after the copy), on the
 * local S3 with S3's ETags: the copy's ETag (the MD5) is not the upload's (`<hex>-<parts>`), so
 * the adapter's take-back (`If-Match` on the upload's) leaves the copy in place, and the retry
 * adopts it, md5chksum and all, without downloading the video again; the manifest records the
 * copy's ETag, the MD5.
 */
import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

it('adopts on the retry the copy whose answer was lost, without downloading again', async () => {
  const client = new S3Client(local.aws.clientConfig.s3);
  let copies = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'CopyObjectCommand') return next(args);
      const answer = await next(args);
      copies += 1;
      if (copies > 1) return answer;
      throw Object.assign(new Error('We encountered an internal error'), {
        name: 'InternalError',
        $metadata: { httpStatusCode: 500 },
      });
    },
    { step: 'initialize', name: 'loseFirstCopyAnswer' },
  );
  try {
    const objects = new S3ObjectStore({
      client,
      bucket: await local.createBucket(),
      partSize: MIN_PART_SIZE,
    });
    const cdn = new ScriptedCdn();
    const now = () => 1_750_000_000_000;
    const deps: ArchiveDeps = {
      state: new InMemorySyncStateStore({ now }),
      objects,
      downloader: cdn,
      refresh: async () => ({ assets: [], unavailable: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now,
    };
    const asset = photoAsset('video', MIN_PART_SIZE + 1000);
    const bytes = jpegBytes(MIN_PART_SIZE + 1000, 3);
    cdn.files.set(asset.versions[0]!.downloadUrl!, bytes);
    const md5 = createHash('md5').update(bytes).digest('hex');

    const first = await archiveCounted(deps, asset).catch((error: unknown) => error);
    const second = await archiveCounted(deps, asset);

    expect(first).not.toHaveProperty('outcome', 'archived');
    const key = second.entry?.versions[0]?.key ?? '';
    expect(second.entry?.versions[0]).toMatchObject({ md5, etag: md5 });
    expect((await objects.head(key))?.etag).toBe(md5);
    expect(cdn.opened).toHaveLength(1);
    expect(copies).toBe(1);
  } finally {
    client.destroy();
  }
});
