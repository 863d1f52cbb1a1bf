import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bytesOf,
  expectedProofs,
  intOf,
  k,
  passwordKey,
  serverPublic,
  verifierFor,
} from '#simulator/src/auth/srp.ts';
import { recordedPath } from '#test/helpers/recorded.ts';
import { TestSrpClient } from '#test/helpers/srp-client.ts';

// docs/protocol/sign-in.md#srp test vectors (server secret b given, so the server side is fully determined).
const accountName = 'sim.user@example.com';
const password = 'Sim-Passw0rd!';
const salt = Buffer.from('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex');
const a = BigInt('0x60975527035cf2ad1989806f0407210bc81edc04e2762a56afd529ddda2d4393');
const b = BigInt('0xe487cb59d31ac550471e81f00f6928e01dda08e974a004f49e61f5d105284d20');
const A_B64 =
  'S3APjUjmnJquQMaErHx8AxIeK3YC60w1FIBMytoO1AGRk6NR7MZab4VO3pHrCW5yGyLXAcetxk6c7azXXy4muy9eRd1T3I2+r//oKqSfygVzREaRISU3pzz4DiUDklggWn7fR0mzCtryWHfGL80J1mE1mLzUuvKpcnpTcGongUiZKyq7I61dUS0mnhbKEbwIlbWjtexHIc3kCow5x5bpTwvobbvrM9pwNwGJg5Iauj9QUxldWsHaTlZ+PA512eBgn5LoUGV7K+R3H0FbnKzFweztwwEzv2R09QIsZRnXgHYMpNjTuWawNL1zh3wbOzP0dLnDxSmaGWjz5s07/oREWg==';

const VECTORS = {
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
} as const;

describe('simulator SRP server (docs/protocol/sign-in.md#srp vectors)', () => {
  it('derives k from N and padded g', () => {
    expect(k.toString(16).padStart(64, '0')).toBe(
      '05b9e8ef059c6b32ea59fc1d322d37f04aa30bae5aa9003b8321e21ddb04e300',
    );
  });

  for (const protocol of ['s2k', 's2k_fo'] as const) {
    const v = VECTORS[protocol];

    it(`derives the ${protocol} password key`, () => {
      expect(passwordKey(password, salt, 1000, protocol).toString('hex')).toBe(v.passwordKey);
    });

    it(`computes B = k·v + g^b for ${protocol} from the vector's b`, () => {
      const B = serverPublic(b, verifierFor(password, salt, 1000, protocol));
      expect(bytesOf(B).toString('base64')).toBe(v.B);
    });

    it(`expects exactly the vector's K, m1 and m2 for ${protocol}`, () => {
      const verifier = verifierFor(password, salt, 1000, protocol);
      const proofs = expectedProofs({
        accountName,
        salt,
        A: intOf(Buffer.from(A_B64, 'base64')),
        b,
        B: serverPublic(b, verifier),
        v: verifier,
      });
      expect(proofs?.K.toString('hex')).toBe(v.K);
      expect(proofs?.m1.toString('base64')).toBe(v.m1);
      expect(proofs?.m2.toString('base64')).toBe(v.m2);
    });
  }

  it('rejects an A that is a multiple of N', () => {
    const verifier = verifierFor(password, salt, 1000, 's2k');
    expect(
      expectedProofs({ accountName, salt, A: 0n, b, B: serverPublic(b, verifier), v: verifier }),
    ).toBeUndefined();
  });
});

describe('test SRP client (independent of the simulator)', () => {
  it('reproduces the spec vector A and proofs', () => {
    const client = new TestSrpClient(accountName, password, a);
    expect(client.publicValue).toBe(A_B64);
    expect(
      client.proofs({ salt: salt.toString('base64'), b: VECTORS.s2k.B, iteration: 1000, protocol: 's2k' }),
    ).toEqual({
      m1: VECTORS.s2k.m1,
      m2: VECTORS.s2k.m2,
    });
  });

  it('reproduces the proofs Apple accepted (icloud-photos-sync vectors)', () => {
    const file = JSON.parse(readFileSync(recordedPath('srp', 'apple-accepted-vectors.json'), 'utf8')) as {
      accountName: string;
      password: string;
      vectors: {
        protocol: string;
        acceptedByApple: boolean;
        clientSecret: string;
        clientPublic: string;
        salt: string;
        iterations: string | number;
        serverPublic: string;
        m1: string;
        m2: string;
      }[];
    };
    const accepted = file.vectors.filter((x) => x.acceptedByApple);
    expect(accepted.length).toBeGreaterThan(0);
    for (const x of accepted) {
      const client = new TestSrpClient(file.accountName, file.password, BigInt(x.clientSecret));
      expect(client.publicValue).toBe(x.clientPublic);
      expect(
        client.proofs({
          salt: x.salt,
          b: x.serverPublic,
          iteration: Number(x.iterations),
          protocol: x.protocol,
        }),
      ).toEqual({ m1: x.m1, m2: x.m2 });
    }
  });
});
