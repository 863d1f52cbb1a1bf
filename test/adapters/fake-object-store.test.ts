import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { describeObjectStoreContract } from '#test/fakes/contracts/object-store-contract.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';

describeObjectStoreContract(
  'InMemoryObjectStore',
  async (options) =>
    new InMemoryObjectStore(options?.partSize === undefined ? {} : { partSize: options.partSize }),
);

describe('InMemoryObjectStore', () => {
  it('gives a multipart put the ETag S3 gives the metadata copy that ends it: the MD5 of its bytes', async () => {
    const store = new InMemoryObjectStore({ partSize: MIN_PART_SIZE });
    const size = MIN_PART_SIZE * 2 + 1;
    const result = await store.putStream('m.MOV', generatedStream(size).stream, {
      contentType: 'video/quicktime',
      contentLength: size,
      metadata: mtimeMetadata(0),
    });
    expect(result).toMatchObject({ etag: generatedDigest(size, 'md5'), multipart: true });
  });
});
