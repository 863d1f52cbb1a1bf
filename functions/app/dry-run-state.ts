/**
 * A view of the real state store for `sync --dry-run`: reads go to the store, writes stay in
 * memory, so detection can walk exactly what a real run would without moving a token.
 */

import { assetId } from '#domain/model/manifest.ts';
import type {
  DatabaseSyncState,
  LockAttempt,
  ZoneSyncState,
  ZoneSyncStateInput,
} from '#domain/model/sync-state.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import { zoneId } from '#domain/model/zone.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';

/** Wraps `store`; the returned object never writes to it. */
export function dryRunState(store: SyncStateStore, now: () => number = Date.now): SyncStateStore {
  const zones = new Map<string, ZoneSyncState>();
  const databases = new Map<DatabaseScope, DatabaseSyncState>();
  // A dry run's enumeration stamps stay here (one name per asset seen: a dry run is a one-off
  // look, not the bounded pipeline), and the store's unseen pages are filtered through them.
  const seen = new Map<string, string>();
  const loadZonesAndRetries = async () => {
    const stored = await store.loadZonesAndRetries();
    const merged = new Map(stored.zones.map((z) => [zoneId(z.zone), z]));
    for (const [id, z] of zones) merged.set(id, z);
    return { zones: [...merged.values()], retries: stored.retries };
  };
  const overlay: Partial<SyncStateStore> = {
    async loadZone(zone: ZoneRef) {
      return zones.get(zoneId(zone)) ?? store.loadZone(zone);
    },
    async loadZones() {
      return (await loadZonesAndRetries()).zones;
    },
    loadZonesAndRetries,
    // A dry run tries failed photos as a real run would (it shows them), and counts nothing.
    async recordRetryTried() {},
    async dropRetry() {},
    async saveZone(state: ZoneSyncStateInput, expectedRevision: number) {
      const saved = { ...state, updatedAt: now(), revision: expectedRevision + 1 };
      zones.set(zoneId(state.zone), saved);
      return saved;
    },
    async loadDatabaseState(database: DatabaseScope) {
      return databases.get(database) ?? store.loadDatabaseState(database);
    },
    async saveDatabaseToken(database: DatabaseScope, syncToken: string, expectedRevision: number) {
      const saved = { database, syncToken, updatedAt: now(), revision: expectedRevision + 1 };
      databases.set(database, saved);
      return saved;
    },
    async markSeen(zone: ZoneRef, generation: string, assetRecordNames: readonly string[]) {
      for (const name of assetRecordNames) seen.set(assetId({ zone, assetRecordName: name }), generation);
    },
    async unseenAssets(zone: ZoneRef, generation: string, cursor?: string) {
      const page = await store.unseenAssets(zone, generation, cursor);
      const assets = page.assets.filter(
        (a) => seen.get(assetId({ zone, assetRecordName: a.assetRecordName })) !== generation,
      );
      return { ...page, assets };
    },
    async acquireLock(name: string, owner: string, leaseMs: number): Promise<LockAttempt> {
      return { acquired: true, lease: { name, owner, expiresAt: now() + leaseMs } };
    },
    async releaseLock() {
      return true;
    },
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (typeof property === 'string' && property in overlay)
        return overlay[property as keyof SyncStateStore];
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
