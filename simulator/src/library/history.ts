/**
 * Each zone's change log. Positions 0..G-1 are the *implicit* generated history (computed from the
 * slot layout, never stored); positions G.. are explicit entries appended by mutations (and
 * persisted as the op log that recreates them). A record's entry is *live* only at the record's
 * latest position, so superseded positions read as nothing and pages over them come back empty
 * (S78 in docs/protocol/simulator-contract.md#change-feeds), and every record appears once per delta with its current state (79).
 *
 * Implicit layout of a zone with n generated slots (local index j) and A generated albums:
 *
 *   [0, 4n)        slot j: 4j master (if the slot owns it), 4j+1 asset, 4j+2 / 4j+3 ghost tombstones
 *   [4n, 6n)       slot j re-logged later: 4n+2j master (trashed), 4n+2j+1 asset (hidden/fav/trashed)
 *   [6n, 7n)       slot j's generated album membership (CPLContainerRelation)
 *   [7n, 7n+A)     albums (PrimarySync only)
 *   7n+A           CPLLibraryInfo
 *   7n+A+1, +2     CPLSharedLibraryQuota of owner and member (Shared Library only)
 */
import { OWNER_PRIMARY, type Person, SHARED_ZONE, type ZoneKey } from './model.ts';
import type { LibraryState } from './state.ts';

/** A record's identity inside a zone. */
export type RecordKey =
  | { readonly t: 'asset'; readonly slot: number }
  | { readonly t: 'master'; readonly slot: number }
  | { readonly t: 'relation'; readonly slot: number; readonly album: number }
  | { readonly t: 'album'; readonly album: number }
  | { readonly t: 'info' }
  | { readonly t: 'quota'; readonly person: Person }
  | { readonly t: 'ghostMaster'; readonly slot: number }
  | { readonly t: 'ghostAsset'; readonly slot: number };

export function keyString(key: RecordKey): string {
  switch (key.t) {
    case 'asset':
      return `A${key.slot}`;
    case 'master':
      return `M${key.slot}`;
    case 'relation':
      return `R${key.slot}:${key.album}`;
    case 'album':
      return `B${key.album}`;
    case 'info':
      return 'I';
    case 'quota':
      return `Q${key.person}`;
    case 'ghostMaster':
      return `G${key.slot}`;
    case 'ghostAsset':
      return `H${key.slot}`;
  }
}

export function parseKey(text: string): RecordKey {
  const body = text.slice(1);
  switch (text[0]) {
    case 'A':
      return { t: 'asset', slot: Number(body) };
    case 'M':
      return { t: 'master', slot: Number(body) };
    case 'R': {
      const [slot, album] = body.split(':').map(Number);
      return { t: 'relation', slot: slot ?? 0, album: album ?? 0 };
    }
    case 'B':
      return { t: 'album', album: Number(body) };
    case 'Q':
      return { t: 'quota', person: body === 'member' ? 'member' : 'owner' };
    case 'G':
      return { t: 'ghostMaster', slot: Number(body) };
    case 'H':
      return { t: 'ghostAsset', slot: Number(body) };
    default:
      return { t: 'info' };
  }
}

export interface LogEntry {
  readonly key: RecordKey;
  readonly position: number;
  /** When the change happened (simulated clock). */
  readonly at: number;
}

export class ZoneLog {
  readonly zone: ZoneKey;
  readonly #state: LibraryState;
  readonly implicitLength: number;
  readonly #entries: string[] = [];
  readonly #times: number[] = [];
  readonly #latest = new Map<string, number>();
  /** Global sequence number of this zone's last change (0 = only the generated history). */
  lastSeq = 0;

  constructor(zone: ZoneKey, state: LibraryState) {
    this.zone = zone;
    this.#state = state;
    this.implicitLength = 7 * this.#n + this.#albums + 1 + (zone === SHARED_ZONE ? 2 : 0);
  }

  get #n(): number {
    return this.#state.zoneSlots[this.zone].length;
  }

  get #albums(): number {
    return this.zone === OWNER_PRIMARY ? this.#state.generatedAlbums : 0;
  }

  /** One past the last position. */
  get end(): number {
    return this.implicitLength + this.#entries.length;
  }

  append(key: RecordKey, at: number, seq: number): number {
    const position = this.end;
    const text = keyString(key);
    this.#entries.push(text);
    this.#times.push(at);
    this.#latest.set(text, position);
    this.lastSeq = seq;
    return position;
  }

  /** The record whose change sits at `position`, if that change is still its latest. */
  liveAt(position: number): LogEntry | undefined {
    const entry = this.entryAt(position);
    if (!entry) return undefined;
    return this.latestPosition(entry.key) === position ? entry : undefined;
  }

  /** The change at `position` (live or superseded). */
  entryAt(position: number): LogEntry | undefined {
    if (position < 0 || position >= this.end) return undefined;
    if (position >= this.implicitLength) {
      const index = position - this.implicitLength;
      return { key: parseKey(this.#entries[index]!), position, at: this.#times[index]! };
    }
    const key = this.#implicitKeyAt(position);
    return key ? { key, position, at: this.#implicitTime(key) } : undefined;
  }

  /** Latest position of a record in this zone, or undefined if it never existed here. */
  latestPosition(key: RecordKey): number | undefined {
    return this.#latest.get(keyString(key)) ?? this.#implicitPosition(key);
  }

  /** Time of the record's latest change. */
  latestTime(key: RecordKey): number | undefined {
    const explicit = this.#latest.get(keyString(key));
    if (explicit !== undefined) return this.#times[explicit - this.implicitLength];
    return this.#implicitPosition(key) === undefined ? undefined : this.#implicitTime(key);
  }

  /** Explicit entries only, for persistence checks and tests. */
  get explicitCount(): number {
    return this.#entries.length;
  }

  #implicitKeyAt(p: number): RecordKey | undefined {
    const s = this.#state;
    const n = this.#n;
    const slots = s.zoneSlots[this.zone];
    if (p < 4 * n) {
      const slot = slots[p >> 2]!;
      switch (p & 3) {
        case 0:
          return s.ownsMaster(slot) ? { t: 'master', slot: s.masterOf(slot) } : undefined;
        case 1:
          return { t: 'asset', slot };
        case 2:
          return s.isGhost(slot) ? { t: 'ghostMaster', slot } : undefined;
        default:
          return s.isGhost(slot) ? { t: 'ghostAsset', slot } : undefined;
      }
    }
    if (p < 6 * n) {
      const j = (p - 4 * n) >> 1;
      const slot = slots[j]!;
      if (!s.modifiedLater(slot)) return undefined;
      if ((p - 4 * n) & 1) return { t: 'asset', slot };
      return this.#masterLoggedLater(slot) ? { t: 'master', slot: s.masterOf(slot) } : undefined;
    }
    if (p < 7 * n) {
      const slot = slots[p - 6 * n]!;
      const album = s.generatedAlbumOf(slot);
      return album === undefined ? undefined : { t: 'relation', slot, album };
    }
    const rest = p - 7 * n;
    if (rest < this.#albums) return { t: 'album', album: rest };
    if (rest === this.#albums) return { t: 'info' };
    if (this.zone === SHARED_ZONE && rest === this.#albums + 1) return { t: 'quota', person: 'owner' };
    if (this.zone === SHARED_ZONE && rest === this.#albums + 2) return { t: 'quota', person: 'member' };
    return undefined;
  }

  /** Generated trashed slots that own their master re-log the master with `isDeleted = 1`. */
  #masterLoggedLater(slot: number): boolean {
    const s = this.#state;
    if (!s.ownsMaster(slot) || s.catalog.plan(slot).trashedDaysAgo === undefined) return false;
    const master = s.masterOf(slot);
    const refs = s.refs(master, this.zone).filter((r) => r < s.generated);
    return refs.every((r) => s.catalog.plan(r).trashedDaysAgo !== undefined);
  }

  #implicitPosition(key: RecordKey): number | undefined {
    const s = this.#state;
    const n = this.#n;
    switch (key.t) {
      case 'asset':
      case 'ghostMaster':
      case 'ghostAsset': {
        if (key.slot >= s.generated || s.zoneOf(key.slot) !== this.zone) return undefined;
        const j = s.localIndex(key.slot);
        if (key.t === 'ghostMaster') return s.isGhost(key.slot) ? 4 * j + 2 : undefined;
        if (key.t === 'ghostAsset') return s.isGhost(key.slot) ? 4 * j + 3 : undefined;
        return s.modifiedLater(key.slot) ? 4 * n + 2 * j + 1 : 4 * j + 1;
      }
      case 'master': {
        const home = this.#homeSlot(key.slot);
        if (home === undefined) return undefined;
        const j = s.localIndex(home);
        return this.#masterLoggedLater(home) && s.modifiedLater(home) ? 4 * n + 2 * j : 4 * j;
      }
      case 'relation': {
        if (key.slot >= s.generated || s.zoneOf(key.slot) !== this.zone) return undefined;
        return s.generatedAlbumOf(key.slot) === key.album ? 6 * n + s.localIndex(key.slot) : undefined;
      }
      case 'album':
        return key.album < this.#albums ? 7 * n + key.album : undefined;
      case 'info':
        return 7 * n + this.#albums;
      case 'quota':
        if (this.zone !== SHARED_ZONE) return undefined;
        return 7 * n + this.#albums + (key.person === 'owner' ? 1 : 2);
    }
  }

  /** The generated slot at whose position a master is logged in this zone. */
  #homeSlot(masterSlot: number): number | undefined {
    const s = this.#state;
    for (const slot of [masterSlot, masterSlot + 1]) {
      if (
        slot < s.generated &&
        s.zoneOf(slot) === this.zone &&
        s.masterOf(slot) === masterSlot &&
        s.ownsMaster(slot)
      ) {
        return slot;
      }
    }
    return undefined;
  }

  #implicitTime(key: RecordKey): number {
    const s = this.#state;
    switch (key.t) {
      case 'asset':
        return s.state(key.slot).modifiedAt;
      case 'master': {
        const home = this.#homeSlot(key.slot) ?? key.slot;
        return this.#masterLoggedLater(home)
          ? (s.state(home).trashedAt ?? s.addedTime(home))
          : s.addedTime(home);
      }
      case 'ghostMaster':
      case 'ghostAsset':
        return s.addedTime(key.slot) + 1;
      case 'relation':
        return s.addedTime(key.slot) + 2;
      case 'album':
        return s.albums[key.album]?.modifiedAt ?? s.catalog.anchor;
      default:
        return s.catalog.anchor - 1000;
    }
  }
}
