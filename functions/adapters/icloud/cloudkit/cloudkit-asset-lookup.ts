/**
 * The lookup side of the CloudKit asset source: current copies of named assets with fresh download
 * URLs (`records/lookup`), masters paired with their assets. `CloudKitAssetSource` answers its
 * `lookupAssets` and its crash-resume lookups with these functions; the download workers, which
 * refresh URLs and read nothing else of the library, use `CloudKitAssetLookup` alone, so their
 * bundle carries no change feed, enumeration or album code.
 */
import type { ZoneRef } from '#domain/model/zone.ts';
import type { AssetLookup, AssetLookupKey, LookedUpAssets } from '#ports/asset-source.ts';
import { AssetPairer } from '../records/asset-pairer.ts';
import type { RecordErrorItem } from '../records/record-envelope.ts';
import { emptySortedRecords, type SortedRecords, sortRecords } from '../records/record-page.ts';
import type { CloudKitRecordsClient } from './cloudkit-client.ts';

/** Names per records/lookup request (CloudKit allows 200 operations per request). */
const LOOKUP_CHUNK = 100;

/** `NOT_FOUND (Record not found)`: CloudKit's words for an error entry, no field values. */
function errorItemReason(item: RecordErrorItem): string {
  return item.reason === undefined
    ? item.serverErrorCode
    : `${item.serverErrorCode} (${item.reason.slice(0, 120)})`;
}

/** The records of `names`, looked up in chunks and sorted by kind. */
export async function lookupSorted(
  client: CloudKitRecordsClient,
  zone: ZoneRef,
  names: readonly string[],
): Promise<SortedRecords> {
  const merged = emptySortedRecords();
  for (let i = 0; i < names.length; i += LOOKUP_CHUNK) {
    const result = await client.recordsLookup(zone, names.slice(i, i + LOOKUP_CHUNK));
    const sorted = sortRecords(result.records, zone);
    merged.masters.push(...sorted.masters);
    merged.assets.push(...sorted.assets);
    merged.changes.push(...sorted.changes);
    merged.errorItems.push(...sorted.errorItems);
    merged.problems.push(...sorted.problems);
  }
  return merged;
}

/**
 * Current copies of the assets (fresh URLs). A name CloudKit answers with an error entry inside
 * `records` (S143 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: a refresh can fail per record) makes its asset `unavailable`, never
 * `missing`: the caller keeps what it had. Only a `NOT_FOUND` entry or a tombstone for the
 * asset's own record is `notFound` (gone); `missing` is an answer the mapping could not read.
 */
export async function lookupAssets(
  client: CloudKitRecordsClient,
  zone: ZoneRef,
  keys: readonly AssetLookupKey[],
): Promise<LookedUpAssets> {
  const assetNames = [...new Set(keys.map((k) => k.assetRecordName))];
  const masterNames = [...new Set(keys.flatMap((k) => (k.masterRecordName ? [k.masterRecordName] : [])))];
  const first = await lookupSorted(client, zone, [...assetNames, ...masterNames]);
  const fetchedMasters = new Set(first.masters.map((m) => m.recordName));
  const stillNeeded = [...new Set(first.assets.map((a) => a.masterRecordName))].filter(
    (m) => !fetchedMasters.has(m),
  );
  const second = stillNeeded.length > 0 ? await lookupSorted(client, zone, stillNeeded) : undefined;
  const pairer = new AssetPairer(zone);
  const paired = pairer.add([...first.masters, ...(second?.masters ?? [])], first.assets);
  pairer.flush();
  const found = new Set(paired.assets.map((a) => a.assetRecordName));
  const failed = new Map<string, RecordErrorItem>();
  for (const item of [...first.errorItems, ...(second?.errorItems ?? [])]) {
    if (item.recordName !== undefined) failed.set(item.recordName, item);
  }
  const masterOf = new Map<string, string>();
  for (const k of keys) if (k.masterRecordName) masterOf.set(k.assetRecordName, k.masterRecordName);
  for (const a of first.assets) masterOf.set(a.recordName, a.masterRecordName);
  // A tombstone in place of the asset's own record says it is gone, as a NOT_FOUND entry does.
  const deleted = new Set(first.changes.flatMap((c) => (c.type === 'tombstone' ? [c.recordName] : [])));
  const unavailable: { assetRecordName: string; reason: string }[] = [];
  const missing: string[] = [];
  const notFound: string[] = [];
  for (const name of assetNames) {
    if (found.has(name)) continue;
    if (deleted.has(name)) {
      unavailable.push({ assetRecordName: name, reason: 'deleted (a tombstone)' });
      notFound.push(name);
      continue;
    }
    const master = masterOf.get(name);
    const item = failed.get(name) ?? (master === undefined ? undefined : failed.get(master));
    if (item === undefined) missing.push(name);
    else unavailable.push({ assetRecordName: name, reason: errorItemReason(item) });
    if (failed.get(name)?.serverErrorCode === 'NOT_FOUND') notFound.push(name);
  }
  return { assets: paired.assets, missing, unavailable, notFound };
}

/** `AssetLookup` over CloudKit: the download workers' view of the library. */
export class CloudKitAssetLookup implements AssetLookup {
  readonly #client: CloudKitRecordsClient;

  constructor(options: { readonly client: CloudKitRecordsClient }) {
    this.#client = options.client;
  }

  lookupAssets(zone: ZoneRef, keys: readonly AssetLookupKey[]): Promise<LookedUpAssets> {
    return lookupAssets(this.#client, zone, keys);
  }
}
