import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODE, IdCodec } from '#simulator/src/library/ids.ts';

describe('simulator library identifiers', () => {
  const ids = new IdCodec(42);

  it('decodes every fingerprint back to its slot, resource code and generation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 - 1 }),
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 0, max: 0x3ffff }),
        (slot, code, gen) => {
          const name = ids.fingerprint(slot, code, gen);
          expect(name).toMatch(/^A[A-Za-z0-9+/]{27}$/);
          expect(ids.decodeFingerprint(name)).toEqual({ slot, code, generation: gen });
        },
      ),
    );
  });

  it('decodes every asset UUID back to its slot and rejects names it never issued', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 - 1 }), (slot) => {
        const name = ids.uuid(slot, CODE.Asset);
        expect(name).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
        expect(ids.decodeUuid(name)).toEqual({ slot, code: CODE.Asset, generation: 0 });
      }),
    );
    expect(ids.decodeUuid('F2A23C38-0020-42FE-A273-2923ADE3CAED')).toBeUndefined();
    expect(ids.decodeFingerprint('AY6c+BsE0jjaXx9tmVGJM1D2VcEO')).toBeUndefined();
    expect(new IdCodec(43).decodeFingerprint(ids.fingerprint(7, CODE.Original))).toBeUndefined();
  });

  it('gives neighbouring slots unrelated names that use + and / like Apple’s', () => {
    const names = Array.from({ length: 200 }, (_, i) => ids.fingerprint(i, CODE.Original));
    expect(new Set(names.map((n) => n.slice(0, 6))).size).toBeGreaterThan(150);
    expect(names.some((n) => n.includes('+')) && names.some((n) => n.includes('/'))).toBe(true);
  });
});
