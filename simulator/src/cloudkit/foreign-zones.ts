/**
 * Zones a Photos account lists that are not photo libraries (S52, S139-S141 in docs/protocol/simulator-contract.md): an Image
 * Playground zone (`AppLibrarySync-…`), share-link zones (`CMM-<UUID>`), a shared-collection zone
 * (`SharedCollection-<UUID>`), and a failed `zones/list` entry. Each appears only under its quirk.
 *
 * They are listed by `zones/list` and reported as changed by every `changes/database` call. Index
 * queries in them answer 400 `BAD_REQUEST` "Index has invalid data" (rclone `ffd36fc2d`);
 * `changes/zone` works; `records/lookup` finds nothing there.
 */
import { createHash } from 'node:crypto';
import type { CloudKitContext } from './context.ts';
import { TokenCodec } from './tokens.ts';

export type ForeignKind = 'playground' | 'cmm' | 'sharedCollection';

export interface ForeignZone {
  readonly kind: ForeignKind;
  readonly zoneID: { readonly zoneName: string; readonly ownerRecordName: string; readonly zoneType: string };
}

/** A stable upper-case UUID per seed and label, shaped like Apple's zone-name UUIDs. */
function uuidOf(ctx: CloudKitContext, label: string): string {
  const h = createHash('sha256').update(`${ctx.library.core.seed}:${label}`).digest('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-A${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const zoneIdOf = (zoneName: string, ownerRecordName: string) => ({
  zoneName,
  ownerRecordName,
  zoneType: 'REGULAR_CUSTOM_ZONE',
});

/** The foreign zones this caller sees in this database under the current quirks. */
export function foreignZones(ctx: CloudKitContext): ForeignZone[] {
  const quirks = ctx.library.quirks;
  const core = ctx.library.core;
  const self = core.person(ctx.person).userRecordName;
  const other = core.person(ctx.person === 'owner' ? 'member' : 'owner').userRecordName;
  const zones: ForeignZone[] = [];
  const ownerPrivate = ctx.database === 'private' && ctx.person === 'owner';
  if (quirks.otherAppZones && ownerPrivate) {
    zones.push({
      kind: 'playground',
      zoneID: zoneIdOf(`AppLibrarySync-com.apple.GenerativePlayground-${uuidOf(ctx, 'playground')}`, self),
    });
    zones.push({ kind: 'cmm', zoneID: zoneIdOf(`CMM-${uuidOf(ctx, 'cmm')}`, self) });
  }
  if (quirks.cmmZones.includes(ctx.database)) {
    // Private: the caller's own share links (ICPS #327); shared: someone else's (kei #289).
    const owner = ctx.database === 'private' ? self : other;
    const zoneName = `CMM-${uuidOf(ctx, `cmm:${ctx.database}:${owner}`)}`;
    if (!zones.some((z) => z.zoneID.zoneName === zoneName))
      zones.push({ kind: 'cmm', zoneID: zoneIdOf(zoneName, owner) });
  }
  if (quirks.sharedCollectionZone && ownerPrivate) {
    zones.push({
      kind: 'sharedCollection',
      zoneID: zoneIdOf(`SharedCollection-${uuidOf(ctx, 'shared-collection')}`, self),
    });
  }
  return zones;
}

/** The foreign zone a request `zoneID` names, if any (owner optional, as for photo zones). */
export function foreignZoneOf(ctx: CloudKitContext, zoneID: unknown): ForeignZone | undefined {
  if (typeof zoneID !== 'object' || zoneID === null) return undefined;
  const { zoneName, ownerRecordName } = zoneID as { zoneName?: unknown; ownerRecordName?: unknown };
  return foreignZones(ctx).find(
    (z) =>
      z.zoneID.zoneName === zoneName &&
      (ownerRecordName === undefined ||
        ownerRecordName === null ||
        ownerRecordName === '_defaultOwner' ||
        ownerRecordName === z.zoneID.ownerRecordName),
  );
}

/** A foreign zone's token: opaque to photo clients, which never need it. */
export function foreignZoneToken(ctx: CloudKitContext, zone: ForeignZone): string {
  return ctx.tokens.zoneToken(
    TokenCodec.zoneScope(zone.zoneID.zoneName, zone.zoneID.ownerRecordName),
    ctx.library.core.seq,
  );
}

/**
 * S141 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: a failed `zones/list` entry, which still carries its `zoneID` (reviewer remark on
 * icloudpd PR #1367). Its name looks like a Shared Library's, so a careless client would use it.
 * The wording of `reason` is the simulator's: Apple's is not recorded.
 */
export function failedZoneEntries(ctx: CloudKitContext): Record<string, unknown>[] {
  if (!ctx.library.quirks.zoneFetchError || ctx.database !== 'private') return [];
  const self = ctx.library.core.person(ctx.person).userRecordName;
  return [
    {
      zoneID: zoneIdOf(`SharedSync-${uuidOf(ctx, 'failed-zone')}`, self),
      serverErrorCode: 'ZONE_NOT_FOUND',
      reason: 'Zone fetch failed',
    },
  ];
}

/** The index-query error of a foreign zone (S139 in docs/protocol/simulator-contract.md#zones-records-downloads-2026). */
export const INVALID_INDEX_REASON = 'Index has invalid data';

/**
 * The records `changes/zone` serves from a foreign zone read from its start: for the shared
 * collection a `cloudkit.share` and one `CPLTextComment` (S140 in docs/protocol/simulator-contract.md#zones-records-downloads-2026); nothing for the others.
 */
export function foreignZoneRecords(ctx: CloudKitContext, zone: ForeignZone): Record<string, unknown>[] {
  if (zone.kind !== 'sharedCollection') return [];
  const at = ctx.library.core.state.catalog.anchor;
  const owner = zone.zoneID.ownerRecordName;
  const stamp = { timestamp: at, userRecordName: owner, deviceID: '1' };
  const base = (recordName: string, recordType: string, fields: Record<string, unknown>) => ({
    recordName,
    recordType,
    fields,
    pluginFields: {},
    recordChangeTag: '1a',
    created: stamp,
    modified: stamp,
    deleted: false,
    zoneID: zone.zoneID,
  });
  return [
    base('cloudkit.zoneshare', 'cloudkit.share', {
      'cloudkit.title': { value: 'Trip', type: 'STRING' },
      'cloudkit.type': { value: 'photos_sharedcollections', type: 'STRING' },
    }),
    base(uuidOf(ctx, 'comment'), 'CPLTextComment', {
      commentText: { value: 'Nice', type: 'STRING' },
      commentDate: { value: at, type: 'TIMESTAMP' },
    }),
  ];
}
