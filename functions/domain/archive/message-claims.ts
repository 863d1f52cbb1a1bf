/**
 * The key claims of a work message's new objects, taken together before any of its transfers
 * starts: one all-or-nothing write (`claimFreshKeys`) for every key nobody has claimed yet, each
 * exactly the claim a fresh `claimTransfer` makes (the owner, the transfer lease, the count
 * started). A key someone claimed already (a retry, a shared master, a name twin) is left to the
 * item's own `claimTransfer`, which knows the suffixed candidate, a lease held by another worker
 * and adoption.
 *
 * Each fresh claim records its object's key in the same write (an `objectKey` item, read back by
 * the next message that reaches the object through another asset: object-keys.ts), so a batch
 * takes at most `MAX_FRESH_CLAIMS`. An asset with an object whose key is recorded already claims
 * its keys itself, that key first.
 *
 * The message claims at its start but transfers as item slots free up (item-slots.ts), so a late
 * item's lease may be old: it is renewed (a `claimTransfer` by the same holder) before its
 * transfer when it was taken more than a renewal interval ago. A claim renewed while its lease was
 * still live stays fresh: nobody else could have held the lease, so nothing can be stored there.
 */
import { randomUUID } from 'node:crypto';
import type { Asset } from '#domain/model/asset.ts';
import { foldKey } from '#domain/model/key-fold.ts';
import {
  assetId,
  type FreshKeyClaim,
  type LeasedClaim,
  MAX_FRESH_CLAIMS,
  type ManifestEntry,
  type TransferClaim,
} from '#domain/model/manifest.ts';
import { optional } from '#shared/optional-field.ts';
import type { LiveVideoName } from '../plan/live-video-name.ts';
import { candidateKeys } from '../plan/object-key.ts';
import { type PlannedVersion, planVersions } from '../plan/plan-versions.ts';
import type { ArchiveDeps } from './archive-deps.ts';
import { pauseAfterHeldBack } from './held-back-pause.ts';
import { missingVersions } from './missing-versions.ts';
import { ObjectKeys } from './object-keys.ts';
import { RENEW_EVERY_MS, TRANSFER_LEASE_MS } from './transfer-lease.ts';

/** How many edits of `planned`'s kind `entry` lists. */
const editsBefore = (planned: PlannedVersion, entry: ManifestEntry | undefined) =>
  (entry?.versions ?? []).filter((v) => v.kind === planned.kind).length;

const isEdit = (planned: PlannedVersion) => planned.role === 'edit' || planned.role === 'editLiveMotion';

/**
 * The keys `planned` may be stored under, in the order a claim tries them (candidateKeys): its
 * siblings anchor on the asset's archived original, and an edit names its generation (by default
 * the one after the edits `entry` lists). `liveVideoName` names a HEIC Live Photo's video.
 */
export function keyCandidates(
  asset: Asset,
  planned: PlannedVersion,
  entry: ManifestEntry | undefined,
  liveVideoName?: LiveVideoName,
  generation = editsBefore(planned, entry) + 1,
): readonly [plainKey: string, suffixedKey: string, ownKey: string] {
  const anchor = entry?.versions.find((v) => v.kind === 'original')?.key;
  return candidateKeys(asset, planned, {
    ...(anchor !== undefined && planned.kind !== 'original' ? { anchorKey: anchor } : {}),
    ...(isEdit(planned) ? { editGeneration: generation } : {}),
    ...(liveVideoName === undefined ? {} : { liveVideoName }),
  });
}

/**
 * The plain keys of earlier edit generations under which `entry` lists nothing: where this edit
 * may be stored already, its entry write having lost to a newer edit's (its worker died, or
 * another worker wrote first), which took a key further on. Counting that newer edit, a retry
 * would store it again under the next generation; its claim tries these first. None on the
 * common path (each earlier edit under its plain key).
 */
export function earlierEditKeys(
  asset: Asset,
  planned: PlannedVersion,
  entry: ManifestEntry | undefined,
  liveVideoName?: LiveVideoName,
) {
  const keys: string[] = [];
  for (let generation = isEdit(planned) ? editsBefore(planned, entry) : 0; generation > 0; generation--) {
    const [plain] = keyCandidates(asset, planned, entry, liveVideoName, generation);
    if (!entry?.versions.some((v) => v.key === plain)) keys.push(plain);
  }
  return keys;
}

/** A key the message tried to claim for one object: with its claim when the batch took it. */
interface TakenClaim {
  readonly request: FreshKeyClaim;
  readonly claim: LeasedClaim;
  /** When the claim was taken (the caller's clock), to know when its lease needs renewing. */
  readonly takenAt: number;
}

/** An asset of the message about to be archived, with its entry as the message read it. */
export interface AssetToClaim {
  readonly asset: Asset;
  readonly entry: ManifestEntry | undefined;
}

/** Batches of claims that were refused this many times go to their items' own claims. */
const BATCH_ROUNDS = 2;

export class MessageClaims {
  /** By `objectId` and folded key: each claim serves the first item that asks for it, once. */
  readonly #taken = new Map<string, TakenClaim>();
  /** Folded keys the batch tried: an item claims them with `claimTransfer`, not in a write of its own. */
  #tried = new Set<string>();
  /** Where the message's objects are stored, as read with its entries and claimed since. */
  readonly objectKeys: ObjectKeys;

  constructor(objectKeys: ObjectKeys = new ObjectKeys()) {
    this.objectKeys = objectKeys;
  }

  /**
   * Claims, in one write per fifty, the plain key of every version the assets will store (the
   * key their own claim would try first). An asset with a key claimed already claims all its
   * keys itself (its siblings follow the original onto whichever key it gets). A write that
   * fails (rather than being refused) fails the message, as the entries' read before it would.
   */
  static async take(
    deps: ArchiveDeps,
    assets: readonly AssetToClaim[],
    objectKeys: ObjectKeys = new ObjectKeys(),
  ): Promise<MessageClaims> {
    const claims = new MessageClaims(objectKeys);
    const wanted: { readonly asset: string; readonly request: FreshKeyClaim }[] = [];
    const keys = new Set<string>();
    const owners = new Set<string>();
    for (const { asset, entry } of assets) {
      const missing = missingVersions(planVersions(asset, deps.versionPolicy), entry);
      // Stored already through another asset: claimed by the item, at the recorded key.
      if (missing.some((planned) => objectKeys.recorded(planned.objectId) !== undefined)) continue;
      for (const planned of missing) {
        // An edit that may be stored under an earlier key already claims on its own.
        if (earlierEditKeys(asset, planned, entry, deps.liveVideoName).length > 0) continue;
        const [key] = keyCandidates(asset, planned, entry, deps.liveVideoName);
        // One claim per key and per object: a second asset naming either (a shared master, a name
        // twin) claims on its own.
        if (keys.has(foldKey(key)) || owners.has(planned.objectId)) continue;
        keys.add(foldKey(key));
        owners.add(planned.objectId);
        wanted.push({
          asset: assetId(asset),
          request: {
            key,
            owner: planned.objectId,
            holder: randomUUID(),
            leaseMs: TRANSFER_LEASE_MS,
            size: planned.version.size,
          },
        });
      }
    }
    claims.#tried = keys;
    for (let start = 0; start < wanted.length; start += MAX_FRESH_CLAIMS) {
      let round = wanted.slice(start, start + MAX_FRESH_CLAIMS);
      for (let attempt = 0; attempt < BATCH_ROUNDS && round.length > 0; attempt++) {
        const takenAt = deps.now();
        const outcome = await deps.state.claimFreshKeys(round.map((w) => w.request));
        if ('written' in outcome) {
          round.forEach(({ request }, index) => {
            const claim = outcome.written[index];
            if (claim === undefined) return;
            claims.#taken.set(claimId(request.owner, request.key), { request, claim, takenAt });
            claims.objectKeys.note(request.owner, request.key);
          });
          break;
        }
        // Nothing refused: throttling or a racing transaction cancelled it; the same batch again, after a pause.
        if (outcome.refused.length === 0) await pauseAfterHeldBack(attempt, deps);
        const refusedAssets = new Set(outcome.refused.map((index) => round[index]?.asset));
        round = round.filter((w) => !refusedAssets.has(w.asset));
      }
    }
    return claims;
  }

  /**
   * The claim this message took for `owner` at `key`, once (undefined: the item claims itself),
   * its lease renewed first when it was taken more than a renewal interval ago.
   */
  async use(deps: ArchiveDeps, owner: string, key: string): Promise<TransferClaim | undefined> {
    const id = claimId(owner, key);
    const taken = this.#taken.get(id);
    if (taken === undefined) return undefined;
    this.#taken.delete(id);
    const asked = deps.now();
    if (asked - taken.takenAt < RENEW_EVERY_MS) return taken.claim;
    const renewed = await deps.state.claimTransfer(key, owner, taken.request.holder, TRANSFER_LEASE_MS);
    // Renewed while still ours: no other holder came in between, so it is as fresh as it was.
    if ('lease' in renewed && asked < taken.claim.lease.expiresAt)
      return {
        ...renewed,
        fresh: taken.claim.fresh,
        ...optional('count', taken.claim.count),
      };
    return renewed;
  }

  /** True when the message's batch tried to claim `key`: it is claimed already, or was held back. */
  tried(key: string): boolean {
    return this.#tried.has(foldKey(key));
  }

  /** Ends the leases of claims no item used (its asset failed or changed first): nobody waits on them. */
  async releaseUnused(deps: ArchiveDeps): Promise<void> {
    const unused = [...this.#taken.values()];
    this.#taken.clear();
    await Promise.all(unused.map(({ claim }) => deps.state.releaseTransfer(claim.lease).catch(() => false)));
  }
}

function claimId(owner: string, key: string): string {
  return `${owner}\u0000${foldKey(key)}`;
}
