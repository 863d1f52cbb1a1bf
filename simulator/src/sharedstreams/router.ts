/**
 * The legacy Shared Albums web service on `pNN-sharedstreams.icloud.com` (docs in
 * simulator/README.md, "Shared albums"). Paths:
 *
 *   /{dsid}/sharedstreams/<name>         account level: webgetalbumslist, getchanges, webgetalbumview
 *   /{albumtoken}/sharedstreams/<name>   album level (the album's `albumlocation`): webgetassetcount,
 *                                        webgetassets, webasseturls, getcomments
 *
 * POST only (405 otherwise); the body is JSON whatever the Content-Type; query parameters are
 * ignored. The wrong partition answers 330 naming the right host; management endpoints answer 403.
 */
import * as z from 'zod';
import { SHAREDSTREAMS_HOST } from '../hosts.ts';
import type { Clock, Principal, SimReply, SimRequest, UrlMinter } from '../types.ts';
import { json } from '../types.ts';
import { albumCtag, albumLocation, hostOf, type SharedAlbum, sharingTypeFor } from './model.ts';
import { fullName } from './people.ts';
import { mintUrl, pageRecords, type RecordContext } from './records.ts';
import type { SharedStreams } from './service.ts';

/** More GUIDs than this in one `webgetalbumview` fail (observed: 15-20 fail, 10 work). */
export const MAX_ALBUMVIEW_GUIDS = 15;

const ACCOUNT_ENDPOINTS = new Set(['webgetalbumslist', 'getchanges', 'webgetalbumview']);
const ALBUM_ENDPOINTS = new Set(['webgetassetcount', 'webgetassets', 'webasseturls', 'getcomments']);
/** Seen in client code; never needed to read albums. The simulator refuses them (SA-26). */
export const MANAGEMENT_ENDPOINTS = new Set([
  'webgetpendingalbums',
  'webgetsharinginfos',
  'subscribe',
  'unsubscribe',
  'createalbum',
  'updatealbum',
  'setalbumpublic',
  'share',
  'unshare',
  'deletealbum',
  'addcomment',
  'deletecomment',
  'deleteassets',
  'webgetuploadurl',
  'webputasset',
  'webuploadstatus',
]);

export interface SharedStreamsCall {
  readonly streams: SharedStreams;
  readonly caller: Principal;
  readonly minter: UrlMinter;
  readonly clock: Clock;
  readonly requestUuid: string;
}

/** The `/stats` and fault key: `sharedstreams/<name>`. */
export function sharedStreamsEndpointKey(path: string): string {
  const m = /^\/[^/]+\/sharedstreams\/([^/?]+)\/?$/.exec(path);
  return `sharedstreams/${m?.[1] ?? 'unknown'}`;
}

/** Numbers as strings or numbers (every client sends strings). */
const Index = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);
const AssetsBody = z.looseObject({
  albumguid: z.string(),
  albumctag: z.string().nullish(),
  offset: Index.optional(),
  limit: Index.optional(),
});
const AlbumBody = z.looseObject({ albumguid: z.string() });
const AlbumViewBody = z.looseObject({ albumguids: z.array(z.string()) });
const ChangesBody = z.looseObject({ rootctag: z.string().nullish() });
const AssetUrlsBody = z.looseObject({ albumguid: z.string().optional(), photoGuids: z.array(z.string()) });
const CommentsBody = z.looseObject({ albumguid: z.string(), assetguid: z.string() });

const bad = (reason: string): SimReply => json({ errorCode: 'BAD_REQUEST', reason }, 400);
const notFound = (): SimReply => json({ errorCode: 'NOT_FOUND' }, 404);

function redirect(call: SharedStreamsCall, partition: number, host: string): SimReply {
  const right = hostOf(partition) + (host.endsWith('.cn') ? '.cn' : '');
  const mode = call.streams.quirks.redirectIn;
  return {
    status: 330,
    headers: mode === 'body' ? {} : { 'X-Apple-MMe-Host': right },
    body: { kind: 'json', value: mode === 'header' ? {} : { 'X-Apple-MMe-Host': right } },
  };
}

const flag = (on: boolean): '1' | '0' => (on ? '1' : '0');

function albumEntry(album: SharedAlbum, dsid: string): Record<string, unknown> {
  return {
    albumguid: album.albumguid,
    albumlocation: albumLocation(album),
    albumctag: albumCtag(album),
    ownerdsid: album.ownerDsid,
    sharingtype: sharingTypeFor(album, dsid),
    iswebuploadsupported: '1',
    ...(album.isPublic ? { publicurl: `https://www.icloud.com/sharedalbum/#${album.locationToken}` } : {}),
    attributes: {
      name: album.name,
      creationDate: String(album.creationDate),
      allowcontributions: flag(album.allowContributions),
      ispublic: flag(album.isPublic),
    },
  };
}

export function handleSharedStreams(req: SimRequest, call: SharedStreamsCall): SimReply {
  const m = /^\/([^/]+)\/sharedstreams\/([^/]+)\/?$/.exec(req.path);
  if (!m) return notFound();
  const [, segment, name] = m as unknown as [string, string, string];
  if (req.method.toUpperCase() !== 'POST') return { ...json({}, 405), headers: { Allow: 'POST' } };
  if (MANAGEMENT_ENDPOINTS.has(name)) return json({ errorCode: 'FORBIDDEN' }, 403);
  const partition = Number(SHAREDSTREAMS_HOST.exec(req.host)?.[1]);
  const body = req.json ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) return bad('body must be a JSON object');

  if (ACCOUNT_ENDPOINTS.has(name)) {
    if (segment !== call.caller.dsid) return json({}, 401);
    if (partition !== call.caller.partition) return redirect(call, call.caller.partition, req.host);
    return accountLevel(name, body, call);
  }
  if (!ALBUM_ENDPOINTS.has(name)) return notFound();
  const album = call.streams.byLocationToken(segment);
  if (!album) return notFound();
  if (partition !== album.partition) return redirect(call, album.partition, req.host);
  return albumLevel(name, body, album, call);
}

function accountLevel(name: string, body: object, call: SharedStreamsCall): SimReply {
  const { streams, caller } = call;
  switch (name) {
    case 'webgetalbumslist':
      return json({ albums: streams.visibleTo(caller.dsid).map((a) => albumEntry(a, caller.dsid)) });
    case 'webgetalbumview': {
      const input = AlbumViewBody.safeParse(body);
      if (!input.success) return bad('albumguids must be an array of strings');
      if (input.data.albumguids.length > MAX_ALBUMVIEW_GUIDS) return bad('too many albumguids');
      const wanted = new Set(input.data.albumguids);
      const albums = streams.visibleTo(caller.dsid).filter((a) => wanted.has(a.albumguid));
      return json({ callerId: caller.dsid, albums: albums.map((a) => albumEntry(a, caller.dsid)) });
    }
    default: {
      const input = ChangesBody.safeParse(body);
      if (!input.success) return bad('rootctag must be a string or null');
      const since =
        input.data.rootctag && /^\d+$/.test(input.data.rootctag) ? Number(input.data.rootctag) : 0;
      const changed = streams.visibleTo(caller.dsid).filter((a) => a.changedAt > since || since === 0);
      const owner = (a: SharedAlbum) => streams.people.byDsid(a.ownerDsid);
      return json({
        rootctag: String(streams.rootVersion),
        albums: [
          ...changed.map((a) => ({
            albumguid: a.albumguid,
            albumlocation: albumLocation(a),
            sharingtype: sharingTypeFor(a, caller.dsid),
            subscriptiondate: String(a.creationDate),
            fullname: owner(a) ? fullName(owner(a)!) : '',
          })),
          ...(since === 0
            ? []
            : streams.departedSince(caller.dsid, since).map((g) => ({ albumguid: g, delete: '1' }))),
        ],
      });
    }
  }
}

function albumLevel(name: string, body: object, album: SharedAlbum, call: SharedStreamsCall): SimReply {
  const { streams, caller } = call;
  const guid = (body as { albumguid?: unknown }).albumguid;
  // An album the caller cannot see (never joined, left, deleted): 404 (real status unknown, SA-20).
  if (guid !== undefined && guid !== album.albumguid) return notFound();
  if (!sharingTypeFor(album, caller.dsid)) return notFound();
  const ctx: RecordContext = {
    minter: call.minter,
    requestUuid: call.requestUuid,
    callerDsid: caller.dsid,
    people: streams.people,
  };
  switch (name) {
    case 'webgetassetcount':
      if (!AlbumBody.safeParse(body).success) return bad('albumguid is required');
      return json({ albumassetcount: album.items.length });
    case 'webgetassets': {
      const input = AssetsBody.safeParse(body);
      if (!input.success) return bad('albumguid is required; offset and limit are item indexes');
      const { albumctag, offset = 0, limit = album.items.length } = input.data;
      if (albumctag && albumctag !== albumCtag(album) && streams.quirks.staleCtag === 'reject') {
        return json({ errorCode: 'CONFLICT', reason: 'stale albumctag' }, 409);
      }
      // `limit` is the END of the half-open item range [offset, limit), not a page size.
      return json({ records: pageRecords(album, offset, Math.min(limit, album.items.length), ctx) });
    }
    case 'webasseturls': {
      const input = AssetUrlsBody.safeParse(body);
      if (!input.success) return bad('photoGuids must be an array of asset GUIDs');
      const wanted = new Set(input.data.photoGuids);
      const items: Record<string, unknown> = {};
      const locations: Record<string, unknown> = {};
      for (const item of album.items) {
        if (!wanted.has(item.assetGuid)) continue;
        for (const r of item.renditions) {
          const url = new URL(mintUrl(ctx, r).replace(/\$\{f\}/, encodeURIComponent(item.fileName)));
          items[r.fileChecksum] = {
            url_location: url.host,
            url_path: `${url.pathname}${url.search}`,
            url_expiry: new Date(Number(url.searchParams.get('e')) * 1000).toISOString(),
          };
          locations[url.host] = { scheme: 'https', hosts: [url.host] };
        }
      }
      return json({ items, locations });
    }
    default: {
      const input = CommentsBody.safeParse(body);
      if (!input.success) return bad('albumguid and assetguid are required');
      const item = album.items.find((i) => i.assetGuid === input.data.assetguid);
      return json({
        comments: (item?.comments ?? []).map((c) => {
          const author = streams.people.byDsid(c.authorDsid);
          return {
            commentposition: String(c.position),
            commenttype: c.type,
            comment: c.text,
            commenttimestamp: String(c.at),
            fullname: author ? fullName(author) : '',
            firstname: author?.firstName ?? '',
            createdbyme: flag(c.authorDsid === caller.dsid),
            candelete: flag(c.authorDsid === caller.dsid || album.ownerDsid === caller.dsid),
          };
        }),
      });
    }
  }
}
