/**
 * The library's state: compact typed arrays for the generated slots (zone, kind, flags, album,
 * position within its zone), plans for added slots, and overlays holding only what mutations changed.
 * Everything else is re-derived from the seed on demand.
 */
import { Catalog } from './catalog.ts';
import { CODE, type IdCodec } from './ids.ts';
import {
  type AlbumState,
  ASSET_KINDS,
  type AssetKind,
  type AssetState,
  DAY_MS,
  type MasterContent,
  type Person,
  type SlotPlan,
  TRASH_WINDOW_MS,
  type ZoneKey,
} from './model.ts';
import { BASE_ALBUMS, UNRECORDED_ENCODINGS } from './names.ts';
import { hashInts, unitOf } from './prng.ts';

const F_HIDDEN = 1;
const F_FAVORITE = 2;
const F_TRASHED = 4;
const F_DERIVED = 8;
const F_GHOST = 16;
const F_MOD_LATER = 32;
const NO_ALBUM = 0xffff;

export class LibraryState {
  readonly catalog: Catalog;
  readonly generated: number;
  readonly albums: AlbumState[] = [];
  /** Albums that exist in the generated history (the rest were created by mutations). */
  readonly generatedAlbums: number;
  readonly #zoneOf: Uint8Array;
  readonly #kindOf: Uint8Array;
  readonly #flags: Uint8Array;
  readonly #albumOf: Uint16Array;
  readonly #localIndex: Uint32Array;
  /** Generated slots of zones 0 and 1, in slot order. */
  readonly zoneSlots: readonly [Uint32Array, Uint32Array, Uint32Array];
  readonly added = new Map<number, SlotPlan>();
  readonly addedByZone: [number[], number[], number[]] = [[], [], []];
  readonly overlay = new Map<number, AssetState>();
  /** Masters referenced by added slots other than their own: master slot -> referencing slots. */
  readonly extraRefs = new Map<number, number[]>();
  /** Album memberships added / removed by mutations: `${slot}:${album}`. */
  readonly relationsAdded = new Map<string, number>();
  readonly relationsRemoved = new Set<string>();
  /** Positions of relations set by `album-add` or `reorder-album`: `${slot}:${album}` -> position. */
  readonly relationPositions = new Map<string, number>();
  /** Per album, the last relation position handed out. */
  readonly #relationTail = new Map<number, number>();
  /** Slots currently in Recently Deleted (candidates for the lazy purge). */
  readonly trashed = new Set<number>();
  nextSlot: number;
  readonly #ids: IdCodec;

  constructor(catalog: Catalog, generated: number, ids: IdCodec, anchor: number) {
    this.catalog = catalog;
    this.generated = generated;
    this.#ids = ids;
    this.nextSlot = generated;
    const extraAlbums = Math.min(200, Math.floor(generated / 2000));
    BASE_ALBUMS.forEach((seed, index) => {
      this.albums.push(
        this.#albumFromSeed(index, seed.name, seed.recordName, seed.albumType, seed.parent, anchor),
      );
    });
    for (let i = 0; i < extraAlbums; i += 1) {
      this.albums.push(
        this.#albumFromSeed(this.albums.length, `Trip ${i + 1}`, undefined, 0, undefined, anchor),
      );
    }
    this.generatedAlbums = this.albums.length;
    this.#zoneOf = new Uint8Array(generated);
    this.#kindOf = new Uint8Array(generated);
    this.#flags = new Uint8Array(generated);
    this.#albumOf = new Uint16Array(generated);
    this.#localIndex = new Uint32Array(generated);
    const counts = [0, 0, 0];
    for (let slot = 0; slot < generated; slot += 1) {
      const plan = catalog.plan(slot);
      this.#zoneOf[slot] = plan.zone;
      this.#kindOf[slot] = ASSET_KINDS.indexOf(plan.kind);
      let flags = 0;
      if (plan.hidden) flags |= F_HIDDEN;
      if (plan.favorite) flags |= F_FAVORITE;
      if (plan.trashedDaysAgo !== undefined) flags |= F_TRASHED;
      if (plan.masterSlot !== slot) flags |= F_DERIVED;
      if (plan.ghost) flags |= F_GHOST;
      if (plan.hidden || plan.favorite || plan.trashedDaysAgo !== undefined) flags |= F_MOD_LATER;
      this.#flags[slot] = flags;
      this.#albumOf[slot] = plan.album ?? NO_ALBUM;
      this.#localIndex[slot] = counts[plan.zone]!;
      counts[plan.zone]! += 1;
      if (plan.trashedDaysAgo !== undefined) this.trashed.add(slot);
    }
    const slots: [Uint32Array, Uint32Array, Uint32Array] = [
      new Uint32Array(counts[0]!),
      new Uint32Array(counts[1]!),
      new Uint32Array(counts[2]!),
    ];
    for (let slot = 0; slot < generated; slot += 1)
      slots[this.#zoneOf[slot] as ZoneKey][this.#localIndex[slot]!] = slot;
    this.zoneSlots = slots;
  }

  #albumFromSeed(
    index: number,
    name: string | undefined,
    recordName: string | undefined,
    albumType: number,
    parentIndex: number | undefined,
    anchor: number,
  ): AlbumState {
    const created = anchor - Math.floor(unitOf(hashInts(index, 0xa1b)) * 900) * DAY_MS - DAY_MS;
    return {
      index,
      recordName: recordName ?? this.#ids.uuid(index, CODE.Album),
      name,
      albumType,
      ...(parentIndex !== undefined ? { parentIndex } : {}),
      position: recordName ? 0 : 512 + index * 1024,
      deleted: false,
      createdAt: created,
      modifiedAt: created + DAY_MS,
      sortAscending: 1,
      sortType: index % 3 === 0 ? 1 : 0,
    };
  }

  /** Album indexes that receive generated members. */
  static memberAlbumIndexes(generated: number): number[] {
    const extra = Math.min(200, Math.floor(generated / 2000));
    const base = BASE_ALBUMS.flatMap((a, i) => (a.regular ? [i] : []));
    return [...base, ...Array.from({ length: extra }, (_, i) => BASE_ALBUMS.length + i)];
  }

  exists(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && (slot < this.generated || this.added.has(slot));
  }

  plan(slot: number): SlotPlan {
    if (slot < this.generated) return this.catalog.plan(slot);
    const plan = this.added.get(slot);
    if (!plan) throw new RangeError(`unknown slot ${slot}`);
    return plan;
  }

  zoneOf(slot: number): ZoneKey {
    if (slot < this.generated) return this.#zoneOf[slot] as ZoneKey;
    return this.plan(slot).zone;
  }

  kindOf(slot: number): AssetKind {
    if (slot < this.generated) return ASSET_KINDS[this.#kindOf[slot]!]!;
    return this.plan(slot).kind;
  }

  masterOf(slot: number): number {
    if (slot < this.generated) return this.#flags[slot]! & F_DERIVED ? slot - 1 : slot;
    return this.plan(slot).masterSlot;
  }

  localIndex(slot: number): number {
    return this.#localIndex[slot]!;
  }

  isGhost(slot: number): boolean {
    return slot < this.generated && (this.#flags[slot]! & F_GHOST) !== 0;
  }

  /** The generated history re-logs this asset after its creation (it was hidden, favourited or trashed later). */
  modifiedLater(slot: number): boolean {
    return slot < this.generated && (this.#flags[slot]! & F_MOD_LATER) !== 0;
  }

  /** Generated album membership (before mutations). */
  generatedAlbumOf(slot: number): number | undefined {
    if (slot >= this.generated) return undefined;
    const album = this.#albumOf[slot]!;
    return album === NO_ALBUM ? undefined : album;
  }

  /** Whether the CPLMaster of this slot is logged at this slot's position in its zone. */
  ownsMaster(slot: number): boolean {
    const master = this.masterOf(slot);
    return master === slot || this.zoneOf(master) !== this.zoneOf(slot);
  }

  /**
   * Whether `filenameEnc` encodings Apple was never seen to send are served (the
   * `unrecordedFilenameEncodings` quirk; the library sets this to read its quirks).
   */
  unrecordedEncodings: () => boolean = () => false;

  content(masterSlot: number): MasterContent {
    const content = this.catalog.content(masterSlot, this.plan(masterSlot));
    if (UNRECORDED_ENCODINGS.has(content.filenameEncoding) && !this.unrecordedEncodings()) {
      return { ...content, filenameEncoding: 'ENCRYPTED_BYTES' };
    }
    return content;
  }

  captureTime(slot: number): number {
    const master = this.masterOf(slot);
    if (master < this.generated) {
      const plan = this.catalog.plan(master);
      return plan.captureTime ?? this.catalog.captureTimeOf(master);
    }
    return this.plan(master).captureTime ?? 0;
  }

  addedTime(slot: number): number {
    return this.catalog.addedTimeOf(slot, this.plan(slot));
  }

  /** Current state (read-only view; use `mutable` to change it). */
  state(slot: number): AssetState {
    return this.overlay.get(slot) ?? this.#baseState(slot);
  }

  /** Fast flag reads for index building (avoid materialising state for untouched slots). */
  isHidden(slot: number): boolean {
    const o = this.overlay.get(slot);
    if (o) return o.hidden;
    return slot < this.generated ? (this.#flags[slot]! & F_HIDDEN) !== 0 : this.plan(slot).hidden === true;
  }

  isFavorite(slot: number): boolean {
    const o = this.overlay.get(slot);
    if (o) return o.favorite;
    return slot < this.generated
      ? (this.#flags[slot]! & F_FAVORITE) !== 0
      : this.plan(slot).favorite === true;
  }

  isTrashed(slot: number): boolean {
    const o = this.overlay.get(slot);
    if (o) return o.trashedAt !== undefined && !o.purged;
    return slot < this.generated ? (this.#flags[slot]! & F_TRASHED) !== 0 : false;
  }

  isPurged(slot: number): boolean {
    return this.overlay.get(slot)?.purged === true;
  }

  mutable(slot: number): AssetState {
    let state = this.overlay.get(slot);
    if (!state) {
      state = this.#baseState(slot);
      this.overlay.set(slot, state);
    }
    return state;
  }

  #baseState(slot: number): AssetState {
    const plan = this.plan(slot);
    const added = this.addedTime(slot);
    const anchor = this.catalog.anchor;
    const roll = unitOf(hashInts(slot, 0x5e7));
    const later = Math.min(anchor - 60_000, added + Math.floor(1 + roll * 29) * DAY_MS);
    const trashedAt =
      plan.trashedDaysAgo !== undefined
        ? Math.min(anchor - 60_000, Math.max(added + 3_600_000, anchor - plan.trashedDaysAgo * DAY_MS))
        : undefined;
    const content = this.content(this.masterOf(slot));
    const state: AssetState = {
      hidden: plan.hidden === true,
      favorite: plan.favorite === true,
      restored: false,
      purged: false,
      editReverted: false,
      shareCount: 0,
      modifiedAt: trashedAt ?? (this.modifiedLater(slot) ? later : added),
      modifiedDevice: content.deviceId,
      modifiedBy: plan.contributor ?? (plan.zone === 2 ? 'member' : 'owner'),
    };
    if (trashedAt !== undefined) {
      state.trashedAt = trashedAt;
      if (plan.zone === 1) {
        state.trashReason = plan.trashReason ?? 1;
        state.trashedBy = plan.trashedBy ?? plan.contributor ?? 'owner';
      }
    }
    if (plan.edited) {
      state.edit = {
        adjustmentType: Catalog.adjustmentTypeFor(plan.kind),
        generation: 1,
        at: plan.kind === 'screenshot' ? added : Math.min(anchor - 120_000, added + 60_000),
      };
    }
    return state;
  }

  /** Every slot (generated or added) that references `masterSlot` in `zone`. */
  refs(masterSlot: number, zone: ZoneKey): number[] {
    const out: number[] = [];
    if (this.exists(masterSlot) && this.zoneOf(masterSlot) === zone) out.push(masterSlot);
    const next = masterSlot + 1;
    if (next < this.generated && this.masterOf(next) === masterSlot && this.zoneOf(next) === zone)
      out.push(next);
    for (const slot of this.extraRefs.get(masterSlot) ?? []) if (this.zoneOf(slot) === zone) out.push(slot);
    return out;
  }

  /** The CPLMaster of `masterSlot` exists in `zone` (some referencing asset is not purged). */
  masterExists(masterSlot: number, zone: ZoneKey): boolean {
    return this.refs(masterSlot, zone).some((slot) => !this.isPurged(slot));
  }

  /** Master-side trash: set only when every live asset referencing it in the zone is trashed. */
  masterTrash(masterSlot: number, zone: ZoneKey): { trashedAt: number } | undefined {
    const live = this.refs(masterSlot, zone).filter((slot) => !this.isPurged(slot));
    if (live.length === 0 || !live.every((slot) => this.isTrashed(slot))) return undefined;
    return { trashedAt: Math.max(...live.map((slot) => this.state(slot).trashedAt ?? 0)) };
  }

  /** Album memberships of a slot, mutations applied. */
  albumsOf(slot: number): number[] {
    const out: number[] = [];
    const generatedAlbum = this.generatedAlbumOf(slot);
    if (generatedAlbum !== undefined && !this.relationsRemoved.has(`${slot}:${generatedAlbum}`))
      out.push(generatedAlbum);
    for (const key of this.relationsAdded.keys()) {
      const [s, a] = key.split(':').map(Number);
      if (s === slot && a !== undefined && !out.includes(a)) out.push(a);
    }
    return out.filter((album) => this.albums[album]?.deleted === false);
  }

  hasRelation(slot: number, album: number): boolean {
    const key = `${slot}:${album}`;
    if (this.relationsAdded.has(key)) return true;
    return this.generatedAlbumOf(slot) === album && !this.relationsRemoved.has(key);
  }

  /** Members of an album (slots with a relation, purged ones included), mutations applied. */
  membersOf(album: number): Set<number> {
    const members = new Set<number>();
    if (this.albums[album]?.deleted !== false) return members;
    for (const slot of this.zoneSlots[0]) {
      if (this.#albumOf[slot] === album && !this.relationsRemoved.has(`${slot}:${album}`)) members.add(slot);
    }
    for (const key of this.relationsAdded.keys()) {
      const [slot, a] = key.split(':').map(Number);
      if (a === album && slot !== undefined) members.add(slot);
    }
    return members;
  }

  /**
   * A relation's `position` (its order in the album). Generated members follow capture order (the
   * slot); `album-add` appends after the last member, `reorder-album` renumbers.
   */
  relationPosition(slot: number, album: number): number {
    return this.relationPositions.get(`${slot}:${album}`) ?? slot % 100_000;
  }

  /**
   * The position after an album's last relation (what `album-add` hands out). The generated
   * members are scanned once per album; later positions only grow.
   */
  nextRelationPosition(album: number): number {
    let last = this.#relationTail.get(album);
    if (last === undefined) {
      last = 0;
      for (const slot of this.membersOf(album)) last = Math.max(last, this.relationPosition(slot, album));
    }
    this.#relationTail.set(album, last + 1024);
    return last + 1024;
  }

  /** Sets a relation's position (keeps `nextRelationPosition` after it). */
  setRelationPosition(slot: number, album: number, position: number): void {
    this.relationPositions.set(`${slot}:${album}`, position);
    const tail = this.#relationTail.get(album);
    if (tail !== undefined && tail < position) this.#relationTail.set(album, position);
  }

  /** Every slot of a zone, generated then added, excluding purged ones. */
  *slotsOf(zone: ZoneKey): Generator<number> {
    for (const slot of this.zoneSlots[zone]) if (!this.isPurged(slot)) yield slot;
    for (const slot of this.addedByZone[zone]) if (!this.isPurged(slot)) yield slot;
  }

  contributorOf(slot: number): Person | undefined {
    return this.plan(slot).contributor;
  }

  /** When a trashed asset is purged automatically. */
  static expiryOf(state: AssetState): number | undefined {
    return state.trashedAt === undefined ? undefined : state.trashedAt + TRASH_WINDOW_MS;
  }
}
