/**
 * The simulated people, derived from the seed so every part of the simulator (accounts in auth/,
 * zones and contributors in library/) agrees on them without sharing state.
 */
import { createHash } from 'node:crypto';

export interface SimPerson {
  readonly appleId: string;
  readonly password: string;
  readonly dsid: string;
  /** CloudKit user record name: `_` + 32 lower-case hex. */
  readonly userRecordName: string;
  readonly firstName: string;
  readonly lastName: string;
  /** The `pNN` CloudKit partition. */
  readonly partition: number;
}

export interface SimFamily {
  /** The seeded account: two-factor on, owner of the Shared Library. */
  readonly owner: SimPerson;
  /** A second family member who contributes to the Shared Library. */
  readonly member: SimPerson;
  /** `SharedSync-<UUID upper-case>`. */
  readonly sharedZoneName: string;
}

const hex = (seed: number, label: string): string =>
  createHash('sha256').update(`icloud-s3-simulator:${seed}:${label}`).digest('hex');

const uuidFrom = (h: string): string =>
  `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();

function person(
  seed: number,
  label: string,
  appleId: string,
  firstName: string,
  lastName: string,
): SimPerson {
  const h = hex(seed, label);
  return {
    appleId,
    password: `Sim-${h.slice(0, 6)}-Passw0rd!`,
    dsid: String(10_000_000_000 + (Number.parseInt(h.slice(6, 14), 16) % 89_999_999_999)),
    userRecordName: `_${hex(seed, `${label}:user`).slice(0, 32)}`,
    firstName,
    lastName,
    partition: 10 + (Number.parseInt(h.slice(14, 16), 16) % 90),
  };
}

export function deriveFamily(seed: number): SimFamily {
  return {
    owner: person(seed, 'owner', 'sim.user@example.com', 'Sam', 'Appleseed'),
    member: person(seed, 'member', 'sim.partner@example.com', 'Alex', 'Appleseed'),
    sharedZoneName: `SharedSync-${uuidFrom(hex(seed, 'shared-zone'))}`,
  };
}
