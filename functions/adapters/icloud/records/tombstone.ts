/**
 * What a tombstone (`recordType: null, deleted: true`) most likely was, from its name alone
 * (docs/protocol/records.md#tombstones): `<asset>-IN-<album>` is a relation, a UUID an asset (or an album: album names are
 * UUIDs too, so callers check their manifest), 28 base64 characters a master.
 */
import type { TombstoneType } from '#domain/model/asset.ts';
import { parseMembershipName } from './album.ts';

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const MASTER_NAME = /^[A-Za-z0-9+/]{28}$/;

export function inferTombstoneType(recordName: string): TombstoneType {
  if (parseMembershipName(recordName) !== undefined) return 'CPLContainerRelation';
  if (UUID.test(recordName)) return 'CPLAsset';
  if (MASTER_NAME.test(recordName)) return 'CPLMaster';
  return 'unknown';
}
