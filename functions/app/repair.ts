/**
 * Repair (`icloud-s3 verify --repair`): fixes what `verify` found through the normal work path.
 * A broken object (missing, cut short, other bytes) is removed and dropped from the manifest
 * entries that list it, then its asset, looked up afresh (`records/lookup`, fresh download URLs),
 * is put on the work queue like any detected change: the workers archive it again with the same
 * integrity checks, key claims, metadata and idempotence as a sync. Stray objects (no manifest
 * entry references them) are removed only under the `mirror` delete policy. Neither the broken
 * objects nor the strays are removed when they are more than the deletion limit (`planRepair`).
 * An object that states no MD5 (a video over 5 GiB the workers archived before they gave such
 * videos their late metadata) gets the manifest's `icloud-sha256` and `md5chksum` by a rewrite in
 * place (`ObjectStore.addMetadata`, by this process: with `--aws` the CLI's own S3 client), only
 * while its ETag is still the one verify read: nothing downloaded, nothing deleted.
 * A broken Shared Album object is handed to its album's next pass (`./repair-shared-albums.ts`),
 * under the same deletion limit.
 *
 * Before all that, each archived object without its recorded key (`objectKey#`, archived by a
 * release from before those items) gets it (`./record-object-keys.ts`).
 *
 * Order, for crash safety: the object goes before the manifest stops listing it (a crash in
 * between leaves a missing object, which the next repair finds again; the reverse would leave a
 * corrupt object the archive would adopt as is), and both before the work is enqueued.
 */

import { randomUUID } from 'node:crypto';
import { checkArchiveOwner } from '#domain/account/archive-owner.ts';
import { SHA256_METADATA_KEY } from '#domain/archive/verified-copy.ts';
import { packWorkItems } from '#domain/detect/work-batches.ts';
import { ConflictError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { zoneId } from '#domain/model/zone.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import type { SharedAlbumsCheck } from '#domain/shared-albums/verify-shared-albums.ts';
import { isSharedAlbumKey } from '#domain/shared-albums/verify-shared-albums.ts';
import { readManifest } from '#domain/verify/gather-inputs.ts';
import {
  type LeftAlone,
  type MetadataToAdd,
  planRepair,
  type RepairReason,
  type RepairTarget,
} from '#domain/verify/repair-plan.ts';
import type { VerifyReport } from '#domain/verify/verify-report.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import { recordObjectKeys } from './record-object-keys.ts';
import { repairSharedObjects, type SharedReplaced, sharedWorkMessage } from './repair-shared-albums.ts';

export interface RepairDeps {
  readonly state: SyncStateStore;
  readonly objects: ObjectStore;
  /** Where the re-archive work goes (the local queue, or the deployed stack's). */
  readonly queue: WorkQueue;
  readonly icloud: () => Promise<IcloudConnection>;
  readonly versionPolicy: VersionPolicy;
  readonly deletePolicy: DeletePolicy;
  readonly now?: () => number;
  /** Shared Albums' state: their broken objects are stored again by their albums' next pass. */
  readonly sharedAlbumState?: SharedAlbumStateStore;
}

/** One asset put back on the work queue, and the objects it replaces. */
export interface RequeuedAsset {
  readonly zone: string;
  readonly assetRecordName: string;
  readonly objects: readonly { readonly key: string; readonly reason: RepairReason }[];
  /** iCloud has versions of it the manifest did not hold. */
  readonly notArchived: boolean;
}

export interface RepairOutcome {
  readonly requeued: readonly RequeuedAsset[];
  /**
   * Objects that stated no MD5 and now carry the manifest's `icloud-sha256` and `md5chksum` (a
   * rewrite in place; `etag` is the new version's). Their earlier version stays, noncurrent.
   */
  readonly metadataAdded: readonly { readonly key: string; readonly etag: string }[];
  /** Objects that state no MD5 and were not given one, with why (not counted as findings). */
  readonly metadataNotAdded: readonly LeftAlone[];
  /** Broken objects removed before their asset was requeued. */
  readonly objectsReplaced: number;
  /** Stray objects removed (`mirror`). */
  readonly removed: readonly string[];
  /** Stray objects left in place, with why (`keep`, or over the deletion limit). */
  readonly kept: readonly LeftAlone[];
  /** Findings repair could not act on, with why. */
  readonly unrepairable: readonly LeftAlone[];
  readonly itemsEnqueued: number;
  readonly messagesSent: number;
  readonly runId: string;
  /**
   * Set when the truncated and corrupt objects were more than one run may delete: none of them was
   * deleted or re-archived (each is in `unrepairable`).
   */
  readonly refused?: { readonly objects: number; readonly limit: number };
  /**
   * Shared Album objects deleted (or found missing) and handed to their album's next pass, which
   * stores them again (`./repair-shared-albums.ts`).
   */
  readonly sharedReplaced: readonly SharedReplaced[];
  /**
   * Objects whose key was recorded (`objectKey#<objectId>`): archived by a release from before
   * these items (`./record-object-keys.ts`); 0 once they all have one.
   */
  readonly objectKeysRecorded: number;
}

/** Assets per `records/lookup` (each may bring its master too): a modest request, like the workers' own. */
const ASSETS_PER_LOOKUP = 50;

const versionId = (kind: string, fileChecksum: string) => `${kind}|${fileChecksum}`;

function toInput(entry: ManifestEntry) {
  const { updatedAt: _updatedAt, revision: _revision, ...input } = entry;
  return input;
}

/** Drops `keys` from the entry's versions (a compare-and-set, retried once on a lost race). */
async function dropVersions(
  state: SyncStateStore,
  target: RepairTarget,
  keys: ReadonlySet<string>,
): Promise<void> {
  const ref = { zone: target.zone, assetRecordName: target.assetRecordName };
  for (let attempt = 0; ; attempt++) {
    const entry = await state.getEntry(ref);
    if (entry === undefined || !entry.versions.some((v) => keys.has(v.key))) return;
    try {
      // `pending` until the workers archive it again: `status` counts it, and verify's iCloud
      // side reports it `notArchived (pending)` should the work be lost.
      const status = entry.status === 'archived' ? 'pending' : entry.status;
      await state.putEntry(
        { ...toInput(entry), status, versions: entry.versions.filter((v) => !keys.has(v.key)) },
        entry.revision,
      );
      return;
    } catch (error) {
      if (error instanceof ConflictError && attempt === 0) continue;
      throw error;
    }
  }
}

/** Fresh copies of the targets' assets, one `records/lookup` per zone. */
async function lookUp(
  icloud: IcloudConnection,
  targets: readonly RepairTarget[],
): Promise<{ assets: Map<string, Asset>; gone: Map<string, string> }> {
  const byZone = new Map<string, RepairTarget[]>();
  for (const target of targets) {
    const id = zoneId(target.zone);
    const group = byZone.get(id) ?? [];
    group.push(target);
    byZone.set(id, group);
  }
  const assets = new Map<string, Asset>();
  const gone = new Map<string, string>();
  for (const [id, all] of byZone) {
    const zone = all[0]?.zone;
    if (zone === undefined) continue;
    for (let i = 0; i < all.length; i += ASSETS_PER_LOOKUP) {
      const group = all.slice(i, i + ASSETS_PER_LOOKUP);
      const found = await icloud.source.lookupAssets(
        zone,
        group.map((t) => ({
          assetRecordName: t.assetRecordName,
          ...(t.masterRecordName === undefined ? {} : { masterRecordName: t.masterRecordName }),
        })),
      );
      for (const asset of found.assets) assets.set(`${id}|${asset.assetRecordName}`, asset);
      // A purged photo comes back as a NOT_FOUND error entry or a tombstone (`notFound`), as
      // CloudKit answers it. `missing` was answered, in a shape icloud-s3 cannot read: not gone.
      const purged = new Set(found.notFound ?? []);
      for (const name of purged) gone.set(`${id}|${name}`, 'iCloud no longer has this asset');
      for (const name of found.missing)
        if (!purged.has(name))
          gone.set(
            `${id}|${name}`,
            'iCloud answered, but its record could not be read (a shape icloud-s3 does not know); left in place',
          );
      for (const u of found.unavailable)
        if (!purged.has(u.assetRecordName))
          gone.set(
            `${id}|${u.assetRecordName}`,
            `iCloud could not return it now (${u.reason}); try again later`,
          );
    }
  }
  return { assets, gone };
}

/** Gives each planned object its hashes, one rewrite at a time (each a server-side copy of the object). */
async function addMetadata(
  objects: ObjectStore,
  planned: readonly MetadataToAdd[],
): Promise<{ added: { key: string; etag: string }[]; notAdded: LeftAlone[] }> {
  const added: { key: string; etag: string }[] = [];
  const notAdded: LeftAlone[] = [];
  for (const object of planned) {
    const result = await objects.addMetadata(object.key, {
      ifEtag: object.etag,
      md5: object.md5,
      metadata: { [SHA256_METADATA_KEY]: object.sha256 },
    });
    if (result.added) added.push({ key: object.key, etag: result.etag });
    else
      notAdded.push({
        subject: object.key,
        reason:
          result.why === 'changed'
            ? 'states no MD5, but changed since verify read it: left alone (run verify --repair again)'
            : 'states no MD5, but was gone when repair came to it',
      });
  }
  return { added, notAdded };
}

/** Carries out `verify --repair` for `report` (a report of the archive `deps` opens). */
export async function runRepair(
  deps: RepairDeps,
  report: VerifyReport,
  shared?: SharedAlbumsCheck,
): Promise<RepairOutcome> {
  const now = deps.now ?? Date.now;
  const runId = `repair-${now()}-${randomUUID().slice(0, 8)}`;
  const manifest = await readManifest(deps.state);
  // First: it needs nothing from iCloud, and a later step that fails leaves it done.
  const objectKeysRecorded = await recordObjectKeys(deps.state, manifest);
  const plan = planRepair({
    report,
    manifest,
    zones: await deps.state.loadZones(),
    deletePolicy: deps.deletePolicy,
    sharedBroken: sharedBroken(shared),
  });
  const unrepairable: LeftAlone[] = [...plan.leftAlone, ...libraryOwned(shared)];
  const requeued: RequeuedAsset[] = [];
  const items: Asset[] = [];
  let objectsReplaced = 0;

  if (plan.targets.length > 0) {
    const icloud = await deps.icloud();
    // Another Apple ID's session would find the archive's photos gone: refused before any lookup
    // (only compared: a sync records the archive's account).
    const { state } = deps;
    await checkArchiveOwner(
      { loadArchiveOwner: () => state.loadArchiveOwner() },
      { account: icloud.session.account, now: Date.now() },
    );
    const { assets, gone } = await lookUp(icloud, plan.targets);
    const sizes = new Map(manifest.flatMap((e) => e.versions.map((v) => [v.key, v] as const)));
    const removed = new Set<string>();
    for (const target of plan.targets) {
      const id = `${zoneId(target.zone)}|${target.assetRecordName}`;
      const asset = assets.get(id);
      if (asset === undefined) {
        const reason = gone.get(id) ?? 'iCloud did not return this asset';
        for (const key of target.brokenKeys.keys()) unrepairable.push({ subject: key, reason });
        if (target.notArchived) unrepairable.push({ subject: target.assetRecordName, reason });
        continue;
      }
      // Only a version iCloud still serves can be archived again; an older edit kept under
      // `keep`, say, stays as it is (and is reported).
      const served = new Set(
        planVersions(asset, deps.versionPolicy).map((p) => versionId(p.kind, p.version.fileChecksum)),
      );
      const fixable = new Map<string, RepairReason>();
      for (const [key, reason] of target.brokenKeys) {
        const version = sizes.get(key);
        if (version !== undefined && served.has(versionId(version.kind, version.fileChecksum)))
          fixable.set(key, reason);
        else
          unrepairable.push({ subject: key, reason: `${reason}, and iCloud no longer serves this version` });
      }
      if (fixable.size === 0 && !target.notArchived) continue;
      for (const key of fixable.keys()) {
        if (removed.has(key)) continue;
        removed.add(key);
        await deps.objects.delete(key);
        objectsReplaced++;
        const size = sizes.get(key)?.size ?? 0;
        await deps.state.adjustCounters({ objects: -1, bytes: -size });
      }
      await dropVersions(deps.state, target, new Set(fixable.keys()));
      requeued.push({
        zone: zoneId(target.zone),
        assetRecordName: target.assetRecordName,
        objects: [...fixable].map(([key, reason]) => ({ key, reason })),
        notArchived: target.notArchived,
      });
      items.push(asset);
    }
  }

  for (const key of plan.removeStrays) await deps.objects.delete(key);
  const metadata = await addMetadata(deps.objects, plan.addMetadata);

  const sharedRepair =
    deps.sharedAlbumState === undefined
      ? { replaced: [], unrepairable: [], work: [] }
      : await repairSharedObjects(
          { sharedState: deps.sharedAlbumState, objects: deps.objects, now },
          plan.sharedTargets,
        );
  unrepairable.push(...sharedRepair.unrepairable);

  const issuedAt = now();
  const messages: WorkMessage[] = [
    ...packWorkItems(items.map((asset) => ({ type: 'asset' as const, asset }))).map(
      (run): WorkMessage => ({ v: WORK_MESSAGE_VERSION, runId, issuedAt, items: run }),
    ),
    ...sharedWorkMessage(sharedRepair.work, runId, issuedAt),
  ];
  const receipt = messages.length === 0 ? { sent: 0 } : await deps.queue.enqueue(messages);
  return {
    requeued,
    metadataAdded: metadata.added,
    metadataNotAdded: [...plan.metadataLeftAlone, ...metadata.notAdded],
    objectsReplaced,
    removed: plan.removeStrays,
    kept: plan.keepStrays,
    unrepairable,
    itemsEnqueued: items.length,
    messagesSent: receipt.sent,
    runId,
    ...(plan.refused === undefined ? {} : { refused: plan.refused }),
    sharedReplaced: sharedRepair.replaced,
    objectKeysRecorded,
  };
}

/** The Shared Album objects verify found broken, by key (those under `shared-albums/`). */
function sharedBroken(check: SharedAlbumsCheck | undefined): Map<string, RepairReason> {
  const broken = new Map<string, RepairReason>();
  if (check === undefined) return broken;
  for (const m of check.missing) broken.set(m.key, 'missing');
  for (const s of check.sizeMismatches) broken.set(s.key, 'truncated');
  for (const c of check.checksumMismatches) broken.set(c.key, 'corrupt');
  for (const key of broken.keys()) if (!isSharedAlbumKey(key)) broken.delete(key);
  return broken;
}

/** Shared Album findings on a library original an item references: not the albums' to store. */
function libraryOwned(check: SharedAlbumsCheck | undefined): LeftAlone[] {
  if (check === undefined) return [];
  return [...check.missing, ...check.sizeMismatches, ...check.checksumMismatches]
    .filter((f) => !isSharedAlbumKey(f.key))
    .map((f) => ({
      subject: f.key,
      reason:
        'a library original a Shared Album item references: repaired with the library, if the manifest lists it',
    }));
}
