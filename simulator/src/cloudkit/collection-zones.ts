/**
 * The CloudKit face of new-generation Shared Albums (docs/protocol/shared-albums.md#new-generation,
 * SA-28..SA-31): their zones in `zones/list` and `changes/database`, their records through
 * `changes/zone` (a `cloudkit.share` record named `cloudkit.zoneshare`, then `CPLMaster`/`CPLAsset`
 * pairs; a removed item reappears as its `CPLAsset` with `isDeleted = 1`), and `records/lookup` of
 * the share record. Record shapes beyond `cloudkit.title`/`cloudkit.type` are the research's
 * reading of one unattributed client; see simulator/README.md.
 */
import type {
  Collection,
  CollectionComment,
  CollectionItem,
  CollectionPerson,
  CollectionPost,
} from '../sharedcollections/service.ts';
import { SHARE_RECORD_NAME } from '../sharedcollections/service.ts';
import type { CloudKitContext } from './context.ts';
import { TokenCodec } from './tokens.ts';

const MAX_RESULTS = 200;

export function collectionZoneID(ctx: CloudKitContext, c: Collection) {
  return {
    zoneName: c.zoneName,
    ownerRecordName: ctx.library.collections.person(c.owner).userRecordName,
    zoneType: 'REGULAR_CUSTOM_ZONE',
  };
}

function tokenAt(ctx: CloudKitContext, c: Collection, position: number): string {
  const zoneID = collectionZoneID(ctx, c);
  return ctx.tokens.zoneToken(TokenCodec.zoneScope(zoneID.zoneName, zoneID.ownerRecordName), position);
}

/** The zone's caught-up token: unchanged while the album is. */
export const collectionZoneToken = (ctx: CloudKitContext, c: Collection): string =>
  tokenAt(ctx, c, c.log.length);

/** Albums this caller reads in this database. */
export const visibleCollections = (ctx: CloudKitContext): Collection[] =>
  ctx.library.collections.visible(ctx.person as CollectionPerson, ctx.database);

/** `zones/list` entries. */
export function collectionZoneEntries(ctx: CloudKitContext): Record<string, unknown>[] {
  return visibleCollections(ctx).map((c) => ({
    zoneID: collectionZoneID(ctx, c),
    syncToken: collectionZoneToken(ctx, c),
    deleted: false,
  }));
}

/**
 * `changes/database` entries since change `since` (all when undefined): changed zones with their
 * token, and zones deleted or left as `{zoneID, deleted: true}` (the CloudKit shape for a zone
 * that is gone; for this zone kind [DERIVED]).
 */
export function collectionZoneChanges(
  ctx: CloudKitContext,
  since: number | undefined,
): Record<string, unknown>[] {
  const live = visibleCollections(ctx)
    .filter((c) => since === undefined || c.lastSeq > since)
    .map((c) => ({ zoneID: collectionZoneID(ctx, c), syncToken: collectionZoneToken(ctx, c) }));
  if (since === undefined) return live;
  const gone = ctx.library.collections
    .departedSince(ctx.person as CollectionPerson, ctx.database, since)
    .map((c) => ({ zoneID: collectionZoneID(ctx, c), deleted: true }));
  return [...live, ...gone];
}

/** The album a request `zoneID` names for this caller (owner optional, as for photo zones). */
export function collectionOf(ctx: CloudKitContext, zoneID: unknown): Collection | undefined {
  if (typeof zoneID !== 'object' || zoneID === null) return undefined;
  const { zoneName, ownerRecordName } = zoneID as { zoneName?: unknown; ownerRecordName?: unknown };
  const c = ctx.library.collections.find(ctx.person as CollectionPerson, ctx.database, zoneName);
  if (!c) return undefined;
  const owner = collectionZoneID(ctx, c).ownerRecordName;
  const ok =
    ownerRecordName === undefined ||
    ownerRecordName === null ||
    ownerRecordName === owner ||
    (ownerRecordName === '_defaultOwner' && ctx.database === 'private');
  return ok ? c : undefined;
}

/** One `changes/zone` answer for an album zone, from `syncToken` (a position in its log). */
export function collectionZoneChangesPage(
  ctx: CloudKitContext,
  c: Collection,
  syncToken: string | undefined,
  resultsLimit: number | undefined,
): Record<string, unknown> {
  const zoneID = collectionZoneID(ctx, c);
  let position = 0;
  if (syncToken !== undefined && syncToken !== '') {
    const decoded = ctx.tokens.decode(syncToken);
    const scope = TokenCodec.zoneScope(zoneID.zoneName, zoneID.ownerRecordName);
    if (
      !decoded.ok ||
      decoded.kind !== 'zone' ||
      !decoded.scope.equals(scope) ||
      decoded.position > c.log.length
    ) {
      return { zoneID, serverErrorCode: 'BAD_REQUEST', reason: 'Unknown sync continuation type' };
    }
    position = decoded.position;
  } else if (syncToken === '') {
    position = c.log.length;
  }
  const limit = Math.max(1, Math.min(Math.floor(resultsLimit ?? MAX_RESULTS), MAX_RESULTS));
  const lastAt = new Map<string, number>();
  for (const [at, name] of c.log.entries()) lastAt.set(name, at);
  const records: Record<string, unknown>[] = [];
  while (position < c.log.length && records.length < limit) {
    const name = c.log[position]!;
    if (lastAt.get(name) === position) records.push(collectionRecord(ctx, c, name));
    position += 1;
  }
  return { zoneID, syncToken: tokenAt(ctx, c, position), moreComing: position < c.log.length, records };
}

/** The record `recordName` of album `c` as the caller sees it now. */
export function collectionRecord(
  ctx: CloudKitContext,
  c: Collection,
  recordName: string,
): Record<string, unknown> {
  if (recordName === SHARE_RECORD_NAME) return shareRecord(ctx, c);
  const comment = c.comments.find((x) => x.recordName === recordName);
  if (comment) return commentRecord(ctx, c, comment);
  const post = c.posts.find((x) => x.recordName === recordName);
  if (post) return postRecord(ctx, c, post);
  const item = c.items.find((i) => i.masterName === recordName || i.assetName === recordName);
  if (!item) throw new Error(`no record ${recordName} in ${c.zoneName}`);
  return item.masterName === recordName ? masterRecord(ctx, c, item) : assetRecord(ctx, c, item);
}

function envelope(ctx: CloudKitContext, c: Collection, by: CollectionPerson, at: number) {
  const stamp = {
    timestamp: at,
    userRecordName: ctx.library.collections.person(by).userRecordName,
    deviceID: '1',
  };
  return {
    created: stamp,
    modified: stamp,
    deleted: false,
    zoneID: collectionZoneID(ctx, c),
    pluginFields: {},
  };
}

function participant(ctx: CloudKitContext, who: CollectionPerson, owner: boolean) {
  const p = ctx.library.collections.person(who);
  return {
    participantId: `${p.userRecordName}:participant`,
    type: owner ? 'OWNER' : 'USER',
    permission: 'READ_WRITE',
    customRole: 'contributor',
    acceptanceStatus: 'ACCEPTED',
    userIdentity: {
      userRecordName: p.userRecordName,
      nameComponents: { givenName: p.firstName, familyName: p.lastName },
      lookupInfo: { emailAddress: p.appleId },
    },
  };
}

function shareRecord(ctx: CloudKitContext, c: Collection): Record<string, unknown> {
  const participants = [
    participant(ctx, c.owner, true),
    ...[...c.participants].map((p) => participant(ctx, p, false)),
  ];
  const self = participants.find(
    (p) =>
      p.userIdentity.userRecordName ===
      ctx.library.collections.person(ctx.person as CollectionPerson).userRecordName,
  );
  return {
    recordName: SHARE_RECORD_NAME,
    recordType: 'cloudkit.share',
    recordChangeTag: `s${c.participants.size.toString(36)}`,
    fields: {
      'cloudkit.title': { value: c.title, type: 'STRING' },
      'cloudkit.type': { value: 'photos_sharedcollections', type: 'STRING' },
      sharedCollectionState: { value: 0, type: 'INT64' },
    },
    ...envelope(ctx, c, c.owner, c.createdAt),
    participants,
    owner: participants[0],
    ...(self ? { currentUserParticipant: self } : {}),
    publicPermission: 'NONE',
  };
}

function masterRecord(ctx: CloudKitContext, c: Collection, item: CollectionItem): Record<string, unknown> {
  const downloadURL = ctx.library.minter.mint({
    fileChecksum: item.fileChecksum,
    referenceChecksum: item.referenceChecksum,
    zoneName: c.zoneName,
    requestUuid: ctx.requestUuid,
  });
  return {
    recordName: item.masterName,
    recordType: 'CPLMaster',
    recordChangeTag: 'm1',
    fields: {
      filenameEnc: { value: Buffer.from(item.fileName, 'utf8').toString('base64'), type: 'ENCRYPTED_BYTES' },
      originalCreationDate: { value: item.captureDate, type: 'TIMESTAMP' },
      resOriginalRes: {
        value: {
          fileChecksum: item.fileChecksum,
          size: item.size,
          referenceChecksum: item.referenceChecksum,
          wrappingKey: Buffer.from(item.referenceChecksum, 'base64').subarray(0, 16).toString('base64'),
          downloadURL,
        },
        type: 'ASSETID',
      },
      resOriginalFileType: { value: item.uti, type: 'STRING' },
      resOriginalWidth: { value: item.width, type: 'INT64' },
      resOriginalHeight: { value: item.height, type: 'INT64' },
      resOriginalFingerprint: { value: item.fingerprint, type: 'STRING' },
      itemType: { value: item.uti, type: 'STRING' },
    },
    ...envelope(ctx, c, item.contributor, item.addedDate),
  };
}

function assetRecord(ctx: CloudKitContext, c: Collection, item: CollectionItem): Record<string, unknown> {
  return {
    recordName: item.assetName,
    recordType: 'CPLAsset',
    recordChangeTag: item.removed ? 'a2' : 'a1',
    fields: {
      masterRef: {
        value: { recordName: item.masterName, action: 'DELETE_SELF', zoneID: collectionZoneID(ctx, c) },
        type: 'REFERENCE',
      },
      assetDate: { value: item.captureDate, type: 'TIMESTAMP' },
      addedDate: { value: item.addedDate, type: 'TIMESTAMP' },
      isDeleted: { value: item.removed ? 1 : 0, type: 'INT64' },
      ...(item.post === undefined ? {} : { assetBatchId: { value: item.post.assetBatchId, type: 'STRING' } }),
    },
    ...envelope(ctx, c, item.contributor, item.addedDate),
  };
}

function postRecord(ctx: CloudKitContext, c: Collection, post: CollectionPost): Record<string, unknown> {
  return {
    recordName: post.recordName,
    recordType: 'CPLPost',
    recordChangeTag: 'p1',
    fields: {
      caption: { value: post.caption, type: 'STRING' },
      postTimestamp: { value: post.at, type: 'TIMESTAMP' },
      assetBatchId: { value: post.assetBatchId, type: 'STRING' },
    },
    ...envelope(ctx, c, post.author, post.at),
  };
}

function commentRecord(
  ctx: CloudKitContext,
  c: Collection,
  comment: CollectionComment,
): Record<string, unknown> {
  return {
    recordName: comment.recordName,
    recordType: 'CPLTextComment',
    recordChangeTag: 'c1',
    fields: {
      commentText: { value: comment.text, type: 'STRING' },
      commentTimestamp: { value: comment.at, type: 'TIMESTAMP' },
      associatedAssetRef: {
        value: { recordName: comment.assetName, action: 'NONE', zoneID: collectionZoneID(ctx, c) },
        type: 'REFERENCE',
      },
    },
    ...envelope(ctx, c, comment.author, comment.at),
  };
}
