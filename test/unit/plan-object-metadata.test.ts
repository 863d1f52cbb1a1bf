import { describe, expect, it } from 'vitest';
import {
  buildObjectMetadata,
  encodeHeaderValue,
  formatCaptureTime,
  formatRcloneMtime,
  METADATA_KEYS,
  type MetadataInput,
  S3_USER_METADATA_LIMIT_BYTES,
  userMetadataBytes,
} from '#domain/plan/object-metadata.ts';

const input: MetadataInput = {
  asset: {
    zone: { database: 'private', zoneName: 'PrimarySync' },
    assetRecordName: 'F2A23C38-0020-42FE-A273-2923ADE3CAED',
    masterRecordName: 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO',
    captureTime: Date.UTC(2024, 6, 15, 7, 30, 0, 250),
    timeZoneOffsetSeconds: -8 * 3600,
    fileName: 'IMG_中文_7409.HEIC',
  },
  kind: 'original',
  version: { fileChecksum: 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO', uti: 'public.heic' },
};

describe('formatRcloneMtime', () => {
  it('writes seconds with the fraction rclone reads', () => {
    expect(formatRcloneMtime(1_720_999_800_250)).toBe('1720999800.25');
  });

  it('writes whole seconds without a fraction', () => {
    expect(formatRcloneMtime(1_720_999_800_000)).toBe('1720999800');
  });

  it('keeps leading zeros of the fraction', () => {
    expect(formatRcloneMtime(1_000_005)).toBe('1000.005');
  });

  it('writes times before 1970 sign first, as rclone does', () => {
    expect(formatRcloneMtime(-500)).toBe('-0.5');
    expect(formatRcloneMtime(-431_999_999_000)).toBe('-431999999');
  });

  it('omits times rclone cannot represent', () => {
    expect(formatRcloneMtime(Number.NaN)).toBeUndefined();
    expect(formatRcloneMtime(Date.UTC(2300, 0, 1))).toBeUndefined();
  });
});

describe('formatCaptureTime', () => {
  it('writes local time with the photo offset', () => {
    expect(formatCaptureTime(Date.UTC(2024, 6, 15, 7, 30), -8 * 3600)).toBe('2024-07-14T23:30:00.000-08:00');
    expect(formatCaptureTime(Date.UTC(2024, 6, 15, 7, 30), 5.5 * 3600)).toBe('2024-07-15T13:00:00.000+05:30');
  });

  it('writes UTC when the offset is unknown', () => {
    expect(formatCaptureTime(Date.UTC(2024, 6, 15, 7, 30))).toBe('2024-07-15T07:30:00.000Z');
  });
});

describe('buildObjectMetadata', () => {
  it('carries rclone mtime, content type and the iCloud identity', () => {
    const { contentType, metadata } = buildObjectMetadata(input);
    expect(contentType).toBe('image/heic');
    expect(metadata).toEqual({
      mtime: '1721028600.25',
      'icloud-captured': '2024-07-14T23:30:00.250-08:00',
      'icloud-zone': 'PrimarySync',
      'icloud-asset': 'F2A23C38-0020-42FE-A273-2923ADE3CAED',
      'icloud-master': 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO',
      'icloud-checksum': 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO',
      'icloud-version': 'original',
      'icloud-uti': 'public.heic',
      'icloud-filename': 'IMG_%E4%B8%AD%E6%96%87_7409.HEIC',
    });
  });

  it('percent-encodes a file name so it decodes back', () => {
    const { metadata } = buildObjectMetadata(input);
    expect(decodeURIComponent(metadata[METADATA_KEYS.fileName] ?? '')).toBe('IMG_中文_7409.HEIC');
  });

  it('encodes a percent sign so decoding is exact', () => {
    expect(decodeURIComponent(encodeHeaderValue('100% real.JPG'))).toBe('100% real.JPG');
  });

  it('adds md5chksum when the archive step knows it', () => {
    const md5 = Buffer.alloc(16, 7).toString('base64');
    expect(buildObjectMetadata({ ...input, md5Base64: md5 }).metadata[METADATA_KEYS.md5]).toBe(md5);
  });

  it('rejects an md5chksum that is not a 16-byte digest', () => {
    expect(() => buildObjectMetadata({ ...input, md5Base64: 'abc' })).toThrow(RangeError);
  });

  it('serves unknown types as octet-stream', () => {
    expect(
      buildObjectMetadata({ ...input, version: { fileChecksum: 'x', uti: 'com.example.new' } }).contentType,
    ).toBe('application/octet-stream');
  });

  it('stays under the S3 user-metadata limit, printable ASCII, for a worst-case asset', () => {
    const huge = '𝄞\u0000%é'.repeat(2000);
    const { metadata } = buildObjectMetadata({
      asset: {
        zone: { database: 'shared', zoneName: huge, ownerRecordName: huge },
        assetRecordName: huge,
        masterRecordName: huge,
        captureTime: -8_000_000_000_000,
        timeZoneOffsetSeconds: -12.75 * 3600,
        fileName: huge,
      },
      kind: 'liveAdjusted',
      version: { fileChecksum: huge, uti: huge },
      md5Base64: Buffer.alloc(16, 255).toString('base64'),
    });
    expect(userMetadataBytes(metadata)).toBeLessThanOrEqual(S3_USER_METADATA_LIMIT_BYTES);
    for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x20-\x7e]*$/u);
    expect(metadata[METADATA_KEYS.truncated]).toContain(METADATA_KEYS.fileName);
    // A cut never splits an escape or a character.
    expect(() => decodeURIComponent(metadata[METADATA_KEYS.fileName] ?? '')).not.toThrow();
  });
});
