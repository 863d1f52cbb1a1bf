/**
 * The shared albums of every simulated person, and the changes the control API makes to them
 * (`POST /__sim/sharedstreams/mutate`). Each change bumps the album's ctag and the service's root
 * version; the CDN resolves the renditions of items that still exist.
 */
import * as z from 'zod';
import type { SimFamily } from '../identity.ts';
import type { Clock, MediaSpec } from '../types.ts';
import { defaultAlbums, generateAlbum, generateItem } from './generate.ts';
import {
  albumCtag,
  albumLocation,
  type IdentifiedRendition,
  type SharedAlbum,
  type SharedItem,
  sharingTypeFor,
} from './model.ts';
import { fullName, type SharedPeople, type SharedPerson, sharedPeople } from './people.ts';

export const sharedStreamsQuirksSchema = z.strictObject({
  /** SA-9: likes and comments change `albumctag` too (the research's reading); false: only items do. */
  ctagCountsLikes: z.boolean(),
  /** SA-21: what `webgetassets` does with a stale `albumctag`: answer with current data, or 409. */
  staleCtag: z.enum(['accept', 'reject']),
  /** SA-5: where a 330 names the right host: JSON body and header (default), or only one of them. */
  redirectIn: z.enum(['both', 'body', 'header']),
});
export type SharedStreamsQuirks = z.infer<typeof sharedStreamsQuirksSchema>;
export const DEFAULT_SHARED_STREAMS_QUIRKS: SharedStreamsQuirks = {
  ctagCountsLikes: true,
  staleCtag: 'accept',
  redirectIn: 'both',
};

const Who = z.enum(['owner', 'member', 'grandma', 'friend']);
const Guid = z.string().min(1);
export const SharedMutationSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('addAlbum'),
    name: z.string().min(1),
    owner: Who.default('owner'),
    subscribers: z.array(Who).default(['member']),
    items: z.number().int().min(0).max(5000).default(0),
    isPublic: z.boolean().default(false),
    allowContributions: z.boolean().default(true),
  }),
  z.strictObject({ op: z.literal('deleteAlbum'), albumguid: Guid }),
  z.strictObject({
    op: z.literal('addItems'),
    albumguid: Guid,
    count: z.number().int().min(1).max(5000).default(1),
    contributor: Who.optional(),
    kind: z.enum(['photo', 'panorama', 'video']).optional(),
    /** What the contributor wrote with each of these items (a CPLAsset `caption`, reading). */
    caption: z.string().min(1).max(1024).optional(),
  }),
  z.strictObject({ op: z.literal('removeItem'), albumguid: Guid, assetGuid: Guid }),
  z.strictObject({ op: z.literal('leave'), albumguid: Guid, who: Who.default('owner') }),
  z.strictObject({ op: z.literal('like'), albumguid: Guid, assetGuid: Guid, who: Who.default('member') }),
  z.strictObject({
    op: z.literal('comment'),
    albumguid: Guid,
    assetGuid: Guid,
    who: Who.default('member'),
    text: z.string().min(1).max(1024),
  }),
]);
export type SharedMutation = z.infer<typeof SharedMutationSchema>;

export class SharedMutationError extends Error {
  override readonly name = 'SharedMutationError';
}

/** Apple's per-album item cap (support.apple.com/108916). */
export const MAX_ITEMS_PER_ALBUM = 5000;

export class SharedStreams {
  readonly people: SharedPeople;
  readonly albums: SharedAlbum[];
  quirks: SharedStreamsQuirks = { ...DEFAULT_SHARED_STREAMS_QUIRKS };
  /** Bumped by every change; `getchanges`' `rootctag` names it. */
  rootVersion = 1;
  /** Per dsid: albums that person left, with the root version of the departure. */
  readonly #departures = new Map<string, Map<string, number>>();
  readonly #byChecksum = new Map<string, { item: SharedItem; rendition: IdentifiedRendition }>();
  readonly #seed: number;
  readonly #scale: number;
  readonly #clock: Clock;
  #serial = 0;

  constructor(options: { seed: number; family: SimFamily; clock: Clock; mediaScale?: number }) {
    this.#seed = options.seed;
    this.#scale = options.mediaScale ?? 1;
    this.#clock = options.clock;
    this.people = sharedPeople(options.seed, options.family);
    // A fixed anchor (not the clock) keeps creation dates identical across runs of one seed.
    const anchor = Date.UTC(2026, 5, 1) + (options.seed % 1000) * 60_000;
    this.albums = defaultAlbums(options.seed, this.#scale, this.people, anchor);
    for (const album of this.albums) for (const item of album.items) this.#index(item);
  }

  /** Albums `dsid` owns or has joined (never pending invitations nor deleted or left albums). */
  visibleTo(dsid: string): SharedAlbum[] {
    return this.albums.filter((a) => sharingTypeFor(a, dsid) !== undefined);
  }

  find(albumguid: string): SharedAlbum | undefined {
    return this.albums.find((a) => a.albumguid === albumguid);
  }

  byLocationToken(token: string): SharedAlbum | undefined {
    return this.albums.find((a) => a.locationToken === token);
  }

  /** Albums that left `dsid`'s view after root version `since`: deleted ones and ones they left. */
  departedSince(dsid: string, since: number): string[] {
    const out = new Set<string>();
    for (const [guid, at] of this.#departures.get(dsid) ?? []) if (at > since) out.add(guid);
    for (const a of this.albums) {
      if (a.deleted && a.changedAt > since && (a.ownerDsid === dsid || a.subscribers.has(dsid)))
        out.add(a.albumguid);
    }
    return [...out];
  }

  /** What the CDN serves for a rendition's `fileChecksum`; undefined once its item is gone. */
  resolve(fileChecksum: string): MediaSpec | undefined {
    const hit = this.#byChecksum.get(fileChecksum);
    if (!hit) return undefined;
    const { item, rendition } = hit;
    return {
      uti: rendition.uti,
      size: rendition.size,
      seed: `sharedstreams:${fileChecksum}`,
      captureTime: item.captureDate,
      timeZoneOffsetSeconds: 0,
      width: rendition.width,
      height: rendition.height,
    };
  }

  mutate(input: unknown): Record<string, unknown> {
    const parsed = SharedMutationSchema.safeParse(input ?? {});
    if (!parsed.success) {
      throw new SharedMutationError(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    }
    const m = parsed.data;
    switch (m.op) {
      case 'addAlbum': {
        this.#serial += 1;
        const owner = this.#person(m.owner);
        const subscribers = m.subscribers.map((w) => this.#person(w).dsid).filter((d) => d !== owner.dsid);
        const album = generateAlbum(
          this.#seed,
          this.#scale,
          {
            label: `added:${this.#serial}:${m.name}`,
            name: m.name,
            owner,
            subscribers,
            contributors: [owner.dsid, ...subscribers],
            items: m.items,
            isPublic: m.isPublic,
            allowContributions: m.allowContributions,
            createdAt: this.#clock.now(),
          },
          this.#bump(),
        );
        this.albums.push(album);
        for (const item of album.items) this.#index(item);
        return {
          op: m.op,
          albumguid: album.albumguid,
          albumctag: albumCtag(album),
          items: album.items.length,
        };
      }
      case 'deleteAlbum': {
        const album = this.#live(m.albumguid);
        album.deleted = true;
        album.changedAt = this.#bump();
        for (const item of album.items) this.#unindex(item);
        return { op: m.op, albumguid: album.albumguid };
      }
      case 'addItems': {
        const album = this.#live(m.albumguid);
        if (album.items.length + m.count > MAX_ITEMS_PER_ALBUM) {
          throw new SharedMutationError(`an album holds at most ${MAX_ITEMS_PER_ALBUM} items`);
        }
        const contributor = m.contributor ? this.#person(m.contributor).dsid : album.ownerDsid;
        const added: string[] = [];
        for (let i = 0; i < m.count; i += 1) {
          this.#serial += 1;
          const item = generateItem(this.#seed, this.#scale, {
            label: `${album.albumguid}:added:${this.#serial}`,
            contributorDsid: contributor,
            addedDate: this.#clock.now(),
            ...(m.kind ? { kind: m.kind } : {}),
          });
          album.items.push(m.caption === undefined ? item : { ...item, caption: m.caption });
          this.#index(item);
          added.push(item.assetGuid);
        }
        this.#changed(album);
        return { op: m.op, albumguid: album.albumguid, albumctag: albumCtag(album), added };
      }
      case 'removeItem': {
        const album = this.#live(m.albumguid);
        const at = album.items.findIndex((i) => i.assetGuid === m.assetGuid);
        if (at === -1) throw new SharedMutationError(`no item ${m.assetGuid} in album ${m.albumguid}`);
        const [item] = album.items.splice(at, 1);
        this.#unindex(item!);
        this.#changed(album);
        return { op: m.op, albumguid: album.albumguid, albumctag: albumCtag(album), removed: m.assetGuid };
      }
      case 'leave': {
        const album = this.#live(m.albumguid);
        const who = this.#person(m.who);
        if (album.ownerDsid === who.dsid)
          throw new SharedMutationError('the owner cannot leave; delete the album');
        if (!album.subscribers.delete(who.dsid)) {
          throw new SharedMutationError(`${fullName(who)} does not subscribe to ${m.albumguid}`);
        }
        const left = this.#departures.get(who.dsid) ?? new Map<string, number>();
        left.set(album.albumguid, this.#bump());
        this.#departures.set(who.dsid, left);
        return { op: m.op, albumguid: album.albumguid, left: who.dsid };
      }
      case 'like':
      case 'comment': {
        const album = this.#live(m.albumguid);
        const item = album.items.find((i) => i.assetGuid === m.assetGuid);
        if (!item) throw new SharedMutationError(`no item ${m.assetGuid} in album ${m.albumguid}`);
        const who = this.#person(m.who);
        if (m.op === 'like') {
          if (item.likes.has(who.dsid)) throw new SharedMutationError(`${fullName(who)} already likes it`);
          item.likes.add(who.dsid);
        }
        item.comments.push({
          position: item.comments.length + 1,
          authorDsid: who.dsid,
          type: m.op === 'like' ? '1' : '0',
          text: m.op === 'comment' ? m.text : '',
          at: this.#clock.now(),
        });
        item.changeTag += 1;
        if (this.quirks.ctagCountsLikes) this.#changed(album);
        return { op: m.op, albumguid: album.albumguid, albumctag: albumCtag(album), likes: item.likes.size };
      }
    }
  }

  /** Everything, for `GET /__sim/sharedstreams` (deleted albums included, flagged). */
  groundTruth(): Record<string, unknown> {
    const person = (dsid: string) => {
      const p = this.people.byDsid(dsid);
      return { dsid, name: p ? fullName(p) : dsid, ...(p?.appleId ? { appleId: p.appleId } : {}) };
    };
    return {
      rootctag: `${this.rootVersion}`,
      people: this.people.all().map((p) => ({ ...person(p.dsid), partition: p.partition })),
      albums: this.albums.map((a) => ({
        albumguid: a.albumguid,
        name: a.name,
        deleted: a.deleted,
        albumctag: albumCtag(a),
        albumlocation: albumLocation(a),
        owner: person(a.ownerDsid),
        subscribers: [...a.subscribers].map(person),
        pending: [...a.pending].map(person),
        isPublic: a.isPublic,
        allowContributions: a.allowContributions,
        creationDate: a.creationDate,
        items: a.items.map((i) => ({
          assetGuid: i.assetGuid,
          masterName: i.masterName,
          fileName: i.fileName,
          ...(i.caption === undefined ? {} : { caption: i.caption }),
          kind: i.kind,
          contributor: person(i.contributorDsid),
          addedDate: i.addedDate,
          captureDate: i.captureDate,
          original: { width: i.originalWidth, height: i.originalHeight },
          ...(i.durationSeconds === undefined ? {} : { durationSeconds: i.durationSeconds }),
          renditions: i.renditions.map((r) => ({
            field: r.field,
            uti: r.uti,
            width: r.width,
            height: r.height,
            size: r.size,
            fileChecksum: r.fileChecksum,
          })),
          likes: [...i.likes].map(person),
          comments: i.comments.map((c) => ({ ...c, author: person(c.authorDsid) })),
        })),
      })),
    };
  }

  #person(who: z.infer<typeof Who>): SharedPerson {
    return this.people[who];
  }

  #live(albumguid: string): SharedAlbum {
    const album = this.find(albumguid);
    if (!album || album.deleted) throw new SharedMutationError(`no album ${albumguid}`);
    return album;
  }

  #bump(): number {
    this.rootVersion += 1;
    return this.rootVersion;
  }

  #changed(album: SharedAlbum): void {
    album.version += 1;
    album.changedAt = this.#bump();
  }

  #index(item: SharedItem): void {
    for (const rendition of item.renditions)
      this.#byChecksum.set(rendition.fileChecksum, { item, rendition });
  }

  #unindex(item: SharedItem): void {
    for (const rendition of item.renditions) this.#byChecksum.delete(rendition.fileChecksum);
  }
}
