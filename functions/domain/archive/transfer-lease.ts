/**
 * One download per object, however many workers reach it at once. Assets that share a master
 * (your photo in PrimarySync and in the Shared Library, an iOS Duplicate) share its objects and
 * their key: two workers can each hold the key claim (it belongs to the object, not the worker)
 * and, without this lease, both download and both store. The worker that takes the lease
 * downloads; the others wait for its object and adopt it. The lease expires, so a worker that
 * died holding it delays the object by one lease at most, and a waiter that runs out of patience
 * hands its message back (a retryable `ConflictError`) to adopt or take over on redelivery.
 */
import type { TransferClaim } from '#domain/model/manifest.ts';
import type { LockLease } from '#domain/model/sync-state.ts';
import { ConflictError } from '../errors.ts';
import type { ArchiveDeps } from './archive-deps.ts';

/** Long enough to outlive a renewal gap, short enough that a dead holder frees the object soon. */
export const TRANSFER_LEASE_MS = 60 * 1000;
/** The holder renews this often while its bytes flow (a large video outlasts one lease). */
export const RENEW_EVERY_MS = 20 * 1000;
/** A waiter gives up after this and leaves the object to its message's redelivery. */
export const TRANSFER_WAIT_MS = 3 * 60 * 1000;
const FIRST_POLL_MS = 250;
const LONGEST_POLL_MS = 5_000;

/**
 * The lock name transfer leases had before they moved onto the key claim (the state table item
 * `lock#transfer#<key>`): an archive may still hold such items, which workers may delete.
 */
export function transferLockName(key: string): string {
  return `transfer#${key}`;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type TransferTurn<T> = { readonly adopted: T } | { readonly lease: LockLease };

/** A claim that is ours: with the lease, or with another worker's lease in the way. */
export type OurClaim = Extract<TransferClaim, { readonly claimed: true }>;

/**
 * Waits until this worker may store the object at `key`, starting from `claim` (the key claim
 * that also asked for the lease): it either finds the object stored by someone else (`adopt`
 * returned it) or holds the lease. A fresh claim needs no look: nothing can be stored at a key
 * nobody had claimed. Throws `ConflictError` (retryable) when another worker keeps the lease past
 * `TRANSFER_WAIT_MS`, or the key changed hands meanwhile.
 */
export async function awaitTransferTurn<T>(
  deps: ArchiveDeps,
  key: string,
  objectId: string,
  holder: string,
  claim: OurClaim,
  adopt: () => Promise<T | undefined>,
): Promise<TransferTurn<T>> {
  const sleep = deps.sleep ?? realSleep;
  const started = deps.now();
  // Time slept counts too: a clock that does not move (a test's, a stuck one) cannot keep us here.
  let slept = 0;
  let current: TransferClaim = claim;
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, LONGEST_POLL_MS)) {
    if (!current.claimed) throw new ConflictError(`the key ${key} went to another object meanwhile`);
    if ('lease' in current) {
      if (current.fresh) return { lease: current.lease };
      // A retry, a crashed attempt or a worker that just finished may have stored it already.
      // An adopted object keeps the lease until it expires: whoever comes next adopts it too.
      const adopted = await adopt();
      return adopted === undefined ? { lease: current.lease } : { adopted };
    }
    const adopted = await adopt();
    if (adopted !== undefined) return { adopted };
    if (Math.max(deps.now() - started, slept) >= TRANSFER_WAIT_MS) {
      throw new ConflictError(`another worker is still storing ${key}; this message will adopt it on retry`);
    }
    await sleep(pause);
    slept += pause;
    current = await deps.state.claimTransfer(key, objectId, holder, TRANSFER_LEASE_MS);
  }
}

/**
 * How long before the lease runs out, as this worker last confirmed it, its transfer stops when no
 * renewal has confirmed it since: another worker may take the lease once it lapses and store the
 * same key. The margin covers the abort reaching a request already under way (a last part, the
 * CompleteMultipartUpload: a second or two) and the clocks of two workers disagreeing (the lease's
 * expiry is compared with the taker's clock). With renewals every `RENEW_EVERY_MS`, two of them
 * may fail before the transfer stops.
 */
export const LEASE_MARGIN_MS = 10 * 1000;

/**
 * Runs `transfer` while renewing `lease`, fenced: `transfer` gets a signal that fires when the
 * lease is lost, and must stop (store nothing) when it does. It is lost when a renewal answers
 * that another worker holds it or the key went to another object, or when it is within
 * `LEASE_MARGIN_MS` of its expiry (the lease's own, which may be older than the transfer) and no
 * renewal has confirmed it since (renewals failing, a long pause): past that, another worker may be storing the same key, over which ours must not complete. A renewal
 * confirms the lease from the moment it was sent, and only if it answers before the lease may
 * have lapsed. Measured with `deps.now`; renewals cost a write each only for transfers longer than
 * `RENEW_EVERY_MS` (nothing is checked with a request on the way to the commit).
 *
 * A lost lease fails with a retryable `ConflictError`: the redelivery adopts the other worker's
 * object or takes over. A failed transfer releases the lease at once (if it is still ours), so
 * the retry or another worker can store the object; a stored object keeps it until it expires (a
 * write saved per object: whoever comes meanwhile finds the object and adopts it).
 */
export async function withTransferLease<T>(
  deps: ArchiveDeps,
  lease: LockLease,
  objectId: string,
  transfer: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const fence = new AbortController();
  let lost: string | undefined;
  let ended = false;
  const lose = (why: string) => {
    if (lost !== undefined) return;
    lost = why;
    clearTimeout(watchdog);
    fence.abort(new ConflictError(`lost the transfer lease on ${lease.name}: ${why}`));
  };
  // The lease's own expiry: a message's batch claim hands over leases up to `RENEW_EVERY_MS` old
  // (message-claims.ts), so a full lease counted from now would outlive it.
  const lapsesAt = (expiresAt: number, from: number) => Math.min(expiresAt, from + TRANSFER_LEASE_MS);
  let deadline = lapsesAt(lease.expiresAt, deps.now()) - LEASE_MARGIN_MS;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const watch = () => {
    clearTimeout(watchdog);
    const left = deadline - deps.now();
    if (left <= 0) return lose(`no renewal confirmed it ${LEASE_MARGIN_MS / 1000} s before it lapses`);
    // Looked at again at least every renewal interval: the clock, not the timer, decides.
    watchdog = setTimeout(watch, Math.min(left, RENEW_EVERY_MS));
    watchdog.unref?.();
  };
  watch();
  const renew = setInterval(() => {
    const sent = deps.now();
    deps.state.claimTransfer(lease.name, objectId, lease.owner, TRANSFER_LEASE_MS).then(
      (claim) => {
        // A renewal that answers after the transfer ended (or the lease was lost) changes nothing.
        if (ended || lost !== undefined) return;
        if (!claim.claimed) return lose('the key went to another object');
        if (!('lease' in claim)) return lose(`worker ${claim.heldBy} holds it`);
        if (deps.now() >= deadline) return lose('a renewal answered only after it may have lapsed');
        deadline = lapsesAt(claim.lease.expiresAt, sent) - LEASE_MARGIN_MS;
        watch();
      },
      // A renewal that failed confirms nothing: the watchdog decides.
      () => undefined,
    );
  }, RENEW_EVERY_MS);
  renew.unref?.();
  const signal = deps.signal === undefined ? fence.signal : AbortSignal.any([deps.signal, fence.signal]);
  try {
    return await transfer(signal);
  } catch (error) {
    // A lease we could not release expires on its own; one another worker holds is not released.
    await deps.state.releaseTransfer(lease).catch(() => false);
    if (lost === undefined) throw error;
    throw new ConflictError(
      `lost the transfer lease on ${lease.name} (${lost}); stopped before storing over another worker's object: the retry adopts it or stores it`,
      { cause: error },
    );
  } finally {
    ended = true;
    clearInterval(renew);
    clearTimeout(watchdog);
  }
}
