/**
 * What `verify --repair` will do about a verify report, decided without touching anything: which
 * assets to archive again (an object missing, cut short or with other bytes than the manifest
 * recorded, or a version iCloud has and the manifest lacks), which stray objects to remove (only
 * under `mirror`, and never more than the mass-deletion stop allows), which objects that state no
 * MD5 get the manifest's hashes as metadata (videos over 5 GiB archived before the workers gave
 * them their late metadata: a rewrite in place, no download), and what it leaves alone.
 *
 * A cut-short or corrupt object is deleted before its asset is archived again, so the same
 * deletion limit guards those replacements, under either delete policy: more of them than one run
 * may delete is what a misread checksum looks like (SSE-KMS ETags taken for MD5s made every
 * object "corrupt", audit finding 13), and then none is replaced until a person raises the limit.
 * Pure: the use case (`app/repair.ts`) looks the assets up and carries the plan out.
 */
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import { type DeletePolicy, deletionLimit } from '../plan/delete-policy.ts';
import type { VerifyReport } from './verify-report.ts';

/** Why an object is archived again. */
export type RepairReason = 'missing' | 'truncated' | 'corrupt';

/** One asset to archive again, and the objects of its manifest entry that are broken. */
export interface RepairTarget {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  readonly masterRecordName?: string;
  /** Keys the entry lists whose object is missing, truncated or corrupt, with why. */
  readonly brokenKeys: ReadonlyMap<string, RepairReason>;
  /** iCloud lists versions of it the manifest does not hold (verify's `notArchived`). */
  readonly notArchived: boolean;
}

/** Something repair does not change, with why. */
export interface LeftAlone {
  readonly subject: string;
  readonly reason: string;
}

/**
 * An object to give its hashes as metadata (`icloud-sha256`, `md5chksum`): it states no MD5, and
 * the manifest recorded both. Only while its ETag is still `etag`, the one verify read.
 */
export interface MetadataToAdd {
  readonly key: string;
  readonly etag: string;
  /** Lower-case hex, as the manifest recorded them. */
  readonly md5: string;
  readonly sha256: string;
}

export interface RepairPlan {
  readonly targets: readonly RepairTarget[];
  /** Objects that state no MD5, to give the manifest's hashes (counted as repairs, deleting nothing). */
  readonly addMetadata: readonly MetadataToAdd[];
  /** Objects that state no MD5 and get none (not findings: verify's `ok` ignores them). */
  readonly metadataLeftAlone: readonly LeftAlone[];
  /** Objects no manifest entry references, to remove (`mirror` only, within the deletion limit). */
  readonly removeStrays: readonly string[];
  /** Objects no manifest entry references that stay (`keep`, or over the deletion limit). */
  readonly keepStrays: readonly LeftAlone[];
  /** Findings repair cannot act on (an asset of a retired zone, iCloud no longer listing it). */
  readonly leftAlone: readonly LeftAlone[];
  /**
   * Set when the truncated and corrupt objects to replace are more than the deletion limit: none
   * of them is replaced (each is in `leftAlone`); what is missing is still archived.
   */
  readonly refused?: { readonly objects: number; readonly limit: number };
  /** Shared Album objects to store again (`sharedBroken`, less those the limit refused). */
  readonly sharedTargets: ReadonlyMap<string, RepairReason>;
}

export interface RepairPlanInput {
  readonly report: VerifyReport;
  readonly manifest: readonly ManifestEntry[];
  /** Every zone ever seen (to resolve a finding's `zoneId`), and which of them are retired. */
  readonly zones: readonly { readonly zone: ZoneRef; readonly retired?: boolean }[];
  readonly deletePolicy: DeletePolicy;
  /**
   * Shared Album objects verify found missing, cut short or corrupt (finding 35): their
   * replacements count against the same deletion limit as the library's.
   */
  readonly sharedBroken?: ReadonlyMap<string, RepairReason>;
}

const refKey = (zone: string, assetRecordName: string) => `${zone}|${assetRecordName}`;

export function planRepair(input: RepairPlanInput): RepairPlan {
  const { report, manifest } = input;
  const zones = new Map<string, ZoneRef>();
  const retired = new Set<string>();
  const masters = new Map<string, string>();
  for (const entry of manifest) {
    zones.set(zoneId(entry.zone), entry.zone);
    masters.set(refKey(zoneId(entry.zone), entry.assetRecordName), entry.masterRecordName);
  }
  for (const state of input.zones) {
    zones.set(zoneId(state.zone), state.zone);
    if (state.retired) retired.add(zoneId(state.zone));
  }

  const broken = new Map<string, RepairReason>();
  for (const m of report.missing) if (m.type === 'objectMissing') broken.set(m.key, 'missing');
  for (const s of report.sizeMismatches) broken.set(s.key, 'truncated');
  for (const c of report.checksumMismatches) broken.set(c.key, 'corrupt');

  const targets = new Map<
    string,
    {
      zone: ZoneRef;
      assetRecordName: string;
      masterRecordName?: string;
      brokenKeys: Map<string, RepairReason>;
      notArchived: boolean;
    }
  >();
  const leftAlone: LeftAlone[] = [];
  const targetFor = (zone: ZoneRef, assetRecordName: string, masterRecordName?: string) => {
    const id = refKey(zoneId(zone), assetRecordName);
    let target = targets.get(id);
    if (target === undefined) {
      target = {
        zone,
        assetRecordName,
        ...(masterRecordName === undefined ? {} : { masterRecordName }),
        brokenKeys: new Map(),
        notArchived: false,
      };
      targets.set(id, target);
    }
    return target;
  };

  // Every entry listing a broken key is archived again: duplicates of one master share its objects.
  for (const entry of manifest) {
    for (const version of entry.versions) {
      const reason = broken.get(version.key);
      if (reason === undefined) continue;
      if (retired.has(zoneId(entry.zone))) {
        leftAlone.push({
          subject: version.key,
          reason: `${reason}, but its zone is retired (a Shared Library you left): iCloud no longer serves it`,
        });
        continue;
      }
      targetFor(entry.zone, entry.assetRecordName, entry.masterRecordName).brokenKeys.set(
        version.key,
        reason,
      );
    }
  }
  for (const m of report.missing) {
    if (m.type !== 'notArchived') continue;
    const zone = zones.get(m.zone);
    if (zone === undefined || retired.has(m.zone)) {
      leftAlone.push({ subject: m.assetRecordName, reason: `zone ${m.zone} is not one this archive syncs` });
      continue;
    }
    targetFor(zone, m.assetRecordName, masters.get(refKey(m.zone, m.assetRecordName))).notArchived = true;
  }
  for (const e of report.extra) {
    if (e.type === 'notInIcloud') {
      leftAlone.push({
        subject: e.assetRecordName,
        reason: 'archived, but iCloud no longer lists it: the next sync records its removal',
      });
    }
  }

  const limit = deletionLimit(input.deletePolicy, report.checked.bucketObjects);
  // At least one (unless `MAX_DELETE_COUNT` is 0): in an archive too small for the share to allow
  // any, one truncated or corrupt file is still what a repair is for; the brake is for many at
  // once (a misread ETag format).
  const replaceLimit = Math.min(input.deletePolicy.maxDeleteCount, Math.max(1, limit));
  const sharedTargets = new Map(input.sharedBroken ?? []);
  const refused = refuseReplacements(
    [...targets.values(), { brokenKeys: sharedTargets }],
    replaceLimit,
    leftAlone,
  );
  for (const [id, target] of targets)
    if (target.brokenKeys.size === 0 && !target.notArchived) targets.delete(id);

  const metadataLeftAlone: LeftAlone[] = [];
  const addMetadata = metadataToAdd(report, manifest, broken, metadataLeftAlone);
  const strays = report.extra.flatMap((e) => (e.type === 'unreferencedObject' ? [e.key] : []));
  const mirror = input.deletePolicy.mode === 'mirror';
  const removeStrays = mirror && strays.length <= limit ? strays : [];
  const keepStrays =
    removeStrays.length > 0
      ? []
      : strays.map((key) => ({
          subject: key,
          reason: mirror
            ? `${strays.length} stray objects are more than the ${limit} one run may delete (--max-delete-fraction)`
            : 'no manifest entry references it; kept under the keep delete policy (mirror removes it)',
        }));
  return {
    targets: [...targets.values()],
    addMetadata,
    metadataLeftAlone,
    removeStrays,
    keepStrays,
    leftAlone,
    sharedTargets,
    ...(refused === undefined ? {} : { refused }),
  };
}

const MD5_HEX = /^[0-9a-f]{32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The objects verify found stating no MD5 whose manifest version records both hashes; not one
 * that is replaced anyway (with `--deep`, its bytes differed). The rest go to `leftAlone`.
 */
function metadataToAdd(
  report: VerifyReport,
  manifest: readonly ManifestEntry[],
  broken: ReadonlyMap<string, RepairReason>,
  leftAlone: LeftAlone[],
): MetadataToAdd[] {
  const versions = new Map(manifest.flatMap((e) => e.versions.map((v) => [v.key, v] as const)));
  const planned: MetadataToAdd[] = [];
  for (const object of report.md5UnavailableObjects ?? []) {
    if (broken.has(object.key)) continue;
    const version = versions.get(object.key);
    if (version === undefined || !MD5_HEX.test(version.md5) || !SHA256_HEX.test(version.sha256)) {
      leftAlone.push({
        subject: object.key,
        reason: 'states no MD5, and the manifest records no MD5 and SHA-256 to give it',
      });
      continue;
    }
    planned.push({ key: object.key, etag: object.etag, md5: version.md5, sha256: version.sha256 });
  }
  return planned;
}

/**
 * Takes the truncated and corrupt keys out of `targets` (into `leftAlone`) when they are more
 * than `limit`; returns how many, or undefined when they are within it.
 */
function refuseReplacements(
  targets: readonly { brokenKeys: Map<string, RepairReason> }[],
  limit: number,
  leftAlone: LeftAlone[],
): { objects: number; limit: number } | undefined {
  const replaced = new Set<string>();
  for (const target of targets)
    for (const [key, reason] of target.brokenKeys) if (reason !== 'missing') replaced.add(key);
  if (replaced.size <= limit) return undefined;
  for (const target of targets) {
    for (const [key, reason] of target.brokenKeys) {
      if (reason === 'missing') continue;
      target.brokenKeys.delete(key);
      leftAlone.push({
        subject: key,
        reason: `${reason}, but the ${replaced.size} objects to replace are more than the ${limit} one run may delete (--max-delete-fraction): nothing was deleted`,
      });
    }
  }
  return { objects: replaced.size, limit };
}
