/**
 * Library changes, each producing exactly the delta records of docs/protocol/records.md#lifecycle-in-the-delta, docs/protocol/records.md#shared-library (S97-S107 in docs/protocol/simulator-contract.md).
 * Every op is replayable: given the same library and the same `at`, it allocates the same slots and
 * appends the same log entries, which is how the op log under `stateDir` restores tokens after a
 * restart (S84 in docs/protocol/simulator-contract.md#change-feeds).
 */
import * as z from 'zod';
import { Catalog } from './catalog.ts';
import type { LibraryCore } from './core.ts';
import type { RecordKey } from './history.ts';
import {
  ASSET_KINDS,
  type AssetKind,
  MEMBER_PRIMARY,
  OWNER_PRIMARY,
  type Person,
  SHARED_ZONE,
  type SlotPlan,
  type ZoneKey,
} from './model.ts';
import { ENCODING_OVERRIDES, ITEM_TYPE_OVERRIDES } from './names.ts';
import { hashInts, Rng } from './prng.ts';

const person = z.enum(['owner', 'member']);
const assetOp = z.object({
  op: z.enum([
    'trash',
    'restore',
    'purge',
    'hide',
    'unhide',
    'favorite',
    'unfavorite',
    'edit',
    'revert-edit',
    'duplicate',
    'share',
    'unshare',
    'shared-album-add',
    'move-to-personal',
    'shared-delete',
  ]),
  assetRecordName: z.string(),
  by: person.optional(),
  /** `trash` in the Shared Library: 1 deleted (default), 0 moved to a personal library. */
  trashReason: z.union([z.literal(0), z.literal(1)]).optional(),
  adjustmentType: z.string().optional(),
  auto: z.boolean().optional(),
  /** Who made the change through CloudKit (`records/modify`), for the `modified` envelope. */
  via: z.enum(['control', 'web']).optional(),
});

/** What `add` can make: any generated kind, a random photo, or an edited photo or video. */
export const ADD_KINDS = ['photo', ...ASSET_KINDS, 'edited', 'edited-video'] as const;

const addOp = z.object({
  op: z.literal('add'),
  kind: z.enum(ADD_KINDS),
  count: z.number().int().min(1).max(100_000).default(1),
  zone: z.enum(['primary', 'shared']).optional(),
  contributor: person.optional(),
  fileName: z.string().optional(),
  filenameEncoding: z.enum(['ENCRYPTED_BYTES', ...ENCODING_OVERRIDES] as [string, ...string[]]).optional(),
  itemTypeOverride: z.enum(ITEM_TYPE_OVERRIDES as [string, ...string[]]).optional(),
  noDownloadUrl: z.boolean().optional(),
  sizeBytes: z
    .number()
    .int()
    .min(1)
    .max(2 ** 45)
    .optional(),
  captureTime: z.number().int().optional(),
  timeZoneOffsetSeconds: z.number().int().min(-50_400).max(50_400).optional(),
  hidden: z.boolean().optional(),
  favorite: z.boolean().optional(),
  album: z.string().optional(),
  liveClassic: z.boolean().optional(),
});

const albumMemberOp = z.object({
  op: z.enum(['album-add', 'album-remove']),
  assetRecordName: z.string(),
  album: z.string(),
  via: z.enum(['control', 'web']).optional(),
});

const albumOp = z.union([
  z
    .object({
      op: z.literal('create-album'),
      name: z.string(),
      /** A folder (record name or name) to create it in; absent: the top level. */
      parent: z.string().optional(),
      /** Create a folder (`albumType` 3) instead of an album. */
      folder: z.boolean().optional(),
    })
    .strict(),
  z.object({ op: z.literal('rename-album'), album: z.string(), name: z.string() }).strict(),
  z.object({ op: z.literal('delete-album'), album: z.string() }).strict(),
  z
    .object({
      op: z.literal('move-album'),
      album: z.string(),
      /** The folder to move it into; `null`: the top level. */
      parent: z.string().nullable(),
      /** Its new position among its siblings; absent: after the last one. */
      position: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({
      op: z.literal('reorder-album'),
      album: z.string(),
      /** Every member of the album, in the new order. */
      assetRecordNames: z.array(z.string()),
    })
    .strict(),
]);

/** Strict: our own control input. */
export const mutateOpSchema = z.union([addOp.strict(), assetOp.strict(), albumMemberOp.strict(), albumOp]);
export type MutateOp = z.input<typeof mutateOpSchema>;
type ParsedOp = z.output<typeof mutateOpSchema>;

/** A record the op logged. */
export interface ChangedRecord {
  readonly zone: ZoneKey;
  readonly key: RecordKey;
}

export interface MutationOutcome {
  /** New CPLAsset slots (add, duplicate, share, move-to-personal). */
  readonly newSlots: number[];
  /** Existing slots the op changed. */
  readonly touchedSlots: number[];
  readonly changed: ChangedRecord[];
}

export class MutationError extends Error {
  override readonly name = 'MutationError';
}

export function parseMutateOp(input: unknown): ParsedOp {
  const parsed = mutateOpSchema.safeParse(input);
  if (!parsed.success)
    throw new MutationError(`invalid op: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

export function applyMutation(core: LibraryCore, op: ParsedOp, at: number): MutationOutcome {
  const m = new Mutation(core, at);
  m.run(op);
  core.version += 1;
  return { newSlots: m.newSlots, touchedSlots: m.touchedSlots, changed: m.changed };
}

class Mutation {
  readonly newSlots: number[] = [];
  readonly touchedSlots: number[] = [];
  readonly changed: ChangedRecord[] = [];
  readonly #core: LibraryCore;
  readonly #at: number;
  readonly #infoZones = new Set<ZoneKey>();
  readonly #quotaPeople = new Set<Person>();

  constructor(core: LibraryCore, at: number) {
    this.#core = core;
    this.#at = at;
  }

  get #s() {
    return this.#core.state;
  }

  run(op: ParsedOp): void {
    switch (op.op) {
      case 'add':
        this.#add(op);
        break;
      case 'album-add':
      case 'album-remove':
        this.#albumMembership(op.op, this.#slot(op.assetRecordName), this.#album(op.album));
        break;
      case 'create-album':
        this.#createAlbum(op.name, op.parent, op.folder === true);
        break;
      case 'move-album':
        this.#moveAlbum(op.album, op.parent, op.position);
        break;
      case 'reorder-album':
        this.#reorderAlbum(op.album, op.assetRecordNames);
        break;
      case 'rename-album': {
        const album = this.#s.albums[this.#album(op.album)]!;
        album.name = op.name;
        this.#touchAlbum(album.index);
        break;
      }
      case 'delete-album':
        this.#deleteAlbum(this.#album(op.album));
        break;
      default:
        this.#assetOp(op);
    }
    this.#flush();
  }

  #log(zone: ZoneKey, key: RecordKey, updatesInfo = true): void {
    this.#core.append(zone, key, this.#at);
    this.changed.push({ zone, key });
    if (updatesInfo && key.t !== 'info' && key.t !== 'quota') this.#infoZones.add(zone);
  }

  /** CPLLibraryInfo for every zone touched; quotas for Shared Library contributors (S101, S107 in docs/protocol/simulator-contract.md). */
  #flush(): void {
    for (const zone of [...this.#infoZones].sort()) {
      this.#core.append(zone, { t: 'info' }, this.#at);
      this.changed.push({ zone, key: { t: 'info' } });
      if (zone === SHARED_ZONE) {
        const people = this.#quotaPeople.size > 0 ? [...this.#quotaPeople] : (['owner'] as Person[]);
        for (const who of people.sort()) {
          this.#core.append(zone, { t: 'quota', person: who }, this.#at);
          this.changed.push({ zone, key: { t: 'quota', person: who } });
        }
      }
    }
  }

  #slot(assetRecordName: string): number {
    const slot = this.#core.slotOfAssetName(assetRecordName);
    if (slot === undefined || this.#s.isPurged(slot)) throw new MutationError('unknown assetRecordName');
    return slot;
  }

  #album(ref: string): number {
    const album = this.#core.albumIndex(ref);
    if (album === undefined) throw new MutationError('unknown album');
    return album;
  }

  #newSlot(plan: SlotPlan): number {
    const s = this.#s;
    const slot = s.nextSlot;
    s.nextSlot += 1;
    s.added.set(slot, plan);
    s.addedByZone[plan.zone].push(slot);
    if (plan.masterSlot !== slot) {
      const refs = s.extraRefs.get(plan.masterSlot) ?? [];
      refs.push(slot);
      s.extraRefs.set(plan.masterSlot, refs);
    }
    const state = s.mutable(slot);
    state.modifiedAt = this.#at;
    this.newSlots.push(slot);
    return slot;
  }

  #touch(slot: number, device?: string): void {
    const state = this.#s.mutable(slot);
    state.modifiedAt = this.#at;
    if (device) state.modifiedDevice = device;
    this.touchedSlots.push(slot);
  }

  #add(op: Extract<ParsedOp, { op: 'add' }>): void {
    const shared = op.zone === 'shared';
    const contributor: Person = op.contributor ?? 'owner';
    const rng = new Rng(this.#core.seed, this.#s.nextSlot, 0xadd);
    const burstId =
      op.kind === 'burst'
        ? `${rng.bytes(4).toString('hex')}-${rng.bytes(2).toString('hex')}-4${rng.bytes(2).toString('hex').slice(1)}-A${rng.bytes(2).toString('hex').slice(1)}-${rng.bytes(6).toString('hex')}`.toUpperCase()
        : undefined;
    for (let i = 0; i < op.count; i += 1) {
      const kind = kindOfAdd(op.kind, hashInts(this.#core.seed, this.#s.nextSlot));
      const edited =
        op.kind === 'edited' || op.kind === 'edited-video' || kind === 'slomo' || kind === 'screenshot';
      const captureTime = op.captureTime ?? this.#at - 60_000 * (op.count - i);
      const base = {
        kind,
        ...(op.fileName !== undefined ? { fileName: op.fileName } : {}),
        ...(op.filenameEncoding
          ? { filenameEncoding: op.filenameEncoding as SlotPlan['filenameEncoding'] }
          : {}),
        ...(op.itemTypeOverride
          ? { itemTypeOverride: op.itemTypeOverride as SlotPlan['itemTypeOverride'] }
          : {}),
        ...(op.noDownloadUrl ? { noDownloadUrl: 'JPEGThumb' as const } : {}),
        ...(op.sizeBytes !== undefined ? { sizeBytes: op.sizeBytes } : {}),
        ...(op.timeZoneOffsetSeconds !== undefined
          ? { timeZoneOffsetSeconds: op.timeZoneOffsetSeconds }
          : {}),
        ...(op.liveClassic ? { liveClassic: true } : {}),
        ...(burstId ? { burstId, burstPick: i === 0 } : {}),
        captureTime: kind === 'burst' ? captureTime + i * 100 : captureTime,
        addedTime: this.#at,
        edited,
        hidden: op.hidden === true,
        favorite: op.favorite === true,
      };
      const home: ZoneKey = contributor === 'member' ? MEMBER_PRIMARY : OWNER_PRIMARY;
      let personal: number | undefined;
      // A new photo in the Shared Library taken by the owner also lands in the owner's PrimarySync (docs/protocol/records.md#shared-library).
      if (!shared || contributor === 'owner') {
        const slot = this.#s.nextSlot;
        personal = this.#newSlot({ ...base, zone: home, masterSlot: slot });
        this.#createState(personal);
        this.#log(home, { t: 'master', slot: personal });
        this.#log(home, { t: 'asset', slot: personal });
        if (op.album !== undefined && !shared)
          this.#albumMembership('album-add', personal, this.#album(op.album));
      }
      if (shared) {
        const slot = this.#s.nextSlot;
        const sharedSlot = this.#newSlot({
          ...base,
          zone: SHARED_ZONE,
          masterSlot: personal ?? slot,
          contributor,
        });
        this.#createState(sharedSlot);
        this.#quotaPeople.add(contributor);
        this.#log(SHARED_ZONE, { t: 'master', slot: personal ?? sharedSlot });
        this.#log(SHARED_ZONE, { t: 'asset', slot: sharedSlot });
      }
    }
  }

  #createState(slot: number): void {
    const state = this.#s.mutable(slot);
    state.modifiedAt = this.#at;
    const plan = this.#s.plan(slot);
    state.modifiedBy = plan.contributor ?? (plan.zone === MEMBER_PRIMARY ? 'member' : 'owner');
  }

  #assetOp(op: Extract<ParsedOp, { assetRecordName: string; op: string }>): void {
    const slot = this.#slot(op.assetRecordName);
    const s = this.#s;
    const zone = s.zoneOf(slot);
    const master = s.masterOf(slot);
    const device = op.via === 'web' ? '2' : undefined;
    const state = () => s.mutable(slot);
    const logAsset = () => {
      this.#touch(slot, device);
      this.#log(zone, { t: 'asset', slot });
    };
    const by: Person = 'by' in op && op.by ? op.by : 'owner';
    switch (op.op) {
      case 'trash':
      case 'shared-delete': {
        if (op.op === 'shared-delete' && zone !== SHARED_ZONE)
          throw new MutationError('not in the Shared Library');
        if (s.isTrashed(slot)) throw new MutationError('already in Recently Deleted');
        const st = state();
        st.trashedAt = this.#at;
        st.expunged = false;
        if (zone === SHARED_ZONE) {
          st.trashReason = op.op === 'shared-delete' ? 1 : (op.trashReason ?? 1);
          st.trashedBy = by;
          this.#quotaPeople.add(by);
        }
        s.trashed.add(slot);
        logAsset();
        if (s.masterTrash(master, zone)) this.#log(zone, { t: 'master', slot: master });
        return;
      }
      case 'restore': {
        if (!s.isTrashed(slot)) throw new MutationError('not in Recently Deleted');
        const st = state();
        st.trashedAt = undefined;
        st.expunged = undefined;
        st.trashReason = undefined;
        st.trashedBy = undefined;
        st.restored = true;
        s.trashed.delete(slot);
        // Only the CPLAsset is re-sent (S98 in docs/protocol/simulator-contract.md#records-and-library); the master's isDeleted clears silently.
        logAsset();
        return;
      }
      case 'purge': {
        const st = state();
        st.purged = true;
        s.trashed.delete(slot);
        this.touchedSlots.push(slot);
        this.#log(zone, { t: 'asset', slot });
        if (!s.masterExists(master, zone)) this.#log(zone, { t: 'master', slot: master });
        for (const album of s.albumsOf(slot)) this.#log(zone, { t: 'relation', slot, album });
        if (zone === SHARED_ZONE) this.#quotaPeople.add(s.contributorOf(slot) ?? 'owner');
        return;
      }
      case 'hide':
      case 'unhide':
        state().hidden = op.op === 'hide';
        logAsset();
        return;
      case 'favorite':
      case 'unfavorite':
        state().favorite = op.op === 'favorite';
        logAsset();
        return;
      case 'edit': {
        const st = state();
        st.edit = {
          adjustmentType: op.adjustmentType ?? Catalog.adjustmentTypeFor(s.kindOf(slot)),
          generation: (st.edit?.generation ?? 0) + 1,
          at: this.#at,
        };
        st.editReverted = false;
        logAsset();
        return;
      }
      case 'revert-edit': {
        const st = state();
        if (!st.edit) throw new MutationError('asset has no edit');
        st.edit = undefined;
        st.editReverted = true;
        logAsset();
        return;
      }
      case 'duplicate': {
        const plan = s.plan(slot);
        const copy = this.#newSlot({
          kind: plan.kind,
          zone,
          masterSlot: master,
          ...(plan.contributor ? { contributor: plan.contributor } : {}),
          addedTime: this.#at,
        });
        this.#createState(copy);
        this.#log(zone, { t: 'asset', slot: copy });
        this.#log(zone, { t: 'master', slot: master });
        return;
      }
      case 'share': {
        if (zone !== OWNER_PRIMARY && zone !== MEMBER_PRIMARY)
          throw new MutationError('not a personal photo');
        const who: Person = zone === MEMBER_PRIMARY ? 'member' : 'owner';
        if (s.refs(master, SHARED_ZONE).some((r) => !s.isPurged(r) && !s.isTrashed(r))) {
          throw new MutationError('already in the Shared Library');
        }
        // The personal copy stays (same counts): PrimarySync gets the pair re-sent, no library info (docs/protocol/records.md#shared-library).
        this.#touch(slot, device);
        this.#log(zone, { t: 'master', slot: master }, false);
        this.#log(zone, { t: 'asset', slot }, false);
        const plan = s.plan(slot);
        const shared = this.#newSlot({
          kind: plan.kind,
          zone: SHARED_ZONE,
          masterSlot: master,
          contributor: who,
          addedTime: this.#at,
        });
        this.#createState(shared);
        this.#quotaPeople.add(who);
        this.#log(SHARED_ZONE, { t: 'master', slot: master });
        this.#log(SHARED_ZONE, { t: 'asset', slot: shared });
        return;
      }
      case 'unshare':
      case 'move-to-personal': {
        if (zone !== SHARED_ZONE) throw new MutationError('not in the Shared Library');
        if (s.isTrashed(slot)) throw new MutationError('already removed from the Shared Library');
        const mover: Person = op.op === 'unshare' ? 'owner' : by;
        const st = state();
        st.trashedAt = this.#at;
        st.trashReason = 0;
        st.trashedBy = mover;
        st.expunged = s.contributorOf(slot) === mover;
        s.trashed.add(slot);
        this.#quotaPeople.add(mover);
        logAsset();
        if (s.masterTrash(master, SHARED_ZONE)) this.#log(SHARED_ZONE, { t: 'master', slot: master });
        const home = this.#core.primaryOf(mover);
        const existing = s.refs(master, home).find((r) => !s.isPurged(r));
        if (existing !== undefined) {
          this.#touch(existing);
          this.#log(home, { t: 'master', slot: master });
          this.#log(home, { t: 'asset', slot: existing });
          return;
        }
        const plan = s.plan(slot);
        const personal = this.#newSlot({
          kind: plan.kind,
          zone: home,
          masterSlot: master,
          addedTime: this.#at,
        });
        this.#createState(personal);
        this.#log(home, { t: 'master', slot: master });
        this.#log(home, { t: 'asset', slot: personal });
        return;
      }
      case 'shared-album-add': {
        const st = state();
        st.sharedAlbumAt = this.#at;
        st.shareCount += 1;
        logAsset();
        this.#core.flagZone(SHARED_ZONE);
        return;
      }
    }
  }

  #albumMembership(op: 'album-add' | 'album-remove', slot: number, album: number): void {
    const s = this.#s;
    const zone = s.zoneOf(slot);
    if (zone !== OWNER_PRIMARY) throw new MutationError('albums exist in the owner PrimarySync only');
    const info = s.albums[album]!;
    if (info.albumType !== 0 || info.deleted) throw new MutationError('not a user album');
    const key = `${slot}:${album}`;
    const present = s.hasRelation(slot, album);
    if (op === 'album-add') {
      if (present) throw new MutationError('already in the album');
      // The position first: the tail is computed over the members before this one joins.
      const position = s.nextRelationPosition(album);
      s.relationsRemoved.delete(key);
      s.relationsAdded.set(key, this.#at);
      s.setRelationPosition(slot, album, position);
    } else {
      if (!present) throw new MutationError('not in the album');
      s.relationsAdded.delete(key);
      s.relationsRemoved.add(key);
      s.relationPositions.delete(key);
    }
    this.#log(zone, { t: 'relation', slot, album });
    this.#touchAlbum(album);
  }

  #touchAlbum(album: number): void {
    this.#s.albums[album]!.modifiedAt = this.#at;
    this.#log(OWNER_PRIMARY, { t: 'album', album });
  }

  /** A live folder (albumType 3, not a sentinel) by reference. */
  #folder(ref: string): number {
    const index = this.#album(ref);
    const folder = this.#s.albums[index]!;
    if (folder.albumType !== 3 || folder.deleted || folder.recordName.startsWith('----'))
      throw new MutationError('not a folder');
    return index;
  }

  /** After the last live sibling in `parentIndex` (the album list is ordered by position). */
  #nextPosition(parentIndex: number | undefined, except?: number): number {
    const siblings = this.#s.albums.filter(
      (a) => !a.deleted && a.parentIndex === parentIndex && a.index !== except,
    );
    return Math.max(0, ...siblings.map((a) => a.position)) + 1024;
  }

  #createAlbum(name: string, parent: string | undefined, folder: boolean): void {
    const s = this.#s;
    const index = s.albums.length;
    const parentIndex = parent === undefined ? undefined : this.#folder(parent);
    s.albums.push({
      index,
      recordName: this.#core.ids.uuid(index, 62),
      name,
      albumType: folder ? 3 : 0,
      ...(parentIndex !== undefined ? { parentIndex } : {}),
      position: this.#nextPosition(parentIndex),
      deleted: false,
      createdAt: this.#at,
      modifiedAt: this.#at,
      sortAscending: 1,
      sortType: 0,
    });
    this.#log(OWNER_PRIMARY, { t: 'album', album: index });
  }

  /** Deleting a folder deletes what it holds, as Photos does: each CPLAlbum is sent with `isDeleted`. */
  #deleteAlbum(index: number): void {
    const album = this.#s.albums[index]!;
    if (album.deleted) throw new MutationError('album already deleted');
    album.deleted = true;
    this.#touchAlbum(index);
    for (const child of this.#s.albums) {
      if (child.parentIndex === index && !child.deleted) this.#deleteAlbum(child.index);
    }
  }

  /** Moves an album or folder into a folder (or to the top level): only its CPLAlbum changes. */
  #moveAlbum(ref: string, parent: string | null, position: number | undefined): void {
    const s = this.#s;
    const album = s.albums[this.#album(ref)]!;
    if (album.deleted || album.recordName.startsWith('----')) throw new MutationError('not a user album');
    const parentIndex = parent === null ? undefined : this.#folder(parent);
    for (let p = parentIndex; p !== undefined; p = s.albums[p]?.parentIndex) {
      if (p === album.index) throw new MutationError('a folder cannot move into itself');
    }
    if (parentIndex === undefined) delete album.parentIndex;
    else album.parentIndex = parentIndex;
    album.position = position ?? this.#nextPosition(parentIndex, album.index);
    this.#touchAlbum(album.index);
  }

  /** Renumbers an album's relations in the given order: every relation whose position changed, then the album. */
  #reorderAlbum(ref: string, assetRecordNames: readonly string[]): void {
    const s = this.#s;
    const album = this.#album(ref);
    const info = s.albums[album]!;
    if (info.albumType !== 0 || info.deleted) throw new MutationError('not a user album');
    const members = [...s.membersOf(album)].filter((slot) => !s.isPurged(slot));
    const order = assetRecordNames.map((name) => this.#slot(name));
    const wanted = new Set(order);
    if (
      wanted.size !== order.length ||
      order.length !== members.length ||
      members.some((m) => !wanted.has(m))
    )
      throw new MutationError('assetRecordNames must list every member of the album once');
    order.forEach((slot, i) => {
      const position = (i + 1) * 1024;
      if (s.relationPosition(slot, album) === position) return;
      s.setRelationPosition(slot, album, position);
      this.#log(OWNER_PRIMARY, { t: 'relation', slot, album });
    });
    this.#touchAlbum(album);
  }
}

function kindOfAdd(kind: (typeof ADD_KINDS)[number], roll: number): AssetKind {
  switch (kind) {
    case 'photo':
      return 'jpeg';
    case 'edited':
      return roll % 2 === 0 ? 'heic' : 'jpeg';
    case 'edited-video':
      return 'video';
    default:
      return kind;
  }
}
