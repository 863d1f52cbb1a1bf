import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  bigIntToBytes,
  bytesToBigInt,
  computeClientProof,
  createClientEphemeral,
  derivePasswordKey,
  SRP_K,
  type SrpProtocol,
} from '#adapters/icloud/auth/srp.ts';
import { recordedPath } from '#test/helpers/recorded.ts';

const AppleVectors = z.object({
  accountName: z.string(),
  password: z.string(),
  vectors: z.array(
    z.object({
      protocol: z.enum(['s2k', 's2k_fo']),
      clientSecret: z.string(),
      clientPublic: z.string(),
      salt: z.string(),
      iterations: z.number(),
      serverPublic: z.string(),
      m1: z.string(),
      m2: z.string(),
    }),
  ),
});

const apple = AppleVectors.parse(
  JSON.parse(readFileSync(recordedPath('srp', 'apple-accepted-vectors.json'), 'utf8')),
);
const b64 = (s: string) => Buffer.from(s, 'base64');

describe('SRP against the Apple-accepted vectors', () => {
  for (const [index, vector] of apple.vectors.entries()) {
    it(`reproduces clientPublic, m1 and m2 of vector ${index + 1} (${vector.protocol})`, () => {
      const ephemeral = createClientEphemeral(BigInt(vector.clientSecret));
      const proof = computeClientProof(ephemeral, {
        accountName: apple.accountName,
        password: apple.password,
        protocol: vector.protocol,
        salt: b64(vector.salt),
        iterations: vector.iterations,
        B: bytesToBigInt(b64(vector.serverPublic)),
      });
      expect(bigIntToBytes(ephemeral.A).toString('base64')).toBe(vector.clientPublic);
      expect(proof.M1.toString('base64')).toBe(vector.m1);
      expect(proof.M2.toString('base64')).toBe(vector.m2);
    });
  }
});

// docs/protocol/sign-in.md#srp "Test vectors (generated for this spec)".
const spec = {
  accountName: 'sim.user@example.com',
  password: 'Sim-Passw0rd!',
  salt: Buffer.from('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex'),
  iterations: 1000,
  a: BigInt('0x60975527035cf2ad1989806f0407210bc81edc04e2762a56afd529ddda2d4393'),
  A: 'S3APjUjmnJquQMaErHx8AxIeK3YC60w1FIBMytoO1AGRk6NR7MZab4VO3pHrCW5yGyLXAcetxk6c7azXXy4muy9eRd1T3I2+r//oKqSfygVzREaRISU3pzz4DiUDklggWn7fR0mzCtryWHfGL80J1mE1mLzUuvKpcnpTcGongUiZKyq7I61dUS0mnhbKEbwIlbWjtexHIc3kCow5x5bpTwvobbvrM9pwNwGJg5Iauj9QUxldWsHaTlZ+PA512eBgn5LoUGV7K+R3H0FbnKzFweztwwEzv2R09QIsZRnXgHYMpNjTuWawNL1zh3wbOzP0dLnDxSmaGWjz5s07/oREWg==',
  cases: {
    s2k: {
      passwordKey: '641e895e10b3f7106e92a5e523a8d7fc84bd19adbc6228bfd2688bd248b73f71',
      B: 'QYWaGlzdlZlTkNBek/cKeYjqFQU5ndCcnwqt4xW037OawBYmxCPeMN7VuYgWVasawaUZa2ROWner6Kqr8CC8ofAGYdvqu+PB2bxvmvtKz7rgQ6s36Ply2oC6rgT2TbM+wtwbWnhvBRdYwiNCavoGYOqvqjkEL49KgVGEvvbVMiXe+T1xR81BL1p0k4RW4wjvm1j/84hI32eVkee2ijTA2kDHLtcLO1Vw6u4khKEIwvht+imzTVrD2+ntXLPUGqdo6B0GukRlGru9k5F+JBItQXw52GGlo0F2/tImc3ss9mh9UPq04h9bzxYOwnCjZ6cHKL85rVB3MVpX5CfoUFtprQ==',
      K: 'cf7c65ea09fb1aab2feadc5a428e576f5f1be2bf833c77f8cfa9e5eaa6451012',
      m1: 'NgWUnh+pCz3ZErBENK/G2bG3cBvAjQmhn8LFIS4Frzo=',
      m2: 'aX83Sk9VunDXdcP1SAeDZBkQgj+QOIaIibB44TYj24A=',
    },
    s2k_fo: {
      passwordKey: '75cb3803735c36bf59f56e7b6ed57459b7effa3f4fb43237d13d6853591d2423',
      B: 'iFrBFQ30G/d84Lv7Jq17BUPCWoAaJyhsOaw/WoXIu6MVFjGsu+K+c/AZQ7OGAAvTkOKy33zMW5wkpDy+uyN31PusGwHmdKgAzP+4ccTGOWxTpoRGQ7VFXu7WJXJHB8bc8+ecZwUwUwM6eAhWv2ZnM+KKYHCHW+hN39yJixhJAQRRgD4Tpbyg52vcTXG3yCHkgWgc18md6bW+qOFwlazIweVZd0XUNFEBJAgicON0QPQqabjd+7uvr/M7x9FjDx/AIXIyQuBaO/QnMAtxMflFuk9K3tO1IeaztiAFkzNaCGPUR3gdSUO5EgW8BY4xF6tBMd0FHSBpeKf+FagNe72xSA==',
      K: '4fedc71c99c643811b939c38d13f7140feafab5eef60b87175db7bed96a66b21',
      m1: '6MUhk3DQNBTVkeFcujtL8jtKQN85oUzukBggG2iXGqk=',
      m2: '4cgJY57gmDJvP4gw0pI74F0w8tYthyforIQ2CqERvXY=',
    },
  } satisfies Record<SrpProtocol, Record<string, string>>,
};

describe('SRP against the docs/protocol/sign-in.md#srp vectors', () => {
  it('derives the multiplier k from N and the padded generator', () => {
    expect(bigIntToBytes(SRP_K).toString('hex').padStart(64, '0')).toBe(
      '05b9e8ef059c6b32ea59fc1d322d37f04aa30bae5aa9003b8321e21ddb04e300',
    );
  });

  it('derives the client public value A from the secret a', () => {
    expect(bigIntToBytes(createClientEphemeral(spec.a).A).toString('base64')).toBe(spec.A);
  });

  for (const protocol of ['s2k', 's2k_fo'] as const) {
    const expected = spec.cases[protocol];

    it(`derives the ${protocol} password key with PBKDF2`, () => {
      const key = derivePasswordKey(spec.password, spec.salt, spec.iterations, protocol);
      expect(key.toString('hex')).toBe(expected.passwordKey);
    });

    it(`reproduces K, m1 and m2 for ${protocol}`, () => {
      const proof = computeClientProof(createClientEphemeral(spec.a), {
        accountName: spec.accountName,
        password: spec.password,
        protocol,
        salt: spec.salt,
        iterations: spec.iterations,
        B: bytesToBigInt(b64(expected.B)),
      });
      expect(proof.K.toString('hex')).toBe(expected.K);
      expect(proof.M1.toString('base64')).toBe(expected.m1);
      expect(proof.M2.toString('base64')).toBe(expected.m2);
    });
  }
});

describe('SRP guards', () => {
  it('refuses a server value B that is zero modulo N', () => {
    expect(() =>
      computeClientProof(createClientEphemeral(spec.a), {
        accountName: spec.accountName,
        password: spec.password,
        protocol: 's2k',
        salt: spec.salt,
        iterations: spec.iterations,
        B: 0n,
      }),
    ).toThrow(/B is zero/);
  });

  it('refuses an iteration count above the safety bound', () => {
    expect(() => derivePasswordKey('x', spec.salt, 2_000_000, 's2k')).toThrow(RangeError);
  });

  it('draws a different secret for every fresh ephemeral', () => {
    expect(createClientEphemeral().a).not.toBe(createClientEphemeral().a);
  });
});
