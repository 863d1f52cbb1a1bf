import { describe, expect, it } from 'vitest';
import { TokenCodec } from '#simulator/src/cloudkit/tokens.ts';

describe('simulator sync tokens', () => {
  const codec = new TokenCodec(9);
  const scope = TokenCodec.zoneScope('PrimarySync', '_owner');

  it('are 44 base64 characters starting AQAAAAAA and decode to their position', () => {
    const token = codec.zoneToken(scope, 123_456);
    expect(token).toMatch(/^AQAAAAAA[A-Za-z0-9+/]{36}$/);
    expect(codec.decode(token)).toEqual({ ok: true, kind: 'zone', scope, position: 123_456 });
  });

  it('are deterministic for zones and differ between calls for databases', () => {
    expect(codec.zoneToken(scope, 5)).toBe(codec.zoneToken(scope, 5));
    const db = TokenCodec.databaseScope('private', '_owner');
    expect(codec.databaseToken(db, 5)).not.toBe(codec.databaseToken(db, 5));
  });

  it('reject garbage as an unknown continuation type and truncation as an invalid format', () => {
    const token = codec.zoneToken(scope, 5);
    expect(codec.decode(Buffer.from('garbage token value').toString('base64'))).toEqual({
      ok: false,
      reason: 'Unknown sync continuation type',
    });
    expect(codec.decode('%%%')).toEqual({ ok: false, reason: 'Unknown sync continuation type' });
    expect(codec.decode(token.slice(0, 24))).toEqual({ ok: false, reason: 'Invalid continuation format' });
    const tampered = Buffer.from(token, 'base64');
    tampered[20]! ^= 1;
    expect(codec.decode(tampered.toString('base64'))).toEqual({
      ok: false,
      reason: 'Unknown sync continuation type',
    });
    expect(new TokenCodec(10).decode(token).ok).toBe(false);
  });
});
