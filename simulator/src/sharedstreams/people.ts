/**
 * Who takes part in the simulated shared albums: the two simulator accounts (owner and member of
 * identity.ts) and people without a simulator account (friends who own or contribute to albums).
 * Everything is derived from the seed.
 */
import { createHash } from 'node:crypto';
import type { SimFamily, SimPerson } from '../identity.ts';

export interface SharedPerson {
  readonly dsid: string;
  readonly firstName: string;
  readonly lastName: string;
  /** The `pNN` of this person's sharedstreams host (their albums live there). */
  readonly partition: number;
  /** Set for the two simulator accounts, which can call the service. */
  readonly appleId?: string;
}

export const fullName = (p: SharedPerson): string => `${p.firstName} ${p.lastName}`;

const fromAccount = (p: SimPerson): SharedPerson => ({
  dsid: p.dsid,
  firstName: p.firstName,
  lastName: p.lastName,
  partition: p.partition,
  appleId: p.appleId,
});

/** A person without a simulator account, on a partition other than `avoid`. */
function friend(
  seed: number,
  label: string,
  firstName: string,
  lastName: string,
  avoid: number[],
): SharedPerson {
  const h = createHash('sha256').update(`icloud-s3-simulator:${seed}:shared:${label}`).digest('hex');
  let partition = 10 + (Number.parseInt(h.slice(0, 4), 16) % 190);
  while (avoid.includes(partition)) partition = 10 + ((partition - 10 + 7) % 190);
  return {
    dsid: String(20_000_000_000 + (Number.parseInt(h.slice(4, 12), 16) % 9_999_999_999)),
    firstName,
    lastName,
    partition,
  };
}

export interface SharedPeople {
  readonly owner: SharedPerson;
  readonly member: SharedPerson;
  readonly grandma: SharedPerson;
  readonly friend: SharedPerson;
  all(): SharedPerson[];
  byDsid(dsid: string): SharedPerson | undefined;
}

export function sharedPeople(seed: number, family: SimFamily): SharedPeople {
  const owner = fromAccount(family.owner);
  const member = fromAccount(family.member);
  const taken = [owner.partition, member.partition];
  const grandma = friend(seed, 'grandma', 'Rosa', 'Appleseed', taken);
  const other = friend(seed, 'friend', 'Kim', 'Lee', [...taken, grandma.partition]);
  const all = [owner, member, grandma, other];
  return {
    owner,
    member,
    grandma,
    friend: other,
    all: () => all,
    byDsid: (dsid) => all.find((p) => p.dsid === dsid),
  };
}
