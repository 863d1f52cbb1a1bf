/**
 * The library's moving parts bundled for the code that reads and changes them (mutations, indexes,
 * the CloudKit record builder): state, the three zone logs, the id codec and the people.
 */
import type { SimFamily, SimPerson } from '../identity.ts';
import { type RecordKey, ZoneLog } from './history.ts';
import { CODE, type IdCodec } from './ids.ts';
import { MEMBER_PRIMARY, OWNER_PRIMARY, type Person, SHARED_ZONE, type ZoneKey } from './model.ts';
import type { LibraryState } from './state.ts';

/** A zone as CloudKit names it. */
export interface ZoneInfo {
  readonly key: ZoneKey;
  readonly zoneName: string;
  /** The zone owner's user record name. */
  readonly ownerRecordName: string;
}

export class LibraryCore {
  readonly state: LibraryState;
  readonly ids: IdCodec;
  readonly family: SimFamily;
  readonly seed: number;
  readonly logs: readonly [ZoneLog, ZoneLog, ZoneLog];
  /**
   * The name of the owner's primary zone: `PrimarySync`, or `PrimarySync1` under the
   * `migratedPrimaryZone` quirk (S141 in docs/protocol/simulator-contract.md#zones-records-downloads-2026; the library sets this to read its quirks).
   */
  ownerPrimaryZoneName: () => string = () => 'PrimarySync';
  /** Global change counter: every appended entry (or zone flag) increments it. DB tokens carry it. */
  seq = 0;
  /** Bumped on every mutation; caches (indexes, counts) compare against it. */
  version = 0;

  constructor(seed: number, state: LibraryState, ids: IdCodec, family: SimFamily) {
    this.seed = seed;
    this.state = state;
    this.ids = ids;
    this.family = family;
    this.logs = [new ZoneLog(0, state), new ZoneLog(1, state), new ZoneLog(2, state)];
  }

  zone(key: ZoneKey): ZoneInfo {
    if (key === SHARED_ZONE) {
      return { key, zoneName: this.family.sharedZoneName, ownerRecordName: this.family.owner.userRecordName };
    }
    if (key === MEMBER_PRIMARY) {
      return { key, zoneName: 'PrimarySync', ownerRecordName: this.family.member.userRecordName };
    }
    return { key, zoneName: this.ownerPrimaryZoneName(), ownerRecordName: this.family.owner.userRecordName };
  }

  person(who: Person): SimPerson {
    return who === 'member' ? this.family.member : this.family.owner;
  }

  primaryOf(who: Person): ZoneKey {
    return who === 'member' ? MEMBER_PRIMARY : OWNER_PRIMARY;
  }

  append(zone: ZoneKey, key: RecordKey, at: number): void {
    this.seq += 1;
    this.logs[zone].append(key, at, this.seq);
  }

  /** Marks a zone changed for `changes/database` without adding records (classic shared albums). */
  flagZone(zone: ZoneKey): void {
    this.seq += 1;
    this.logs[zone].lastSeq = this.seq;
  }

  assetName(slot: number): string {
    return this.ids.uuid(slot, CODE.Asset);
  }

  masterName(masterSlot: number): string {
    return this.ids.fingerprint(masterSlot, CODE.Original, 0);
  }

  /** The slot a CPLAsset record name denotes, if the library ever issued it. */
  slotOfAssetName(name: string): number | undefined {
    const decoded = this.ids.decodeUuid(name);
    if (!decoded || decoded.code !== CODE.Asset || !this.state.exists(decoded.slot)) return undefined;
    return decoded.slot;
  }

  /** The master slot a CPLMaster record name denotes. */
  slotOfMasterName(name: string): number | undefined {
    const decoded = this.ids.decodeFingerprint(name);
    if (!decoded || decoded.code !== CODE.Original || decoded.generation !== 0) return undefined;
    return this.state.exists(decoded.slot) ? decoded.slot : undefined;
  }

  /** An album by record name or (first match) by name. */
  albumIndex(ref: string): number | undefined {
    const albums = this.state.albums;
    const byRecord = albums.find((a) => a.recordName === ref);
    if (byRecord) return byRecord.index;
    return albums.find((a) => a.name === ref && !a.deleted)?.index;
  }
}
