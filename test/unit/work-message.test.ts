import { describe, expect, it } from 'vitest';
import { encodeWorkMessage, parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';

const asset: Asset = {
  zone: { database: 'private', zoneName: 'PrimarySync' },
  assetRecordName: 'A1B2C3D4-0000-4000-8000-000000000001',
  masterRecordName: 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO',
  assetChangeTag: 'a1',
  masterChangeTag: 'm1',
  fileName: 'IMG_0001.HEIC',
  fileNameSource: 'filenameEnc',
  mediaType: 'photo',
  captureTime: 1_700_000_000_000,
  timeZoneOffsetSeconds: 3600,
  isFavorite: false,
  isHidden: false,
  isDeleted: false,
  isExpunged: false,
  subtypes: ['live'],
  versions: [
    { kind: 'original', resourceField: 'resOriginalRes', size: 10, fileChecksum: 'c1', uti: 'public.heic' },
  ],
};

const message: WorkMessage = {
  v: WORK_MESSAGE_VERSION,
  runId: 'run-1',
  issuedAt: 1,
  items: [{ type: 'asset', asset }],
};

describe('work message', () => {
  it('round-trips an asset batch through JSON', () => {
    expect(parseWorkMessage(JSON.stringify(message))).toEqual(message);
  });

  it('rejects an unknown key: our own format is parsed strictly', () => {
    const tampered = { ...message, extra: true };
    expect(() => parseWorkMessage(JSON.stringify(tampered))).toThrowError();
  });

  it('rejects a message of another version', () => {
    expect(() => parseWorkMessage(JSON.stringify({ ...message, v: 3 }))).toThrowError();
    // Version 2 is version 1 with short keys: long keys under it are not ours.
    expect(() => parseWorkMessage(JSON.stringify({ ...message, v: 2 }))).toThrowError();
  });

  it('writes version 2 (short keys in the items) and reads it back to the same message', () => {
    const body = encodeWorkMessage(message);
    expect(JSON.parse(body)).toMatchObject({
      v: 2,
      runId: 'run-1',
      items: [{ t: 'asset', a: { ar: asset.assetRecordName } }],
    });
    expect(parseWorkMessage(body)).toEqual(message);
    expect(body.length).toBeLessThan(JSON.stringify(message).length * 0.75);
  });

  it('writes version 2 of a photo with what detection read about it (title, caption, keywords, place)', () => {
    // Every sync of a photo with a location threw "unknown key in a work item: description".
    const described: WorkMessage = {
      ...message,
      items: [
        {
          type: 'asset',
          asset: {
            ...asset,
            description: {
              title: 'Opera House',
              caption: 'at dusk',
              keywords: ['harbour'],
              location: { latitude: -33.86, longitude: 151.21, altitude: 3.5 },
              width: 4032,
              height: 3024,
              durationMs: 1500,
              timeZoneName: 'Australia/Sydney',
            },
          },
        },
        {
          type: 'assetOnly',
          change: {
            zone: asset.zone,
            assetRecordName: asset.assetRecordName,
            masterRecordName: asset.masterRecordName,
            assetChangeTag: 'a2',
            isFavorite: true,
            isHidden: false,
            isDeleted: false,
            isExpunged: false,
            versions: [],
            description: { location: { latitude: 1, longitude: 2 } },
          },
        },
      ],
    };
    const body = encodeWorkMessage(described);
    expect(body).not.toContain('"description"');
    expect(parseWorkMessage(body)).toEqual(described);
  });

  it('rejects a version 2 item with a key it does not know, after renaming', () => {
    const body = JSON.parse(encodeWorkMessage(message)) as { items: Record<string, unknown>[] };
    const tampered = { ...body, items: [{ ...body.items[0], extra: true }] };
    expect(() => parseWorkMessage(JSON.stringify(tampered))).toThrowError();
  });

  it('rejects an empty batch', () => {
    expect(() => parseWorkMessage(JSON.stringify({ ...message, items: [] }))).toThrowError();
  });

  it('writes a Shared Album item as it is beside short-keyed library items, and reads both back', () => {
    const mixed: WorkMessage = {
      ...message,
      items: [
        { type: 'asset', asset },
        {
          type: 'sharedAlbum',
          album: {
            albumguid: '0F1E2D3C-0000-4000-8000-00000000AB12',
            name: 'Family',
            location: 'https://p42-sharedstreams.icloud.com/123/sharedstreams/',
            ctag: 'FT;1',
            ownerDsid: '123',
            sharingType: 'owned',
            isPublic: false,
          },
        },
      ],
    };
    const body = encodeWorkMessage(mixed);
    expect(JSON.parse(body)).toMatchObject({ v: 2, items: [{ t: 'asset' }, { type: 'sharedAlbum' }] });
    expect(parseWorkMessage(body)).toEqual(mixed);
  });
});
