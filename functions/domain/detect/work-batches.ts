/**
 * Turns a page of zone changes into work messages: the items the download workers act on,
 * packed a few per message so one slow video does not hold many others hostage.
 */

import type { ZoneChange } from '#domain/model/asset.ts';
import { type LibraryWorkItem, WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { plannableVersions } from '../plan/plan-versions.ts';
import type { VersionPolicy } from '../plan/version-policy.ts';

/** Items per message: a Lambda batch of a few messages stays well inside its timeout. */
export const ITEMS_PER_MESSAGE = 10;

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
  },
): WorkMessage[] {
  const items = changes
    .map(toWorkItem)
    .filter((item): item is LibraryWorkItem => item !== undefined)
    .map((item) => slimmed(item, context.versionPolicy));
  const messages: WorkMessage[] = [];
  for (let i = 0; i < items.length; i += ITEMS_PER_MESSAGE) {
    messages.push({
      v: WORK_MESSAGE_VERSION,
      runId: context.runId,
      ...(context.runStartedAt === undefined ? {} : { runStartedAt: context.runStartedAt }),
      issuedAt: context.issuedAt,
      items: items.slice(i, i + ITEMS_PER_MESSAGE),
    });
  }
  return messages;
}
