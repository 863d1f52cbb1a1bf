/**
 * Which manifest entries use a master's objects. One master can back several assets (an iOS
 * Duplicate, your photo in PrimarySync and in the Shared Library, spec §6.6), and they share
 * its archived objects, so `mirror` may delete an object only when the last entry using it is
 * purged.
 *
 * The state store has no index by master, so each referencing asset holds one of a few
 * numbered reference slots per master, as a key claim (`claimKey` is a compare-and-set with an
 * idempotent owner, which is all a slot needs). Slot keys start with a NUL, which no object key
 * can contain (`sanitizeSegment` replaces control characters), so they never meet a photo's key.
 */

import type { AssetRef, SyncStateStore } from '../../ports/sync-state-store.ts';
import type { ZoneRef } from '../model.ts';

/** More references than this to one master are not tracked; the master then counts as shared forever. */
export const MAX_MASTER_REFERENCES = 16;

/** Hex keeps the master's case through the store's case-folding of claim keys. */
function slotKey(masterRecordName: string, slot: number): string {
  return `\u0000master-ref/${Buffer.from(masterRecordName, 'utf8').toString('hex')}/${slot}`;
}

function ownerOf(ref: AssetRef): string {
  const zone: ZoneRef = ref.zone;
  return JSON.stringify([zone.database, zone.zoneName, zone.ownerRecordName ?? null, ref.assetRecordName]);
}

function refOf(owner: string): AssetRef | undefined {
  try {
    const [database, zoneName, ownerRecordName, assetRecordName] = JSON.parse(owner) as unknown[];
    if (
      (database !== 'private' && database !== 'shared') ||
      typeof zoneName !== 'string' ||
      typeof assetRecordName !== 'string'
    )
      return undefined;
    return {
      zone: { database, zoneName, ...(typeof ownerRecordName === 'string' ? { ownerRecordName } : {}) },
      assetRecordName,
    };
  } catch {
    return undefined;
  }
}

/**
 * Records that `ref` uses the objects of `masterRecordName`. Idempotent (the asset finds its own
 * slot again). Call it BEFORE the manifest write that lists the objects: a crash in between
 * leaves a reference without an entry, which only keeps objects longer.
 */
export async function addMasterReference(
  state: SyncStateStore,
  masterRecordName: string,
  ref: AssetRef,
): Promise<void> {
  const owner = ownerOf(ref);
  for (let slot = 0; slot < MAX_MASTER_REFERENCES; slot++) {
    const claim = await state.claimKey(slotKey(masterRecordName, slot), owner);
    if (claim.claimed) return;
  }
}

/** Drops `ref`'s reference to `masterRecordName` (after its entry was marked purged). */
export async function removeMasterReference(
  state: SyncStateStore,
  masterRecordName: string,
  ref: AssetRef,
): Promise<void> {
  const owner = ownerOf(ref);
  for (let slot = 0; slot < MAX_MASTER_REFERENCES; slot++) {
    if (await state.releaseKey(slotKey(masterRecordName, slot), owner)) return;
  }
}

/**
 * The other assets that reference `masterRecordName`, or `'untracked'` when every slot is taken
 * (then some references may be missing, and the caller must treat the objects as shared).
 */
export async function otherMasterReferences(
  state: SyncStateStore,
  masterRecordName: string,
  self: AssetRef,
): Promise<AssetRef[] | 'untracked'> {
  const mine = ownerOf(self);
  const others: AssetRef[] = [];
  let taken = 0;
  for (let slot = 0; slot < MAX_MASTER_REFERENCES; slot++) {
    const owner = await state.keyOwner(slotKey(masterRecordName, slot));
    if (owner === undefined) continue;
    taken++;
    const ref = owner === mine ? undefined : refOf(owner);
    if (ref !== undefined) others.push(ref);
  }
  return taken === MAX_MASTER_REFERENCES ? 'untracked' : others;
}
