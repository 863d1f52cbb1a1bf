import { describe, expect, it } from 'vitest';
import { mapRecords } from '#adapters/icloud/records/map-records.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { recordedQueryRecords } from '#test/fixtures/recorded-cloudkit.ts';

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
interface RecordJson {
  recordName: string;
  fields: Record<string, unknown>;
}

/** The first recorded photo (IMG_7409.JPG) as a master/asset pair, deep-copied for editing. */
function firstPhoto(): { master: RecordJson; asset: RecordJson } {
  const records = structuredClone(
    recordedQueryRecords('listing_photos', 'CPLAssetAndMasterByAddedDate'),
  ) as RecordJson[];
  const master = records.find((r) => r.recordName === 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO')!;
  const asset = records.find(
    (r) =>
      (r.fields['masterRef'] as { value?: { recordName?: string } } | undefined)?.value?.recordName ===
      master.recordName,
  )!;
  return { master, asset };
}

function mapWithFilename(filenameEnc: unknown, itemType?: unknown): Asset {
  const { master, asset } = firstPhoto();
  if (filenameEnc === undefined) delete master.fields['filenameEnc'];
  else master.fields['filenameEnc'] = filenameEnc;
  if (itemType !== undefined) master.fields['itemType'] = itemType;
  const mapped = mapRecords([master, asset], ZONE);
  expect(mapped.problems).toEqual([]);
  const change = mapped.changes[0];
  if (change?.type !== 'asset') throw new Error('expected one asset');
  return change.asset;
}

describe('file names from filenameEnc', () => {
  it('uses a STRING-typed filenameEnc verbatim', () => {
    const asset = mapWithFilename({ value: 'IMG_7409.JPG', type: 'STRING' });
    expect([asset.fileName, asset.fileNameSource]).toEqual(['IMG_7409.JPG', 'filenameEnc']);
  });

  it('decodes a filenameEnc without a type as base64, as kei does', () => {
    expect(mapWithFilename({ value: 'SU1HXzc0MDkuSlBH' }).fileName).toBe('IMG_7409.JPG');
  });

  it('decodes non-ASCII names and normalises them to NFC', () => {
    expect(mapWithFilename({ value: 'SU1HX+S4reaWh183NDA5LkpQRw==', type: 'ENCRYPTED_BYTES' }).fileName).toBe(
      'IMG_中文_7409.JPG',
    );
    const decomposed = Buffer.from('Cafe\u0301.JPG', 'utf8').toString('base64');
    expect(mapWithFilename({ value: decomposed, type: 'ENCRYPTED_BYTES' }).fileName).toBe('Caf\u00e9.JPG');
  });

  it.each([
    ['missing', undefined],
    ['empty', { value: '', type: 'ENCRYPTED_BYTES' }],
    ['null value', { value: null, type: 'ENCRYPTED_BYTES' }],
    ['bad base64 padding', { value: 'aS9uIHY6YQBsKmk/ZFxwPGE+dCJofC5KUE', type: 'ENCRYPTED_BYTES' }],
    ['bytes that are not UTF-8', { value: 'abcdefgh', type: 'ENCRYPTED_BYTES' }],
    ['an unsupported type', { value: 'SU1HXzc0MDkuSlBH', type: 'ASSETID' }],
    ['a number', { value: 42, type: 'ENCRYPTED_BYTES' }],
    ['only whitespace', { value: 'ICAg', type: 'ENCRYPTED_BYTES' }],
  ])('falls back to the id-based name when filenameEnc is %s', (_case, filenameEnc) => {
    const asset = mapWithFilename(filenameEnc);
    expect([asset.fileName, asset.fileNameSource]).toEqual(['AY6c_BsE0jja.JPG', 'fallback']);
  });

  it('takes the fallback extension from the original resource when itemType is missing', () => {
    const asset = mapWithFilename(undefined, { type: 'STRING' });
    expect(asset.fileName).toBe('AY6c_BsE0jja.JPG');
    expect(asset.mediaType).toBe('photo');
  });
});

describe('photo or video', () => {
  it('decides by the file extension when itemType is unknown', () => {
    const asset = mapWithFilename(
      { value: 'clip.heic', type: 'STRING' },
      { value: 'com.example.new', type: 'STRING' },
    );
    expect(asset.mediaType).toBe('photo');
  });

  it('decides video for an unknown UTI, an unknown extension and no dataClassType', () => {
    const { master, asset } = firstPhoto();
    master.fields['itemType'] = { value: 'com.example.unknown', type: 'STRING' };
    master.fields['resOriginalFileType'] = { value: 'com.example.unknown', type: 'STRING' };
    master.fields['filenameEnc'] = { value: 'clip.xyz', type: 'STRING' };
    delete master.fields['dataClassType'];
    const change = mapRecords([master, asset], ZONE).changes[0];
    expect(change?.type === 'asset' && change.asset.mediaType).toBe('video');
  });
});
