/**
 * One download per object, however many workers reach it at once. Assets that share a master
 * (your photo in PrimarySync and in the Shared Library, an iOS Duplicate) share its objects and
 * their key: two workers can each hold the key claim (it belongs to the object, not the worker)
 * and, without this lease, both download and both store. The worker that takes the lease
 * downloads; the others wait for its object and adopt it. The lease expires, so a worker that
 * died holding it delays the object by one lease at most, and a waiter that runs out of patience
 * hands its message back (a retryable `ConflictError`) to adopt or take over on redelivery.
 */
import type { LockLease } from '#domain/model/sync-state.ts';
import { ConflictError } from '../errors.ts';
import type { ArchiveDeps } from './archive-deps.ts';

/** Long enough to outlive a renewal gap, short enough that a dead holder frees the object soon. */
export const TRANSFER_LEASE_MS = 60 * 1000;
/** The holder renews this often while its bytes flow (a large video outlasts one lease). */
const RENEW_EVERY_MS = 20 * 1000;
/** A waiter gives up after this and leaves the object to its message's redelivery. */
export const TRANSFER_WAIT_MS = 3 * 60 * 1000;
const FIRST_POLL_MS = 250;
const LONGEST_POLL_MS = 5_000;

/** The lock name of the transfer of the object at `key` (the state table item `lock#transfer#<key>`). */
export function transferLockName(key: string): string {
  return `transfer#${key}`;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type TransferTurn<T> = { readonly adopted: T } | { readonly lease: LockLease };

/**
 * Waits until this worker may store the object at `key`: it either finds the object stored by
 * someone else (`adopt` returned it) or holds the transfer lease. Throws `ConflictError`
 * (retryable) when another worker keeps the lease past `TRANSFER_WAIT_MS`.
 */
export async function awaitTransferTurn<T>(
  deps: ArchiveDeps,
  key: string,
  owner: string,
  adopt: () => Promise<T | undefined>,
): Promise<TransferTurn<T>> {
  const sleep = deps.sleep ?? realSleep;
  const name = transferLockName(key);
  const started = deps.now();
  // Time slept counts too: a clock that does not move (a test's, a stuck one) cannot keep us here.
  let slept = 0;
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, LONGEST_POLL_MS)) {
    const attempt = await deps.state.acquireLock(name, owner, TRANSFER_LEASE_MS);
    if (attempt.acquired) {
      // The previous holder may have finished between our look and our lease.
      const adopted = await adopt();
      if (adopted === undefined) return { lease: attempt.lease };
      await deps.state.releaseLock(attempt.lease);
      return { adopted };
    }
    const adopted = await adopt();
    if (adopted !== undefined) return { adopted };
    if (Math.max(deps.now() - started, slept) >= TRANSFER_WAIT_MS) {
      throw new ConflictError(`another worker is still storing ${key}; this message will adopt it on retry`);
    }
    await sleep(pause);
    slept += pause;
  }
}

/** Runs `transfer` while renewing `lease`, then releases it (also when the transfer fails). */
export async function withTransferLease<T>(
  deps: ArchiveDeps,
  lease: LockLease,
  transfer: () => Promise<T>,
): Promise<T> {
  const renew = setInterval(() => {
    deps.state.acquireLock(lease.name, lease.owner, TRANSFER_LEASE_MS).catch(() => undefined);
  }, RENEW_EVERY_MS);
  renew.unref?.();
  try {
    return await transfer();
  } finally {
    clearInterval(renew);
    // A lease we could not release expires on its own.
    await deps.state.releaseLock(lease).catch(() => false);
  }
}
