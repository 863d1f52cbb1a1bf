/**
 * What every CloudKit operation needs: the library, who is calling and through which database,
 * zone resolution (docs/protocol/cloudkit.md#databases, S51-S54 in docs/protocol/simulator-contract.md#zones-and-databases), tokens, and the error shapes of docs/protocol/cloudkit.md#errors.
 */
import type { SimLibrary } from '../library/index.ts';
import { MEMBER_PRIMARY, OWNER_PRIMARY, type Person, SHARED_ZONE, type ZoneKey } from '../library/model.ts';
import type { Clock, Principal, SimReply } from '../types.ts';
import { TokenCodec } from './tokens.ts';

export type Database = 'private' | 'shared';

const codecs = new WeakMap<SimLibrary, TokenCodec>();

export class CloudKitContext {
  readonly library: SimLibrary;
  readonly person: Person;
  readonly database: Database;
  readonly requestUuid: string;
  readonly clock: Clock;
  /** `getCurrentSyncToken=true` (any case) was sent. */
  readonly wantsSyncToken: boolean;
  readonly tokens: TokenCodec;

  constructor(input: {
    library: SimLibrary;
    principal: Principal;
    database: Database;
    requestUuid: string;
    clock: Clock;
    wantsSyncToken: boolean;
  }) {
    this.library = input.library;
    const family = input.library.core.family;
    const p = input.principal;
    const isMember =
      p.userRecordName === family.member.userRecordName ||
      p.dsid === family.member.dsid ||
      p.appleId === family.member.appleId;
    this.person = isMember ? 'member' : 'owner';
    this.database = input.database;
    this.requestUuid = input.requestUuid;
    this.clock = input.clock;
    this.wantsSyncToken = input.wantsSyncToken;
    let codec = codecs.get(input.library);
    if (!codec) {
      codec = new TokenCodec(input.library.core.seed);
      codecs.set(input.library, codec);
    }
    this.tokens = codec;
  }

  /** Zones this caller sees in this database: the owner has both in `private`, the member has the Shared Library in `shared`. */
  zones(): ZoneKey[] {
    if (this.person === 'owner') return this.database === 'private' ? [OWNER_PRIMARY, SHARED_ZONE] : [];
    return this.database === 'private' ? [MEMBER_PRIMARY] : [SHARED_ZONE];
  }

  /** A request `zoneID` -> zone, or undefined (ZONE_NOT_FOUND). Own zones accept no owner or `_defaultOwner`. */
  resolveZone(zoneID: unknown): ZoneKey | undefined {
    if (typeof zoneID !== 'object' || zoneID === null) return undefined;
    const { zoneName, ownerRecordName } = zoneID as { zoneName?: unknown; ownerRecordName?: unknown };
    if (typeof zoneName !== 'string') return undefined;
    for (const zone of this.zones()) {
      const info = this.library.core.zone(zone);
      if (info.zoneName !== zoneName) continue;
      if (
        ownerRecordName === undefined ||
        ownerRecordName === null ||
        ownerRecordName === info.ownerRecordName ||
        (ownerRecordName === '_defaultOwner' &&
          this.library.core.person(this.person).userRecordName === info.ownerRecordName)
      ) {
        return zone;
      }
    }
    return undefined;
  }

  zoneScope(zone: ZoneKey): Buffer {
    const info = this.library.core.zone(zone);
    return TokenCodec.zoneScope(info.zoneName, info.ownerRecordName);
  }

  databaseScope(): Buffer {
    return TokenCodec.databaseScope(this.database, this.library.core.person(this.person).userRecordName);
  }

  /** The zone's caught-up token (what `records/query` returns, S85 in docs/protocol/simulator-contract.md#change-feeds). */
  currentZoneToken(zone: ZoneKey): string {
    return this.tokens.zoneToken(this.zoneScope(zone), this.library.core.logs[zone].end);
  }

  /** A top-level CloudKit error with its nominal HTTP status (docs/protocol/cloudkit.md#errors). */
  error(status: number, serverErrorCode: string, reason: string): SimReply {
    return ckJson({ uuid: this.requestUuid, serverErrorCode, reason }, status);
  }
}

export const ckJson = (value: unknown, status = 200): SimReply => ({
  status,
  body: { kind: 'json', value, contentType: 'application/json; charset=UTF-8' },
});
