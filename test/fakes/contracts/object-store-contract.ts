/**
 * The behaviour every `ObjectStore` must have, run against the S3 adapter (on s3rver) and the
 * in-memory fake.
 */

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { ContentLengthMismatchError } from '#domain/errors.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import { generatedDigest, generatedStream, readStream } from '../generated-stream.ts';

/** Builds an empty store; `partSize`/`queueSize` as given (the multipart cases use the minimum part). */
export type ObjectStoreFactory = (options?: {
  readonly partSize?: number;
  readonly queueSize?: number;
}) => Promise<ObjectStore>;

const CAPTURED = 1_717_243_200_500;

function bodyOf(text: string): { body: Readable; length: number } {
  const data = Buffer.from(text, 'utf8');
  return { body: Readable.from([data]), length: data.length };
}

async function putText(store: ObjectStore, key: string, text: string) {
  const { body, length } = bodyOf(text);
  return store.putStream(key, body, {
    contentType: 'text/plain',
    contentLength: length,
    metadata: mtimeMetadata(CAPTURED),
  });
}

async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys;
}

export function describeObjectStoreContract(name: string, createStore: ObjectStoreFactory): void {
  describe(`${name} (ObjectStore contract)`, () => {
    it('stores a small object in one request with the MD5 as its ETag and rclone metadata', async () => {
      const store = await createStore();
      const data = Buffer.from('a photo, in spirit');
      const digest = createHash('md5').update(data).digest();
      const result = await store.putStream('2024/06/01/IMG_0001.HEIC', Readable.from([data]), {
        contentType: 'image/heic',
        contentLength: data.length,
        metadata: { ...mtimeMetadata(CAPTURED), 'icloud-asset': 'AaBbCc', 'icloud-master': 'MmNn' },
        lateMetadata: () => ({ sha256: createHash('sha256').update(data).digest('hex') }),
      });
      expect(result).toMatchObject({ size: data.length, etag: digest.toString('hex'), multipart: false });
      expect(result.md5).toBe(digest.toString('hex'));
      expect(result.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      const head = await store.head('2024/06/01/IMG_0001.HEIC');
      expect(head).toMatchObject({
        size: data.length,
        etag: digest.toString('hex'),
        contentType: 'image/heic',
        metadata: mtimeMetadata(CAPTURED),
        md5Base64: digest.toString('base64'),
      });
      expect(head?.metadata).toEqual({
        'icloud-asset': 'AaBbCc',
        'icloud-master': 'MmNn',
        mtime: '1717243200.5',
        md5chksum: digest.toString('base64'),
        sha256: createHash('sha256').update(data).digest('hex'),
      });
    });

    it('stores a body larger than a part as multipart, with md5chksum and late metadata', async () => {
      const store = await createStore({ partSize: MIN_PART_SIZE, queueSize: 2 });
      const size = MIN_PART_SIZE * 2 + 12_345;
      const { stream } = generatedStream(size);
      const result = await store.putStream('video/big.MOV', stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(1_700_000_000_000),
        lateMetadata: () => ({ sha256: generatedDigest(size, 'sha256') }),
      });
      const md5 = generatedDigest(size, 'md5');
      // The metadata copy made it a new object, whose ETag on S3 is the MD5 of its bytes (not the
      // upload's `<hex>-3`): the put records that ETag, and HEAD and List show it.
      expect(result).toMatchObject({
        size,
        md5,
        etag: md5,
        sha256: generatedDigest(size, 'sha256'),
        multipart: true,
      });
      const head = await store.head('video/big.MOV');
      expect(head?.etag).toBe(md5);
      const listed: string[] = [];
      for await (const object of store.list('video/')) listed.push(object.etag);
      expect(listed).toEqual([md5]);
      expect(head?.md5Base64).toBe(Buffer.from(md5, 'hex').toString('base64'));
      expect(head?.metadata.sha256).toBe(generatedDigest(size, 'sha256'));
      expect(head?.metadata.mtime).toBe('1700000000');
      expect(head?.contentType).toBe('video/quicktime');
      const stored = await store.getStream('video/big.MOV');
      const bytes = await readStream(stored?.body ?? Readable.from([]));
      expect(createHash('md5').update(bytes).digest('hex')).toBe(md5);
    });

    it('puts bytes held in memory in one request, with the MD5 as its ETag and md5chksum', async () => {
      const store = await createStore();
      const data = Buffer.from('{"album":"Été 2024"}\n', 'utf8');
      const md5 = createHash('md5').update(data).digest('hex');
      const result = await store.putBytes('albums/Été 2024.json', data, {
        contentType: 'application/json',
        metadata: { 'icloud-album': 'Ete' },
      });
      expect(result).toMatchObject({
        key: 'albums/Été 2024.json',
        size: data.length,
        etag: md5,
        md5,
        sha256: createHash('sha256').update(data).digest('hex'),
        multipart: false,
      });
      const stored = await store.getStream('albums/Été 2024.json');
      expect(stored?.head).toMatchObject({ size: data.length, etag: md5, contentType: 'application/json' });
      expect(stored?.head.metadata).toEqual({
        'icloud-album': 'Ete',
        md5chksum: Buffer.from(md5, 'hex').toString('base64'),
      });
      expect(await readStream(stored?.body ?? Readable.from([]))).toEqual(data);
    });

    it('puts bytes larger than a part in one request all the same (no multipart)', async () => {
      const store = await createStore({ partSize: MIN_PART_SIZE });
      const data = Buffer.alloc(MIN_PART_SIZE + 4321, 7);
      const md5 = createHash('md5').update(data).digest('hex');
      const result = await store.putBytes('catalog/shards/big.ndjson', data, {
        contentType: 'application/x-ndjson',
      });
      expect(result).toMatchObject({ size: data.length, etag: md5, multipart: false });
      expect((await store.head('catalog/shards/big.ndjson'))?.md5Base64).toBe(
        Buffer.from(md5, 'hex').toString('base64'),
      );
    });

    it('refuses to put bytes once aborted and stores nothing', async () => {
      const store = await createStore();
      const controller = new AbortController();
      controller.abort();
      await expect(
        store.putBytes('albums/never.json', Buffer.from('{}'), {
          contentType: 'application/json',
          signal: controller.signal,
        }),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(await store.head('albums/never.json')).toBeUndefined();
    });

    it('refuses a body shorter than its declared length and stores nothing', async () => {
      const store = await createStore();
      const { body } = bodyOf('short');
      await expect(
        store.putStream('short.JPG', body, {
          contentType: 'image/jpeg',
          contentLength: 10,
          metadata: mtimeMetadata(CAPTURED),
        }),
      ).rejects.toBeInstanceOf(ContentLengthMismatchError);
      expect(await store.head('short.JPG')).toBeUndefined();
    });

    it('refuses a single-put body longer than its declared length and stores nothing', async () => {
      const store = await createStore();
      const { body } = bodyOf('a photo with a few bytes too many');
      await expect(
        store.putStream('long.JPG', body, {
          contentType: 'image/jpeg',
          contentLength: 10,
          metadata: mtimeMetadata(CAPTURED),
        }),
      ).rejects.toBeInstanceOf(ContentLengthMismatchError);
      expect(await store.head('long.JPG')).toBeUndefined();
    });

    it('refuses a multipart body longer than its declared length and stores nothing', async () => {
      const store = await createStore({ partSize: MIN_PART_SIZE });
      const { stream } = generatedStream(MIN_PART_SIZE * 2);
      await expect(
        store.putStream('long.MOV', stream, {
          contentType: 'video/quicktime',
          contentLength: MIN_PART_SIZE + 1,
          metadata: mtimeMetadata(CAPTURED),
        }),
      ).rejects.toBeInstanceOf(ContentLengthMismatchError);
      expect(await store.head('long.MOV')).toBeUndefined();
    });

    it('fails an aborted upload with an AbortError and stores nothing', async () => {
      const store = await createStore({ partSize: MIN_PART_SIZE });
      const size = MIN_PART_SIZE * 3;
      const { stream, produced } = generatedStream(size, { stallAfter: MIN_PART_SIZE + 1024 });
      const controller = new AbortController();
      const put = store.putStream('aborted.MOV', stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(CAPTURED),
        signal: controller.signal,
      });
      while (produced() < MIN_PART_SIZE + 1024) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      await expect(put).rejects.toMatchObject({ name: 'AbortError' });
      expect(await store.head('aborted.MOV')).toBeUndefined();
    });

    it('round-trips unicode keys byte for byte, NFC and NFD kept apart', async () => {
      const store = await createStore();
      const keys = [
        'u/Café.JPG',
        'u/Cafe\u0301.JPG',
        'u/日本語 写真.HEIC',
        'u/📷 + & =.jpg',
        'u/Screenshot 2024-06-01 at 10.00.00\u202FAM.png',
        'u/a%20b.jpg',
      ];
      for (const key of keys) await putText(store, key, key);
      const listed = await listKeys(store, 'u/');
      expect([...listed].sort()).toEqual([...keys].sort());
      for (const key of keys) {
        const stored = await store.getStream(key);
        expect((await readStream(stored?.body ?? Readable.from([]))).toString('utf8')).toBe(key);
      }
    });

    it('lists only the prefix, in key order, across pages', async () => {
      const store = await createStore();
      const keys = Array.from({ length: 7 }, (_, i) => `p/2024/${String(i).padStart(2, '0')}.jpg`);
      for (const key of [...keys].reverse()) await putText(store, key, 'x');
      await putText(store, 'q/outside.jpg', 'x');
      expect(await listKeys(store, 'p/')).toEqual(keys);
    });

    it('reports a missing object as undefined', async () => {
      const store = await createStore();
      expect(await store.head('missing.jpg')).toBeUndefined();
      expect(await store.getStream('missing.jpg')).toBeUndefined();
    });

    it('deletes an object, and deleting a missing one is not an error', async () => {
      const store = await createStore();
      await putText(store, 'gone.jpg', 'x');
      await store.delete('gone.jpg');
      await store.delete('gone.jpg');
      expect(await store.head('gone.jpg')).toBeUndefined();
    });

    it('deletes many objects at once, missing ones included, and leaves the others', async () => {
      const store = await createStore();
      const keys = ['many/a.json', 'many/b.json', 'many/c/d.json'];
      for (const key of [...keys, 'many/kept.json']) await putText(store, key, 'x');
      await store.deleteMany([...keys, 'many/never-was.json']);
      await store.deleteMany([]);
      expect(await listKeys(store, 'many/')).toEqual(['many/kept.json']);
    });

    it('adds metadata in place while the ETag is the one given, keeping the rest and the bytes', async () => {
      const store = await createStore();
      const put = await putText(store, 'meta/IMG_1.MOV', 'a video, in spirit');
      const md5 = createHash('md5').update('a video, in spirit').digest('hex');

      const added = await store.addMetadata('meta/IMG_1.MOV', {
        ifEtag: put.etag,
        md5,
        metadata: { 'icloud-sha256': put.sha256 },
      });

      const head = await store.head('meta/IMG_1.MOV');
      expect(added).toEqual({
        added: true,
        etag: head?.etag,
        ...(head?.versionId && { versionId: head.versionId }),
      });
      expect(head).toMatchObject({
        contentType: 'text/plain',
        metadata: { ...mtimeMetadata(CAPTURED), 'icloud-sha256': put.sha256 },
        md5Base64: Buffer.from(md5, 'hex').toString('base64'),
      });
      expect((await readStream((await store.getStream('meta/IMG_1.MOV'))!.body)).toString()).toBe(
        'a video, in spirit',
      );
    });

    it('adds no metadata when the ETag is not the current one, nor to a missing object', async () => {
      const store = await createStore();
      await putText(store, 'meta/IMG_2.MOV', 'theirs');

      const changed = await store.addMetadata('meta/IMG_2.MOV', {
        ifEtag: '0123456789abcdef0123456789abcdef-2',
        md5: '0'.repeat(32),
        metadata: { 'icloud-sha256': '1'.repeat(64) },
      });
      const missing = await store.addMetadata('meta/none.MOV', {
        ifEtag: '0123456789abcdef0123456789abcdef-2',
        md5: '0'.repeat(32),
        metadata: {},
      });

      expect(changed).toEqual({ added: false, why: 'changed' });
      expect(missing).toEqual({ added: false, why: 'missing' });
      expect((await store.head('meta/IMG_2.MOV'))?.metadata).toEqual({
        ...mtimeMetadata(CAPTURED),
        md5chksum: createHash('md5').update('theirs').digest('base64'),
      });
    });
  });
}
