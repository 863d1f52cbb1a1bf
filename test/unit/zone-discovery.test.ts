/**
 * Which zones of a `zones/list` or `changes/database` answer hold photos
 * (functions/adapters/icloud/cloudkit/zone-discovery.ts; docs/protocol/cloudkit.md#zones).
 */
import { describe, expect, it } from 'vitest';
import type { WireZoneEntry } from '#adapters/icloud/cloudkit/wire-schemas.ts';
import { photoZonesOf } from '#adapters/icloud/cloudkit/zone-discovery.ts';
import { isOwnLibrary } from '#domain/model/zone.ts';

const SHARED = 'SharedSync-1A2B3C4D-0000-4000-8000-000000000000';
const entry = (zoneName: string, extra: object = {}) =>
  ({ zoneID: { zoneName, ownerRecordName: '_owner' }, ...extra }) as unknown as WireZoneEntry;

describe('photoZonesOf', () => {
  it('takes the own library Apple lists as PrimarySync1 (S141), in the private database only', () => {
    const listed = [entry('PrimarySync1'), entry(SHARED), entry('CMM-00000000-0000-4000-8000-000000000000')];
    expect(photoZonesOf('private', listed).map((z) => z.zoneName)).toEqual(['PrimarySync1', SHARED]);
    expect(photoZonesOf('shared', listed).map((z) => z.zoneName)).toEqual([SHARED]);
  });

  it('skips failed entries that keep their zoneID, and deleted zones', () => {
    const listed = [
      entry('PrimarySync', { serverErrorCode: 'ZONE_NOT_FOUND', reason: 'Zone fetch failed' }),
      entry(SHARED, { deleted: true }),
      entry('PrimarySync1'),
    ];
    expect(photoZonesOf('private', listed).map((z) => z.zoneName)).toEqual(['PrimarySync1']);
  });
});

describe('isOwnLibrary', () => {
  it('is the private PrimarySync or PrimarySync<suffix>, nothing else', () => {
    expect(isOwnLibrary({ database: 'private', zoneName: 'PrimarySync' })).toBe(true);
    expect(isOwnLibrary({ database: 'private', zoneName: 'PrimarySync1' })).toBe(true);
    expect(isOwnLibrary({ database: 'shared', zoneName: 'PrimarySync1', ownerRecordName: 'x' })).toBe(false);
    expect(isOwnLibrary({ database: 'private', zoneName: SHARED })).toBe(false);
  });
});
