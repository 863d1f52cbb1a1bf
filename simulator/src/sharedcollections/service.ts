/**
 * New-generation Shared Albums (docs/protocol/shared-albums.md#new-generation): one CloudKit zone
 * `SharedCollection-<UUID>` per album in `com.apple.photos.cloud`, listed in the owner's private
 * database and in each participant's shared database. None exist until the control API creates
 * them (`POST /__sim/sharedcollections/mutate`), so every other test sees today's account.
 *
 * What the research only infers (one unattributed fixture and one unattributed client, see
 * simulator/README.md): the share record's participant shape, that removed items stay as a
 * `CPLAsset` with `isDeleted = 1`, that items keep the full-resolution original (not a reduced
 * copy), and that the contributor is the record's `created.userRecordName`.
 *
 * Each zone keeps a change log of record names; a zone's sync token is its log position, so an
 * unchanged zone keeps a byte-identical token. Every change bumps the library's change counter
 * so `changes/database` reports the zone to a caller whose database token predates it.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { SimFamily, SimPerson } from '../identity.ts';
import type { LibraryOriginal } from '../library/library-original.ts';
import type { Clock, MediaSpec } from '../types.ts';

export type CollectionPerson = 'owner' | 'member';

export interface CollectionItem {
  readonly assetName: string;
  readonly masterName: string;
  readonly fileName: string;
  readonly contributor: CollectionPerson;
  readonly addedDate: number;
  readonly captureDate: number;
  readonly width: number;
  readonly height: number;
  readonly size: number;
  /** 28 characters of base64 (the CDN path and `fileChecksum`). */
  readonly fileChecksum: string;
  readonly referenceChecksum: string;
  /** Shaped like the library's fingerprint (the research's reading: the original is kept). */
  readonly fingerprint: string;
  readonly uti: string;
  /**
   * Posted from the owner's own library (`addItems` with `fromLibrary`): that photo's asset record
   * name. The item then carries the library master's name, fingerprint and `fileChecksum`, and the
   * CDN serves the library original's bytes for it.
   */
  readonly libraryAsset?: string;
  readonly media?: MediaSpec;
  /** The `CPLPost` the item was posted with (`assetBatchId`), when the post carries a caption. */
  readonly post?: CollectionPost;
  removed: boolean;
}

/**
 * A `CPLPost` ("activity" post: `caption`, `postTimestamp`): the items posted together carry its
 * `assetBatchId` (reading: one unattributed client's index `CPLAssetAndMasterInPost` filters on it).
 */
export interface CollectionPost {
  readonly recordName: string;
  readonly assetBatchId: string;
  readonly caption: string;
  readonly at: number;
  readonly author: CollectionPerson;
}

/** A `CPLTextComment` on an item (record shape: one unattributed client). */
export interface CollectionComment {
  readonly recordName: string;
  readonly assetName: string;
  readonly author: CollectionPerson;
  readonly text: string;
  readonly at: number;
}

export interface Collection {
  readonly uuid: string;
  readonly zoneName: string;
  readonly title: string;
  readonly owner: CollectionPerson;
  /** Participants other than the owner (accepted). */
  readonly participants: Set<CollectionPerson>;
  readonly createdAt: number;
  readonly items: CollectionItem[];
  readonly comments: CollectionComment[];
  readonly posts: CollectionPost[];
  /** Record names in change order; a record's live position is its last entry. */
  readonly log: string[];
  deleted: boolean;
  /** The library change counter at the last change (for `changes/database`). */
  lastSeq: number;
  /** Per person who left: the change counter of the departure. */
  readonly departures: Map<CollectionPerson, number>;
}

export const SHARE_RECORD_NAME = 'cloudkit.zoneshare';

const Who = z.enum(['owner', 'member']);
const Zone = z.string().min(1);
export const CollectionMutationSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('createAlbum'),
    title: z.string().min(1).max(200),
    owner: Who.default('owner'),
    participants: z.array(Who).default(['member']),
    items: z.number().int().min(0).max(5000).default(0),
  }),
  z.strictObject({ op: z.literal('deleteAlbum'), zoneName: Zone }),
  z.strictObject({
    op: z.literal('addItems'),
    zoneName: Zone,
    count: z.number().int().min(1).max(5000).default(1),
    contributor: Who.optional(),
    /**
     * Asset record names of photos in the owner's own library (PrimarySync) the owner posts: one
     * item each (`count` is then ignored), a copy of that photo's original (same master name,
     * fingerprint, `fileChecksum` and bytes: the research's best reading of the server-side copy).
     */
    fromLibrary: z.array(z.string().min(1)).min(1).max(100).optional(),
    /** Posted together with this caption: one `CPLPost` whose `assetBatchId` the items carry. */
    caption: z.string().min(1).max(1024).optional(),
  }),
  z.strictObject({ op: z.literal('removeItem'), zoneName: Zone, assetName: z.string().min(1) }),
  z.strictObject({ op: z.literal('leave'), zoneName: Zone, who: Who.default('member') }),
  z.strictObject({
    op: z.literal('comment'),
    zoneName: Zone,
    assetName: z.string().min(1),
    who: Who.default('member'),
    text: z.string().min(1).max(1024),
  }),
]);

export class CollectionMutationError extends Error {
  override readonly name = 'CollectionMutationError';
}

export class SharedCollections {
  readonly collections: Collection[] = [];
  readonly #byChecksum = new Map<string, CollectionItem>();
  readonly #seed: number;
  readonly #clock: Clock;
  readonly #family: SimFamily;
  /** Bumps the library's change counter and returns the new value. */
  readonly #bump: () => number;
  readonly #libraryOriginal: (assetRecordName: string) => LibraryOriginal | undefined;
  #serial = 0;

  constructor(options: {
    seed: number;
    clock: Clock;
    family: SimFamily;
    bump: () => number;
    libraryOriginal?: (assetRecordName: string) => LibraryOriginal | undefined;
  }) {
    this.#seed = options.seed;
    this.#clock = options.clock;
    this.#family = options.family;
    this.#bump = options.bump;
    this.#libraryOriginal = options.libraryOriginal ?? (() => undefined);
  }

  person(who: CollectionPerson): SimPerson {
    return this.#family[who];
  }

  /** Zones `who` sees in `database`: owned ones in private, joined ones in shared. */
  visible(who: CollectionPerson, database: 'private' | 'shared'): Collection[] {
    return this.collections.filter(
      (c) => !c.deleted && (database === 'private' ? c.owner === who : c.participants.has(who)),
    );
  }

  /** Zones that left `who`'s view in `database` after change `since` (deleted, or left). */
  departedSince(who: CollectionPerson, database: 'private' | 'shared', since: number): Collection[] {
    return this.collections.filter((c) => {
      if (database === 'private') return c.owner === who && c.deleted && c.lastSeq > since;
      const left = c.departures.get(who);
      if (left !== undefined) return left > since;
      return c.participants.has(who) && c.deleted && c.lastSeq > since;
    });
  }

  /** The collection `zoneName` names for `who` in `database`, if they may read it. */
  find(who: CollectionPerson, database: 'private' | 'shared', zoneName: unknown): Collection | undefined {
    return this.visible(who, database).find((c) => c.zoneName === zoneName);
  }

  resolve(fileChecksum: string): MediaSpec | undefined {
    const item = this.#byChecksum.get(fileChecksum);
    if (!item) return undefined;
    if (item.media) return item.media;
    return {
      uti: 'public.jpeg',
      size: item.size,
      seed: `sharedcollection:${fileChecksum}`,
      captureTime: item.captureDate,
      timeZoneOffsetSeconds: 0,
      width: item.width,
      height: item.height,
    };
  }

  mutate(input: unknown): Record<string, unknown> {
    const parsed = CollectionMutationSchema.safeParse(input ?? {});
    if (!parsed.success) {
      throw new CollectionMutationError(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    }
    const m = parsed.data;
    switch (m.op) {
      case 'createAlbum': {
        this.#serial += 1;
        const uuid = this.#uuid(`collection:${this.#serial}:${m.title}`);
        const collection: Collection = {
          uuid,
          zoneName: `SharedCollection-${uuid}`,
          title: m.title,
          owner: m.owner,
          participants: new Set(m.participants.filter((p) => p !== m.owner)),
          createdAt: this.#clock.now(),
          items: [],
          comments: [],
          posts: [],
          log: [SHARE_RECORD_NAME],
          deleted: false,
          lastSeq: 0,
          departures: new Map(),
        };
        for (let i = 0; i < m.items; i += 1) this.#addItem(collection, m.owner);
        collection.lastSeq = this.#bump();
        this.collections.push(collection);
        return { op: m.op, zoneName: collection.zoneName, items: collection.items.map((i) => i.assetName) };
      }
      case 'deleteAlbum': {
        const c = this.#live(m.zoneName);
        c.deleted = true;
        for (const item of c.items) this.#forget(item);
        c.lastSeq = this.#bump();
        return { op: m.op, zoneName: c.zoneName };
      }
      case 'addItems': {
        const c = this.#live(m.zoneName);
        const contributor = m.contributor ?? c.owner;
        if (contributor !== c.owner && !c.participants.has(contributor)) {
          throw new CollectionMutationError(`${contributor} is not in ${m.zoneName}`);
        }
        const added: string[] = [];
        let post: CollectionPost | undefined;
        if (m.caption !== undefined) {
          this.#serial += 1;
          post = {
            recordName: this.#uuid(`${c.uuid}:post:${this.#serial}`),
            assetBatchId: this.#uuid(`${c.uuid}:batch:${this.#serial}`),
            caption: m.caption,
            at: this.#clock.now(),
            author: contributor,
          };
          c.posts.push(post);
          c.log.push(post.recordName);
        }
        if (m.fromLibrary) {
          // Only the library's own person can post from it (the simulator's library is the owner's).
          if (contributor !== 'owner')
            throw new CollectionMutationError('only the owner posts from the library');
          const originals = m.fromLibrary.map((name) => {
            const original = this.#libraryOriginal(name);
            if (!original)
              throw new CollectionMutationError(`no live photo ${name} in the owner's PrimarySync`);
            return original;
          });
          for (const original of originals)
            added.push(this.#addItem(c, contributor, original, post).assetName);
        } else {
          for (let i = 0; i < m.count; i += 1)
            added.push(this.#addItem(c, contributor, undefined, post).assetName);
        }
        c.lastSeq = this.#bump();
        return { op: m.op, zoneName: c.zoneName, added };
      }
      case 'removeItem': {
        const c = this.#live(m.zoneName);
        const item = c.items.find((i) => i.assetName === m.assetName && !i.removed);
        if (!item) throw new CollectionMutationError(`no item ${m.assetName} in ${m.zoneName}`);
        item.removed = true;
        this.#forget(item);
        c.log.push(item.assetName);
        c.lastSeq = this.#bump();
        return { op: m.op, zoneName: c.zoneName, removed: item.assetName };
      }
      case 'leave': {
        const c = this.#live(m.zoneName);
        if (m.who === c.owner) throw new CollectionMutationError('the owner cannot leave; delete the album');
        if (!c.participants.delete(m.who))
          throw new CollectionMutationError(`${m.who} is not in ${m.zoneName}`);
        // The share record's participants changed: the owner's next read sees it.
        c.log.push(SHARE_RECORD_NAME);
        c.lastSeq = this.#bump();
        c.departures.set(m.who, c.lastSeq);
        return { op: m.op, zoneName: c.zoneName, left: m.who };
      }
      case 'comment': {
        const c = this.#live(m.zoneName);
        if (!c.items.some((i) => i.assetName === m.assetName && !i.removed)) {
          throw new CollectionMutationError(`no item ${m.assetName} in ${m.zoneName}`);
        }
        if (m.who !== c.owner && !c.participants.has(m.who)) {
          throw new CollectionMutationError(`${m.who} is not in ${m.zoneName}`);
        }
        this.#serial += 1;
        const comment: CollectionComment = {
          recordName: this.#uuid(`${c.uuid}:comment:${this.#serial}`),
          assetName: m.assetName,
          author: m.who,
          text: m.text,
          at: this.#clock.now(),
        };
        c.comments.push(comment);
        c.log.push(comment.recordName);
        c.lastSeq = this.#bump();
        return { op: m.op, zoneName: c.zoneName, recordName: comment.recordName };
      }
    }
  }

  /** Everything, for `GET /__sim/sharedcollections` (deleted albums included, flagged). */
  groundTruth(): Record<string, unknown> {
    const person = (who: CollectionPerson) => {
      const p = this.person(who);
      return { who, userRecordName: p.userRecordName, name: `${p.firstName} ${p.lastName}` };
    };
    return {
      albums: this.collections.map((c) => ({
        zoneName: c.zoneName,
        title: c.title,
        deleted: c.deleted,
        owner: person(c.owner),
        participants: [...c.participants].map(person),
        left: [...c.departures.keys()].map(person),
        createdAt: c.createdAt,
        items: c.items
          .filter((i) => !i.removed)
          .map((i) => ({
            assetName: i.assetName,
            masterName: i.masterName,
            fileName: i.fileName,
            contributor: person(i.contributor),
            addedDate: i.addedDate,
            captureDate: i.captureDate,
            width: i.width,
            height: i.height,
            size: i.size,
            fileChecksum: i.fileChecksum,
            ...(i.libraryAsset === undefined ? {} : { libraryAsset: i.libraryAsset }),
            ...(i.post === undefined ? {} : { caption: i.post.caption }),
            comments: c.comments
              .filter((x) => x.assetName === i.assetName)
              .map((x) => ({ author: person(x.author), text: x.text, at: x.at })),
          })),
      })),
    };
  }

  #addItem(
    c: Collection,
    contributor: CollectionPerson,
    original?: LibraryOriginal,
    post?: CollectionPost,
  ): CollectionItem {
    this.#serial += 1;
    const label = `${c.uuid}:item:${this.#serial}`;
    const h = this.#hex(label);
    const n = Number.parseInt(h.slice(0, 6), 16);
    const copy: Partial<CollectionItem> = original
      ? {
          masterName: original.masterName,
          fileName: original.fileName,
          captureDate: original.captureTime,
          width: original.width,
          height: original.height,
          size: original.size,
          fileChecksum: original.fileChecksum,
          referenceChecksum: original.referenceChecksum,
          fingerprint: original.masterName,
          uti: original.uti,
          libraryAsset: original.assetRecordName,
          media: original.media,
        }
      : {};
    const item: CollectionItem = {
      assetName: this.#uuid(`${label}:asset`),
      masterName: this.#checksum(`${label}:master`).replace(/[+/=]/g, '').slice(0, 28),
      fileName: `IMG_${String(1000 + (n % 9000))}.JPG`,
      contributor,
      addedDate: this.#clock.now(),
      captureDate: Date.UTC(2026, 6, 1) + (n % 10_000) * 60_000,
      // Full resolution (the research's reading, not a 2,048 px copy).
      width: 4032,
      height: 3024,
      size: 20_000 + (n % 40_000),
      fileChecksum: this.#checksum(`${label}:file`),
      referenceChecksum: this.#checksum(`${label}:reference`),
      fingerprint: this.#checksum(`${label}:fingerprint`),
      uti: 'public.jpeg',
      ...copy,
      ...(post === undefined ? {} : { post }),
      removed: false,
    };
    c.items.push(item);
    c.log.push(item.masterName, item.assetName);
    this.#byChecksum.set(item.fileChecksum, item);
    return item;
  }

  /** The CDN stops serving a checksum once no live item of any album has it. */
  #forget(item: CollectionItem): void {
    const still = this.collections.some(
      (c) =>
        !c.deleted && c.items.some((i) => i !== item && !i.removed && i.fileChecksum === item.fileChecksum),
    );
    if (!still) this.#byChecksum.delete(item.fileChecksum);
  }

  #live(zoneName: string): Collection {
    const c = this.collections.find((x) => x.zoneName === zoneName && !x.deleted);
    if (!c) throw new CollectionMutationError(`no album ${zoneName}`);
    return c;
  }

  #hex(label: string): string {
    return createHash('sha256')
      .update(`icloud-s3-simulator:${this.#seed}:sharedcollections:${label}`)
      .digest('hex');
  }

  #uuid(label: string): string {
    const h = this.#hex(label).toUpperCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  #checksum(label: string): string {
    return Buffer.concat([
      Buffer.from([0x01]),
      Buffer.from(this.#hex(label), 'hex').subarray(0, 20),
    ]).toString('base64');
  }
}
