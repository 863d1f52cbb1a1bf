/**
 * The CloudKit-shaped records `webgetassets` answers with: one CPLMaster (the file, every rendition
 * with a freshly signed `downloadURL`) and one CPLAsset (the album entry: contributor, added date,
 * likes) per item. `resOriginalRes.size` is 0 as observed; the byte count is `resOriginalFileSize`.
 */
import type { UrlMinter } from '../types.ts';
import type { IdentifiedRendition, SharedAlbum, SharedItem } from './model.ts';
import type { SharedPeople } from './people.ts';

/** `ckz` of sharedstreams download URLs (Apple's value is unknown). */
export const SHARED_STREAMS_URL_ZONE = 'sharedstreams';

export interface RecordContext {
  readonly minter: UrlMinter;
  readonly requestUuid: string;
  readonly callerDsid: string;
  readonly people: SharedPeople;
}

export const mintUrl = (ctx: RecordContext, r: IdentifiedRendition): string =>
  ctx.minter.mint({
    fileChecksum: r.fileChecksum,
    referenceChecksum: r.referenceChecksum,
    zoneName: SHARED_STREAMS_URL_ZONE,
    requestUuid: ctx.requestUuid,
  });

function masterRecord(item: SharedItem, ctx: RecordContext): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    filenameEnc: { value: Buffer.from(item.fileName, 'utf8').toString('base64'), type: 'ENCRYPTED_BYTES' },
    originalCreationDate: { value: item.captureDate, type: 'TIMESTAMP' },
  };
  for (const r of item.renditions) {
    const original = r.field === 'resOriginal';
    fields[`${r.field}Res`] = {
      value: {
        fileChecksum: r.fileChecksum,
        size: original ? 0 : r.size,
        referenceChecksum: r.referenceChecksum,
        downloadURL: mintUrl(ctx, r),
      },
      type: 'ASSETID',
    };
    fields[`${r.field}FileType`] = { value: r.uti, type: 'STRING' };
    fields[`${r.field}Width`] = { value: r.width, type: 'INT64' };
    fields[`${r.field}Height`] = { value: r.height, type: 'INT64' };
    fields[`${r.field}FileSize`] = { value: r.size, type: 'INT64' };
  }
  return { recordName: item.masterName, recordType: 'CPLMaster', recordChangeTag: 'a1', fields };
}

function assetRecord(item: SharedItem, ctx: RecordContext): Record<string, unknown> {
  const contributor = ctx.people.byDsid(item.contributorDsid);
  return {
    recordName: item.assetGuid,
    recordType: 'CPLAsset',
    recordChangeTag: `b${item.changeTag.toString(36)}`,
    fields: {
      masterRef: { value: { recordName: item.masterName, action: 'NONE' }, type: 'REFERENCE' },
      addedDate: { value: item.addedDate, type: 'TIMESTAMP' },
      contributedBy: { value: item.contributorDsid, type: 'STRING' },
      ...(item.caption === undefined ? {} : { caption: { value: item.caption, type: 'STRING' } }),
      ...(contributor
        ? {
            contributorFirstName: { value: contributor.firstName, type: 'STRING' },
            contributorLastName: { value: contributor.lastName, type: 'STRING' },
            contributorFullName: {
              value: `${contributor.firstName} ${contributor.lastName}`,
              type: 'STRING',
            },
          }
        : {}),
      ...(item.durationSeconds === undefined
        ? {}
        : { duration: { value: item.durationSeconds, type: 'DOUBLE' } }),
    },
    pluginFields: {
      likeCount: { value: item.likes.size },
      likedByCaller: { value: item.likes.has(ctx.callerDsid) },
    },
  };
}

/** The records of items `[offset, end)`: the page's masters, then its assets. */
export function pageRecords(album: SharedAlbum, offset: number, end: number, ctx: RecordContext): unknown[] {
  const items = album.items.slice(offset, Math.max(offset, end));
  return [...items.map((i) => masterRecord(i, ctx)), ...items.map((i) => assetRecord(i, ctx))];
}
