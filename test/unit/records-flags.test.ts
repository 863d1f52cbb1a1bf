import { describe, expect, it } from 'vitest';
import { readFlag } from '#adapters/icloud/records/field-values.ts';
import { mapRecords } from '#adapters/icloud/records/map-records.ts';
import type { ZoneRef } from '#domain/model/zone.ts';

const ZONE: ZoneRef = { database: 'shared', zoneName: 'SharedSync-00000000-1111-2222-3333-444444444444' };

describe('flags with Apple null-versus-0 conventions', () => {
  it.each([
    ['absent', {}, false],
    ['a null field', { isDeleted: null }, false],
    ['a null value', { isDeleted: { value: null } }, false],
    ['a wrapper without value', { isDeleted: { type: 'INT64' } }, false],
    ['explicit 0', { isDeleted: { value: 0, type: 'INT64' } }, false],
    ['false', { isDeleted: { value: false } }, false],
    ['a string "1"', { isDeleted: { value: '1', type: 'STRING' } }, false],
    ['2', { isDeleted: { value: 2, type: 'INT64' } }, false],
    ['1', { isDeleted: { value: 1, type: 'INT64' } }, true],
    ['true', { isDeleted: { value: true } }, true],
  ])('reads %s as %s', (_case, fields, expected) => {
    expect(readFlag(fields, 'isDeleted')).toBe(expected);
  });
});

describe('boolean-like fields in either encoding (S142)', () => {
  const album = (isDeleted: unknown) => ({
    recordName: 'AAAAAAAA-1111-4222-8333-444444444444',
    recordType: 'CPLAlbum',
    recordChangeTag: 'c1',
    deleted: false,
    fields: { albumType: { value: 0, type: 'INT64' }, ...(isDeleted === undefined ? {} : { isDeleted }) },
  });
  const asset = (flags: Record<string, unknown>) => ({
    recordName: '11111111-2222-4333-8444-555555555555',
    recordType: 'CPLAsset',
    recordChangeTag: 'ab1',
    deleted: false,
    fields: {
      masterRef: {
        value: { recordName: 'AbCdEfGhIjKlMnOpQrStUvWxYz01', action: 'DELETE_SELF' },
        type: 'REFERENCE',
      },
      ...flags,
    },
  });
  const flagsOf = (flags: Record<string, unknown>) => {
    const change = mapRecords([asset(flags)], ZONE).changes[0];
    if (change?.type !== 'assetOnly') throw new Error('expected an asset-only change');
    const { isFavorite, isHidden, isDeleted, isExpunged } = change.change;
    return { isFavorite, isHidden, isDeleted, isExpunged };
  };

  it.each([
    ['INT64 1', { value: 1, type: 'INT64' }, true],
    ['true', { value: true }, true],
    ['INT64 0', { value: 0, type: 'INT64' }, false],
    ['false', { value: false }, false],
    ['null', { value: null }, false],
    ['absent', undefined, false],
  ])('reads a CPLAlbum isDeleted sent as %s', (_case, isDeleted, expected) => {
    const change = mapRecords([album(isDeleted)], ZONE).changes[0];
    expect(change?.type === 'album' && change.album.isDeleted).toBe(expected);
  });

  it('reads every flag of a CPLAsset the same whether sent as 1/0 or true/false', () => {
    const names = ['isFavorite', 'isHidden', 'isDeleted', 'isExpunged'];
    const as = (encode: (on: boolean) => unknown, on: (name: string) => boolean) =>
      Object.fromEntries(names.map((n) => [n, encode(on(n))]));
    for (const on of [(n: string) => n === 'isFavorite' || n === 'isDeleted', () => true, () => false]) {
      const ints = flagsOf(as((b) => ({ value: b ? 1 : 0, type: 'INT64' }), on));
      const bools = flagsOf(as((b) => ({ value: b }), on));
      expect(bools).toEqual(ints);
      expect(ints).toEqual(Object.fromEntries(names.map((n) => [n, on(n)])));
    }
  });
});

describe('asset-only changes and Shared Library fields', () => {
  const lone = (fields: Record<string, unknown>) => ({
    recordName: '11111111-2222-4333-8444-555555555555',
    recordType: 'CPLAsset',
    recordChangeTag: 'ab1',
    deleted: false,
    fields: {
      masterRef: {
        value: { recordName: 'AbCdEfGhIjKlMnOpQrStUvWxYz01', action: 'DELETE_SELF' },
        type: 'REFERENCE',
      },
      ...fields,
    },
  });

  it('turns a CPLAsset whose master is not in the list into an asset-only change', () => {
    const mapped = mapRecords([lone({ isDeleted: { value: null }, isExpunged: { value: null } })], ZONE);
    expect(mapped.changes).toEqual([
      {
        type: 'assetOnly',
        change: {
          zone: ZONE,
          assetRecordName: '11111111-2222-4333-8444-555555555555',
          masterRecordName: 'AbCdEfGhIjKlMnOpQrStUvWxYz01',
          assetChangeTag: 'ab1',
          isFavorite: false,
          isHidden: false,
          isDeleted: false,
          isExpunged: false,
          versions: [],
        },
      },
    ]);
  });

  it('reads who removed a shared item and why', () => {
    const mapped = mapRecords(
      [
        lone({
          isDeleted: { value: 1, type: 'INT64' },
          isExpunged: { value: 1, type: 'INT64' },
          trashReason: { value: 0, type: 'INT64' },
          deletedBy: { value: { recordName: '_abc', action: 'NONE' }, type: 'REFERENCE' },
        }),
      ],
      ZONE,
    );
    const change = mapped.changes[0];
    expect(change?.type === 'assetOnly' && change.change).toMatchObject({
      isDeleted: true,
      isExpunged: true,
      trashReason: 0,
      deletedBy: '_abc',
    });
  });

  it('lists an edited video rendering of a lone asset as the adjusted version', () => {
    const token = { fileChecksum: 'AQ', size: 10, downloadURL: 'https://cvws.icloud-content.com/B/x/file' };
    const mapped = mapRecords([lone({ resVidFullRes: { value: token, type: 'ASSETID' } })], ZONE);
    const change = mapped.changes[0];
    expect(change?.type === 'assetOnly' && change.change.versions.map((v) => [v.kind, v.uti])).toEqual([
      ['adjusted', 'public.data'],
    ]);
  });
});
