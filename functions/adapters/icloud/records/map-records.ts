/**
 * The whole mapping for one self-contained list of records: sort, pair, and turn lone assets into
 * asset-only changes. Used where a list stands alone (a lookup answer, a saved response); paged
 * feeds pair across pages with `AssetPairer` instead.
 */
import type { UnexpectedResponseError } from '#domain/errors.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { AssetPairer } from './asset-pairer.ts';
import type { RecordErrorItem } from './record-envelope.ts';
import { sortRecords } from './record-page.ts';

export interface MappedRecords {
  /** Albums, paired assets, asset-only changes, memberships, tombstones. */
  readonly changes: ZoneChange[];
  readonly errorItems: RecordErrorItem[];
  readonly problems: UnexpectedResponseError[];
  /** Masters without any asset in the list. */
  readonly unpairedMasters: string[];
  readonly ignoredTypes: Record<string, number>;
}

/**
 * Maps a `records` array. Throws `UnexpectedResponseError` only when `rawRecords` is not an array;
 * an unreadable record is one entry in `problems` and the others still map.
 */
export function mapRecords(rawRecords: unknown, zone: ZoneRef): MappedRecords {
  const sorted = sortRecords(rawRecords, zone);
  const pairer = new AssetPairer(zone);
  const paired = pairer.add(sorted.masters, sorted.assets);
  const flushed = pairer.flush();
  const albums = sorted.changes.filter((c) => c.type === 'album');
  const rest = sorted.changes.filter((c) => c.type !== 'album');
  return {
    changes: [
      ...albums,
      ...paired.assets.map((asset): ZoneChange => ({ type: 'asset', asset })),
      ...flushed.changes,
      ...rest,
    ],
    errorItems: sorted.errorItems,
    problems: [...sorted.problems, ...paired.problems, ...flushed.problems],
    unpairedMasters: flushed.unpairedMasters,
    ignoredTypes: sorted.ignoredTypes,
  };
}
