/**
 * When an object found at a key may be adopted by a retry: whole (the size), verified (the late
 * SHA-256 and an MD5), and not a copy of other bytes (an MD5 ETag that disagrees with md5chksum).
 */
import { describe, expect, it } from 'vitest';
import { SHA256_METADATA_KEY, verifiedCopy } from '#domain/archive/verified-copy.ts';
import type { ObjectHead } from '#ports/object-store.ts';

const SHA256 = 'a'.repeat(64);
const MD5 = '0123456789abcdef0123456789abcdef';
const OTHER_MD5 = 'fedcba9876543210fedcba9876543210';
const md5chksum = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

const head = (overrides: Partial<ObjectHead> = {}): ObjectHead => ({
  key: 'k',
  size: 100,
  etag: MD5,
  lastModified: 0,
  metadata: { [SHA256_METADATA_KEY]: SHA256 },
  md5Base64: md5chksum(MD5),
  ...overrides,
});

describe('verifiedCopy', () => {
  it.each<[string, Partial<ObjectHead>, number | undefined]>([
    ['another size than expected', { size: 99 }, 100],
    ['no late SHA-256 (a staged upload)', { metadata: {} }, 100],
    ['no MD5: a multipart ETag and no md5chksum', { etag: `${MD5}-2`, md5Base64: undefined }, 100],
    ['an MD5 ETag other than md5chksum (a corrupt copy)', { etag: OTHER_MD5 }, 100],
    ['an MD5 ETag other than md5chksum under SSE-S3', { etag: OTHER_MD5, encryption: 'sse-s3' }, 100],
    ['a malformed md5chksum and no MD5 ETag', { etag: `${MD5}-2`, md5Base64: 'not-base64' }, 100],
  ])('refuses an object with %s', (_, overrides, size) => {
    expect(verifiedCopy(head(overrides), size)).toBeUndefined();
  });

  it.each<[string, Partial<ObjectHead>, number | undefined]>([
    ['an MD5 ETag that is its md5chksum', {}, 100],
    ['md5chksum beside a multipart ETag', { etag: `${MD5}-2` }, 100],
    ['an MD5 ETag and no md5chksum', { md5Base64: undefined }, 100],
    ['any size when none is expected', { size: 5 }, undefined],
    ['an ETag that is no MD5 under SSE-KMS', { etag: OTHER_MD5, encryption: 'sse-kms' }, 100],
    ['an ETag that is no MD5 under DSSE-KMS', { etag: OTHER_MD5, encryption: 'dsse-kms' }, 100],
    ['an ETag that is no MD5 under SSE-C', { etag: OTHER_MD5, encryption: 'sse-c' }, 100],
  ])('adopts an object with %s', (_, overrides, size) => {
    expect(verifiedCopy(head(overrides), size)).toEqual({ sha256: SHA256, md5: MD5 });
  });
});
