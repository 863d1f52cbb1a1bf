/**
 * Where records live: a CloudKit zone in a database, and the one string that names it
 * everywhere (state keys, manifest ids, maps keyed by zone, reports).
 */

/** Which CloudKit database a zone lives in: `private` for your own zones, `shared` for a Shared Library you joined. */
export type DatabaseScope = 'private' | 'shared';

export interface ZoneRef {
  readonly database: DatabaseScope;
  /** `PrimarySync` (or a migrated `PrimarySync1`, see `isOwnLibrary`) or `SharedSync-<UUID>`. */
  readonly zoneName: string;
  /** Present for zones owned by someone else (a Shared Library you joined). */
  readonly ownerRecordName?: string;
}

/**
 * The stable identity of a zone: database, owner (`_` for your own) and name. The one spelling
 * of a zone's identity; every map, state key and report keyed by zone uses it.
 */
export function zoneId(zone: ZoneRef): string {
  return `${zone.database}/${zone.ownerRecordName ?? '_'}/${zone.zoneName}`;
}

/**
 * The person's own photo library: never retired while Apple lists it, and the only zone with album
 * indexes. `PrimarySync` in the private database, or the `PrimarySync<suffix>` (`PrimarySync1`)
 * Apple lists instead for some accounts: the rule of icloudpd PR #1367, the one live report
 * (docs/protocol/cloudkit.md#zones). The one place that says which zone is the own library.
 */
export function isOwnLibrary(zone: ZoneRef): boolean {
  return zone.database === 'private' && zone.zoneName.startsWith('PrimarySync');
}
