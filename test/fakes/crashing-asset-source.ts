/**
 * An `AssetSource` (CloudKit) whose caller dies at a scheduled request: before it was sent, or
 * after Apple answered and before the answer was used. Reads change nothing at Apple, so both
 * only cut the invocation short at that point.
 */
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import type {
  AlbumMembersCursor,
  AssetLookupKey,
  AssetSource,
  EnumerationCursor,
  EnumerationScope,
  ZoneChangesCursor,
} from '#ports/asset-source.ts';
import type { CrashSchedule } from './crashing-invocation.ts';

export class CrashingAssetSource implements AssetSource {
  readonly #inner: AssetSource;
  readonly #schedule: CrashSchedule;

  constructor(inner: AssetSource, schedule: CrashSchedule) {
    this.#inner = inner;
    this.#schedule = schedule;
  }

  discoverZones() {
    return this.#schedule.around('source.discoverZones', () => this.#inner.discoverZones());
  }
  changedZones(database: DatabaseScope, syncToken?: string) {
    return this.#schedule.around('source.changedZones', () => this.#inner.changedZones(database, syncToken));
  }
  zoneChangesPage(zone: ZoneRef, cursor?: ZoneChangesCursor) {
    return this.#schedule.around('source.zoneChangesPage', () => this.#inner.zoneChangesPage(zone, cursor));
  }
  enumeratePage(zone: ZoneRef, cursor?: EnumerationCursor, scope?: EnumerationScope) {
    return this.#schedule.around('source.enumeratePage', () =>
      this.#inner.enumeratePage(zone, cursor, scope),
    );
  }
  lookupAssets(zone: ZoneRef, keys: readonly AssetLookupKey[]) {
    return this.#schedule.around('source.lookupAssets', () => this.#inner.lookupAssets(zone, keys));
  }
  countAssets(zone: ZoneRef) {
    return this.#schedule.around('source.countAssets', () => this.#inner.countAssets(zone));
  }
  listAlbums(zone: ZoneRef, parentRecordName?: string, continuationMarker?: string) {
    return this.#schedule.around('source.listAlbums', () =>
      this.#inner.listAlbums(zone, parentRecordName, continuationMarker),
    );
  }
  albumMembersPage(zone: ZoneRef, albumRecordName: string, cursor?: AlbumMembersCursor) {
    return this.#schedule.around('source.albumMembersPage', () =>
      this.#inner.albumMembersPage(zone, albumRecordName, cursor),
    );
  }
}
