import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { describeObjectStoreContract } from '#test/fakes/contracts/object-store-contract.ts';
import { generatedStream } from '#test/fakes/generated-stream.ts';
import { InMemoryObjectStore, multipartEtag } from '#test/fakes/in-memory-object-store.ts';

describeObjectStoreContract(
  'InMemoryObjectStore',
  async (options) =>
    new InMemoryObjectStore(options?.partSize === undefined ? {} : { partSize: options.partSize }),
);

describe('InMemoryObjectStore', () => {
  it('gives a multipart object the ETag S3 would: MD5 of part MD5s and the part count', async () => {
    const store = new InMemoryObjectStore({ partSize: MIN_PART_SIZE });
    const size = MIN_PART_SIZE * 2 + 1;
    const result = await store.putStream('m.MOV', generatedStream(size).stream, {
      contentType: 'video/quicktime',
      contentLength: size,
      metadata: mtimeMetadata(0),
    });
    expect(result.etag).toMatch(/^[0-9a-f]{32}-3$/);
    expect(multipartEtag(Buffer.alloc(0), MIN_PART_SIZE)).toMatch(/-0$/);
  });
});
