/**
 * Sync tokens (docs/protocol/sync-tokens.md#token-properties, S73-S89 in docs/protocol/simulator-contract.md#change-feeds), in the design the spec recommends:
 *
 *   base64( 0x01 ‖ 7 zero bytes ‖ kind ‖ scope hash (8) ‖ position (8) ‖ HMAC-SHA256 truncated to 8 )
 *
 * = 33 bytes, 44 characters starting `AQAAAAAA` like Apple's. A zone token's position is the next
 * log position to scan, so it is deterministic, replayable and page-size independent; a database
 * token carries the global change counter plus a random nonce, so two calls differ even when
 * nothing changed (S74 in docs/protocol/simulator-contract.md#change-feeds). Tokens are bound to their zone (or database and user) by the
 * scope hash and to this library's seed by the HMAC key, so they survive restarts but not re-seeding.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const HEADER = Buffer.from([0x01, 0, 0, 0, 0, 0, 0, 0]);
const KIND_ZONE = 0x02;
const KIND_DATABASE = 0x03;
const LENGTH = 33;

export type TokenError = 'Unknown sync continuation type' | 'Invalid continuation format';

export type DecodedToken =
  | {
      readonly ok: true;
      readonly kind: 'zone' | 'database';
      readonly scope: Buffer;
      readonly position: number;
    }
  | { readonly ok: false; readonly reason: TokenError };

export class TokenCodec {
  readonly #key: Buffer;

  constructor(seed: number) {
    this.#key = createHash('sha256').update(`icloud-s3-simulator:sync-token:${seed}`).digest();
  }

  /** The scope hash of a zone (zone name and owner). */
  static zoneScope(zoneName: string, ownerRecordName: string): Buffer {
    return createHash('sha256').update(`zone\0${zoneName}\0${ownerRecordName}`).digest().subarray(0, 8);
  }

  /** The scope hash of one user's view of a database. */
  static databaseScope(database: string, userRecordName: string): Buffer {
    return createHash('sha256').update(`db\0${database}\0${userRecordName}`).digest().subarray(0, 8);
  }

  zoneToken(scope: Buffer, position: number): string {
    const payload = Buffer.alloc(8);
    payload.writeBigUInt64BE(BigInt(position));
    return this.#encode(KIND_ZONE, scope, payload);
  }

  databaseToken(scope: Buffer, seq: number): string {
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(seq >>> 0, 0);
    randomBytes(4).copy(payload, 4);
    return this.#encode(KIND_DATABASE, scope, payload);
  }

  decode(token: string): DecodedToken {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token)) return { ok: false, reason: 'Unknown sync continuation type' };
    const bytes = Buffer.from(token, 'base64');
    const prefix = Math.min(bytes.length, HEADER.length);
    if (prefix === 0 || !bytes.subarray(0, prefix).equals(HEADER.subarray(0, prefix))) {
      return { ok: false, reason: 'Unknown sync continuation type' };
    }
    if (bytes.length !== LENGTH) return { ok: false, reason: 'Invalid continuation format' };
    const kindByte = bytes[8];
    const body = bytes.subarray(0, LENGTH - 8);
    const mac = this.#mac(body);
    if (
      !timingSafeEqual(mac, bytes.subarray(LENGTH - 8)) ||
      (kindByte !== KIND_ZONE && kindByte !== KIND_DATABASE)
    ) {
      return { ok: false, reason: 'Unknown sync continuation type' };
    }
    const payload = bytes.subarray(17, 25);
    return {
      ok: true,
      kind: kindByte === KIND_ZONE ? 'zone' : 'database',
      scope: Buffer.from(bytes.subarray(9, 17)),
      position: kindByte === KIND_ZONE ? Number(payload.readBigUInt64BE()) : payload.readUInt32BE(0),
    };
  }

  #encode(kind: number, scope: Buffer, payload: Buffer): string {
    const body = Buffer.concat([HEADER, Buffer.from([kind]), scope, payload]);
    return Buffer.concat([body, this.#mac(body)]).toString('base64');
  }

  #mac(body: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, 8);
  }
}
