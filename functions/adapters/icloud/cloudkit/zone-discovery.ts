/**
 * Which zones hold photos (docs/protocol/cloudkit.md#databases, docs/protocol/cloudkit.md#zones): the own library in the private database
 * (`PrimarySync`, or the `PrimarySync1` some accounts have instead: `isOwnLibrary`) and
 * `SharedSync-<UUID>` in whichever database lists it (private for the Shared Library's owner,
 * shared for a participant). `CMM-*`, `SharedCollection-*`, `AppLibrarySync-*`, other custom
 * zones and deleted zones are skipped, as is the bare name `SharedSync`, and so are failed entries:
 * `zones/list` may answer a zone it could not fetch with its `zoneID` plus a `serverErrorCode`
 * (docs/protocol: zones).
 */
import { type DatabaseScope, isOwnLibrary, type ZoneRef } from '#domain/model/zone.ts';
import { isErrorEntry, type WireZoneEntry } from './wire-schemas.ts';

const SHARED_LIBRARY_ZONE =
  /^SharedSync-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** True for the zone names that hold photos in `database`. */
export function isPhotoZone(database: DatabaseScope, zoneName: string): boolean {
  if (SHARED_LIBRARY_ZONE.test(zoneName)) return true;
  return isOwnLibrary({ database, zoneName });
}

/**
 * The photo zones among `entries` listed by `database`. Zones of the shared database belong to
 * someone else and keep their owner, which requests about them must carry (docs/protocol/cloudkit.md#zones).
 */
export function photoZonesOf(database: DatabaseScope, entries: readonly WireZoneEntry[]): ZoneRef[] {
  const zones: ZoneRef[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (entry.deleted === true || isErrorEntry(entry)) continue;
    const { zoneName, ownerRecordName } = entry.zoneID;
    if (!isPhotoZone(database, zoneName) || seen.has(zoneName)) continue;
    seen.add(zoneName);
    zones.push(
      database === 'shared' && ownerRecordName !== undefined
        ? { database, zoneName, ownerRecordName }
        : { database, zoneName },
    );
  }
  return zones;
}
