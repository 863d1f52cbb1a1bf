/**
 * Turns a page of zone changes into work messages: the items the download workers act on, packed
 * by what they download: many small photos per message (each message costs the worker a few state
 * requests of its own, shared by its items), few large videos, so one slow video does not hold
 * many others hostage.
 */

import type { ZoneChange } from '#domain/model/asset.ts';
import { type LibraryWorkItem, WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import type { DeleteMode } from '../plan/delete-policy.ts';
import { plannableVersions } from '../plan/plan-versions.ts';
import type { VersionPolicy } from '../plan/version-policy.ts';

/**
 * Most items a message carries. Each message costs the worker about four state requests of its
 * own (the entries' read, the count markers' read, the totals, the run record) whatever its size:
 * 25 photos share them where 10 paid them before. 25 is also BatchWriteItem's limit (the message's
 * master users in one write) and keeps a message's counts to one write to the totals.
 */
export const ITEMS_PER_MESSAGE = 25;

/**
 * Bytes a message downloads at most, as CloudKit reports its versions' sizes (an item larger
 * than this goes alone): a Lambda batch of a few messages (`DOWNLOAD_BATCH_SIZE`) then moves
 * about a GiB, minutes inside its timeout even on a slow CDN node.
 */
export const BYTES_PER_MESSAGE = 256 * 1024 * 1024;

/** What an item downloads at most: its versions' sizes (nothing for the items that download nothing). */
function downloadBytes(item: LibraryWorkItem): number {
  return item.type === 'asset' ? item.asset.versions.reduce((sum, v) => sum + v.size, 0) : 0;
}

/**
 * Cuts `items` into runs for one message each, in order: a run ends at `ITEMS_PER_MESSAGE` items,
 * or before the item that would take it past `BYTES_PER_MESSAGE`.
 */
export function packWorkItems<T extends LibraryWorkItem>(items: readonly T[]): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = downloadBytes(item);
    if (run.length >= ITEMS_PER_MESSAGE || (run.length > 0 && bytes + size > BYTES_PER_MESSAGE)) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

const RELATION_NAME = /^(.+)-IN-(.+)$/;

/** The work a change carries, or undefined for changes the archive does not act on (album records). */
export function toWorkItem(change: ZoneChange): LibraryWorkItem | undefined {
  switch (change.type) {
    case 'asset':
      return { type: 'asset', asset: change.asset };
    case 'assetOnly':
      return { type: 'assetOnly', change: change.change };
    case 'albumMembership':
      return {
        type: 'albumMembership',
        zone: change.zone,
        assetRecordName: change.assetRecordName,
        albumRecordName: change.albumRecordName,
        present: change.present,
      };
    case 'tombstone': {
      // A removed album relation is a membership change, not a purge (docs/protocol/records.md#album-membership).
      const relation =
        change.inferredType === 'CPLContainerRelation' ? RELATION_NAME.exec(change.recordName) : null;
      if (relation?.[1] !== undefined && relation[2] !== undefined) {
        return {
          type: 'albumMembership',
          zone: change.zone,
          assetRecordName: relation[1],
          albumRecordName: relation[2],
          present: false,
        };
      }
      return {
        type: 'tombstone',
        zone: change.zone,
        recordName: change.recordName,
        inferredType: change.inferredType,
      };
    }
    case 'album':
      return undefined;
  }
}

/**
 * An asset item without the versions `policy` will never archive (under the default policy a
 * photo's medium and thumbnail renditions: about half of the item's bytes, each with a signed URL).
 */
function slimmed(item: LibraryWorkItem, policy: VersionPolicy | undefined): LibraryWorkItem {
  if (policy === undefined || item.type !== 'asset') return item;
  const versions = plannableVersions(item.asset, policy);
  return versions.length === item.asset.versions.length
    ? item
    : { ...item, asset: { ...item.asset, versions } };
}

export function toWorkMessages(
  changes: readonly ZoneChange[],
  context: {
    readonly runId: string;
    readonly runStartedAt?: number;
    readonly issuedAt: number;
    /** The workers' version policy: items leave out what it never archives. */
    readonly versionPolicy?: VersionPolicy;
    /** The delete mode the purges were checked under: carried by each message holding a tombstone. */
    readonly deleteMode?: DeleteMode;
  },
): WorkMessage[] {
  const items = changes
    .map(toWorkItem)
    .filter((item): item is LibraryWorkItem => item !== undefined)
    .map((item) => slimmed(item, context.versionPolicy));
  return packWorkItems(items).map((run) => ({
    v: WORK_MESSAGE_VERSION,
    runId: context.runId,
    ...(context.runStartedAt === undefined ? {} : { runStartedAt: context.runStartedAt }),
    issuedAt: context.issuedAt,
    ...(context.deleteMode !== undefined && run.some((item) => item.type === 'tombstone')
      ? { deleteMode: context.deleteMode }
      : {}),
    items: run,
  }));
}
