/**
 * A worker that lost its transfer lease stops before it stores (transfer-lease.ts): a renewal that
 * answers another holder (or another object) for the key, or renewals that have not confirmed the
 * lease for `TRANSFER_LEASE_MS - LEASE_MARGIN_MS`, abort the transfer. Another worker may then hold
 * the lease and store the same key: the loser must not complete over its object. The failure is a
 * retryable `ConflictError`: the message's redelivery adopts the winner's object or takes over.
 * Timers and the clock are vitest's fake ones, so the lease's minutes pass at once.
 */
import { PassThrough, type Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { AssetArchiveResult } from '#domain/archive/archive-asset.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import {
  LEASE_MARGIN_MS,
  RENEW_EVERY_MS,
  TRANSFER_LEASE_MS,
  withTransferLease,
} from '#domain/archive/transfer-lease.ts';
import { ConflictError, classifyError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { TransferClaim } from '#domain/model/manifest.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { PutResult, PutStreamOptions } from '#ports/object-store.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

/** What each renewal (every claim after the first) answers, in place of the table's. */
type Renewal = 'granted' | 'taken' | 'moved' | 'throttled' | 'slow';

/** The state table, whose renewals answer as the test plays them. */
class ScriptedRenewalsStateStore extends InMemorySyncStateStore {
  renewal: Renewal = 'granted';
  calls = 0;
  /** The first claim's holder: only its renewals are scripted (another worker's claims are not). */
  private first: string | undefined;
  /** A key claimed fresh comes with its object's recorded key in one write: the first claim. */
  override async claimFreshKeys(claims: Parameters<InMemorySyncStateStore['claimFreshKeys']>[0]) {
    this.calls++;
    this.first ??= claims[0]?.holder;
    return super.claimFreshKeys(claims);
  }
  override async claimTransfer(key: string, owner: string, holder: string, leaseMs: number) {
    this.calls++;
    this.first ??= holder;
    if (this.calls === 1 || holder !== this.first || this.renewal === 'granted')
      return super.claimTransfer(key, owner, holder, leaseMs);
    switch (this.renewal) {
      case 'taken':
        return { claimed: true, heldBy: 'rival', expiresAt: Date.now() + leaseMs } satisfies TransferClaim;
      case 'moved':
        return { claimed: false, owner: 'another-object' } satisfies TransferClaim;
      case 'slow': {
        // Granted, but the answer comes after the lease may have lapsed in others' eyes.
        await new Promise((resolve) => setTimeout(resolve, TRANSFER_LEASE_MS));
        return super.claimTransfer(key, owner, holder, leaseMs);
      }
      default:
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' });
    }
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** How an archive ended: its result, or what it threw. */
interface Settled {
  readonly result?: AssetArchiveResult;
  readonly error?: unknown;
}

const asset = photoAsset('fenced', 300);
const url = asset.versions[0]?.downloadUrl ?? '';

/** A worker's archive deps on the fake clock: its state table, bucket and CDN. */
function workerDeps(
  state: InMemorySyncStateStore,
  objects: InMemoryObjectStore,
  downloader: ScriptedCdn,
): ArchiveDeps {
  return {
    state,
    objects,
    downloader,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: () => Date.now(),
  };
}

/** A worker mid-download: the CDN's bytes flow only when `release` is called. */
async function workerMidTransfer(renewal: Renewal) {
  const state = new ScriptedRenewalsStateStore({ now: () => Date.now() });
  state.renewal = renewal;
  const objects = new InMemoryObjectStore({ now: () => Date.now(), partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const body = new PassThrough();
  cdn.files.set(url, () => body);
  const deps = workerDeps(state, objects, cdn);
  const settled = archiveCounted(deps, asset).then(
    (result): Settled => ({ result }),
    (error: unknown): Settled => ({ error }),
  );
  await vi.advanceTimersByTimeAsync(0);
  expect(cdn.opened).toEqual([url]);
  const release = () => body.end(jpegBytes(300));
  return { state, objects, settled, release };
}

async function expectFenced(
  settled: Promise<{ result?: unknown; error?: unknown }>,
  objects: InMemoryObjectStore,
) {
  const { error } = await settled;
  expect(error).toBeInstanceOf(ConflictError);
  expect(String((error as Error).message)).toMatch(/transfer lease/);
  expect(classifyError(error)).toBe('retryable');
  expect(objects.keys()).toEqual([]);
}

describe('a transfer whose lease is lost', () => {
  it('stops when a renewal finds the lease held by another worker, before it stores', async () => {
    const { objects, settled, release } = await workerMidTransfer('taken');
    await vi.advanceTimersByTimeAsync(RENEW_EVERY_MS);
    release();
    await expectFenced(settled, objects);
  });

  it('stops when a renewal finds the key claimed for another object', async () => {
    const { objects, settled, release } = await workerMidTransfer('moved');
    await vi.advanceTimersByTimeAsync(RENEW_EVERY_MS);
    release();
    await expectFenced(settled, objects);
  });

  it('stops when no renewal confirmed the lease for the lease less the margin, and not before', async () => {
    const { state, objects, settled, release } = await workerMidTransfer('throttled');
    await vi.advanceTimersByTimeAsync(TRANSFER_LEASE_MS - LEASE_MARGIN_MS - 1);
    expect(state.calls).toBe(3); // the claim, then two renewals that failed
    let done = false;
    void settled.then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    release();
    await expectFenced(settled, objects);
  });

  it('stops when a renewal is granted only after the lease may have lapsed', async () => {
    const { objects, settled, release } = await workerMidTransfer('slow');
    await vi.advanceTimersByTimeAsync(RENEW_EVERY_MS + TRANSFER_LEASE_MS);
    release();
    await expectFenced(settled, objects);
  });
});

describe('a transfer whose renewals go through', () => {
  it('stores a transfer that outlasts several leases, renewing every interval', async () => {
    const { state, objects, settled, release } = await workerMidTransfer('granted');
    await vi.advanceTimersByTimeAsync(3 * TRANSFER_LEASE_MS);
    release();
    const { result, error } = await settled;
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ outcome: 'archived', versionsArchived: 1 });
    expect(objects.keys()).toHaveLength(1);
    expect(state.calls).toBe(1 + (3 * TRANSFER_LEASE_MS) / RENEW_EVERY_MS);
  });

  it('makes no renewal, and no other request, for a transfer shorter than the renewal interval', async () => {
    const { state, objects, settled, release } = await workerMidTransfer('throttled');
    release();
    const { error } = await settled;
    expect(error).toBeUndefined();
    expect(state.calls).toBe(1);
    expect(objects.keys()).toHaveLength(1);
  });
});

/** The bucket, counting the puts that completed. */
class CountingObjectStore extends InMemoryObjectStore {
  stored = 0;
  override async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    const result = await super.putStream(key, body, options);
    this.stored++;
    return result;
  }
}

describe('two workers storing one master when the first cannot renew its lease', () => {
  it('the first stops before its lease lapses; the second stores the object once, and it stays current', async () => {
    const state = new ScriptedRenewalsStateStore({ now: () => Date.now() });
    state.renewal = 'throttled';
    const objects = new CountingObjectStore({ now: () => Date.now(), partSize: MIN_PART_SIZE });
    const worker = (cdn: ScriptedCdn) => workerDeps(state, objects, cdn);
    const sharedCopy: Asset = {
      ...asset,
      zone: { database: 'private', zoneName: 'SharedSync-00000000-1111-4222-8333-444444444444' },
      assetRecordName: 'fenced-in-library',
    };
    const cdnA = new ScriptedCdn();
    const cdnB = new ScriptedCdn();
    const bodyA = new PassThrough();
    cdnA.files.set(url, () => bodyA);
    cdnB.files.set(url, jpegBytes(300));

    const a = archiveCounted(worker(cdnA), asset).then(
      (result): Settled => ({ result }),
      (error: unknown): Settled => ({ error }),
    );
    await vi.advanceTimersByTimeAsync(0);
    const b = archiveCounted(worker(cdnB), sharedCopy);
    // A's renewals fail; B waits for the lease, and gets it once A has stopped or the lease lapsed.
    await vi.advanceTimersByTimeAsync(TRANSFER_LEASE_MS + 10_000);
    const resultB = await b;
    // A's bytes arrive late: the old code stored them over B's object here.
    bodyA.end(jpegBytes(300));
    const { error } = await a;

    expect(error).toBeInstanceOf(ConflictError);
    expect(classifyError(error)).toBe('retryable');
    expect(resultB).toMatchObject({ outcome: 'archived', versionsArchived: 1 });
    expect(cdnB.opened).toEqual([url]);
    expect(objects.stored).toBe(1);
    const key = resultB.entry?.versions[0]?.key ?? '';
    expect((await objects.head(key))?.etag).toBe(resultB.entry?.versions[0]?.etag);
  });
});

describe('a lease taken before its transfer starts', () => {
  it("is fenced by the lease's own expiry, not a full lease counted from the transfer's start", async () => {
    // A work message claims its new keys in one batch and hands each transfer its lease without
    // renewing it while it is younger than the renewal interval (message-claims.ts): the lease may
    // be nearly `RENEW_EVERY_MS` old when the transfer starts.
    const state = new ScriptedRenewalsStateStore({ now: () => Date.now() });
    const age = RENEW_EVERY_MS - 1;
    const claim = await state.claimTransfer('aged/key.jpg', 'object-1', 'holder-1', TRANSFER_LEASE_MS);
    if (!claim.claimed || !('lease' in claim)) throw new Error('expected a fresh claim with its lease');
    state.renewal = 'throttled';
    await vi.advanceTimersByTimeAsync(age);
    const deps = workerDeps(state, new InMemoryObjectStore({ now: () => Date.now() }), new ScriptedCdn());
    let abortedAt: number | undefined;
    const fenced = withTransferLease(
      deps,
      claim.lease,
      'object-1',
      (signal) =>
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => {
            abortedAt = Date.now();
            reject(signal.reason);
          });
        }),
    ).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(TRANSFER_LEASE_MS);
    expect(await fenced).toBeInstanceOf(ConflictError);
    // Stopped the margin before the lease lapses in another worker's eyes.
    expect(abortedAt).toBe(claim.lease.expiresAt - LEASE_MARGIN_MS);
  });
});
