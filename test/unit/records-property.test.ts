import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapRecords } from '#adapters/icloud/records/map-records.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { recordedQueryRecords } from '#test/fixtures/recorded-cloudkit.ts';

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
type Json = Record<string, unknown>;

const recorded = recordedQueryRecords('listing_photos', 'CPLAssetAndMasterByAddedDate') as Json[];
const albums = recordedQueryRecords('listing_albums', 'CPLAlbumByPositionLive') as Json[];
const samples: Json[] = [...recorded.slice(0, 3), ...recorded.slice(100, 103), ...albums.slice(0, 3)];

/** Runs the mapping; anything thrown must be our typed error. */
function mapsOrFailsTyped(records: unknown): boolean {
  try {
    mapRecords(records, ZONE);
    return true;
  } catch (error) {
    if (error instanceof UnexpectedResponseError) return true;
    throw error;
  }
}

const wrongValue = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.jsonValue(),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.jsonValue(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }),
);

/** A path into a record (up to four keys deep) chosen from the keys that exist. */
function pathsOf(value: unknown, prefix: string[] = [], depth = 0): string[][] {
  if (depth >= 4 || typeof value !== 'object' || value === null) return [prefix];
  const keys = Object.keys(value);
  return [prefix, ...keys.flatMap((k) => pathsOf((value as Json)[k], [...prefix, k], depth + 1))];
}

function mutate(record: Json, path: string[], replacement: unknown, drop: boolean): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(record);
  let target: Json = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Json;
  const last = path[path.length - 1]!;
  if (drop) delete target[last];
  else target[last] = replacement;
  return copy;
}

const mutatedRecord = fc
  .constantFrom(...samples)
  .chain((record) =>
    fc.tuple(fc.constant(record), fc.constantFrom(...pathsOf(record)), wrongValue, fc.boolean()),
  )
  .map(([record, path, replacement, drop]) => mutate(record, path, replacement, drop));

describe('record mapping never throws anything but a typed error', () => {
  it('on arbitrary JSON in place of the records list', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => mapsOrFailsTyped(value)),
      { numRuns: 300 },
    );
  });

  it('on arbitrary JSON items inside the records list', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 6 }), (items) => mapsOrFailsTyped(items)),
      {
        numRuns: 300,
      },
    );
  });

  it('on real records with a field dropped, nulled or given the wrong type', () => {
    fc.assert(
      fc.property(fc.array(mutatedRecord, { minLength: 1, maxLength: 4 }), (records) => {
        mapRecords(records, ZONE);
        return true;
      }),
      { numRuns: 400 },
    );
  });
});

describe('a malformed record never hides the good records beside it', () => {
  const goodMaster = recorded[0]!;
  const goodAsset = recorded.find(
    (r) =>
      ((r['fields'] as Json)['masterRef'] as { value: { recordName: string } } | undefined)?.value
        .recordName === goodMaster['recordName'],
  )!;

  it('still maps the good pair whatever garbage surrounds it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.jsonValue(), mutatedRecord), { maxLength: 4 }),
        fc.array(fc.oneof(fc.jsonValue(), mutatedRecord), { maxLength: 4 }),
        (before, after) => {
          const mapped = mapRecords([...before, goodMaster, goodAsset, ...after], ZONE);
          return mapped.changes.some(
            (c) => c.type === 'asset' && c.asset.assetRecordName === goodAsset['recordName'],
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports a record without a recordName as one problem and maps the rest', () => {
    const { recordName: _dropped, ...nameless } = recorded[1]!;
    const mapped = mapRecords([nameless, goodMaster, goodAsset], ZONE);
    expect(mapped.problems).toHaveLength(1);
    expect(mapped.problems[0]).toBeInstanceOf(UnexpectedResponseError);
    expect(mapped.changes.filter((c) => c.type === 'asset')).toHaveLength(1);
  });

  it('reports a CPLAsset without masterRef as a problem of that record only', () => {
    const masterless = structuredClone(goodAsset) as Json;
    delete (masterless['fields'] as Json)['masterRef'];
    const mapped = mapRecords([goodMaster, masterless, recorded[1]!, recorded[101]!], ZONE);
    expect(mapped.problems.map((p) => p.message)).toEqual([
      `CPLAsset ${goodAsset['recordName']} has no masterRef`,
    ]);
  });

  it('keeps inline error items apart from the records', () => {
    const mapped = mapRecords(
      [
        { recordName: 'gone', serverErrorCode: 'NOT_FOUND', reason: 'Record not found' },
        goodMaster,
        goodAsset,
      ],
      ZONE,
    );
    expect(mapped.errorItems).toEqual([
      { recordName: 'gone', serverErrorCode: 'NOT_FOUND', reason: 'Record not found' },
    ]);
    expect(mapped.changes).toHaveLength(1);
  });
});
