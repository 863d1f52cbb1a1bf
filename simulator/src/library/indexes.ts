/**
 * The server-side indexes `records/query` walks (docs/protocol/cloudkit.md#indexes): for each (zone, index, selector) a
 * sorted array of slots, oldest first, built on first use and rebuilt after any mutation. Building
 * is one pass over the zone's slots using the compact flags, so it stays fast at 1,000,000 assets.
 */
import type { LibraryCore } from './core.ts';
import { OWNER_PRIMARY, TRASH_WINDOW_MS, type ZoneKey } from './model.ts';

export type SmartAlbum = 'FAVORITE' | 'VIDEO' | 'LIVE' | 'SCREENSHOT' | 'PANORAMA' | 'SLOMO' | 'TIMELAPSE';
export const SMART_ALBUMS: readonly SmartAlbum[] = [
  'FAVORITE',
  'VIDEO',
  'LIVE',
  'SCREENSHOT',
  'PANORAMA',
  'SLOMO',
  'TIMELAPSE',
];

/** What an index selects. */
export type IndexSpec =
  | { readonly kind: 'all' }
  | { readonly kind: 'added' }
  | { readonly kind: 'deleted' }
  | { readonly kind: 'hidden' }
  | { readonly kind: 'smart'; readonly album: SmartAlbum }
  | { readonly kind: 'bursts' }
  | { readonly kind: 'album'; readonly album: number; readonly byPosition?: boolean };

const specKey = (zone: ZoneKey, spec: IndexSpec): string =>
  `${zone}:${spec.kind}:${'album' in spec ? spec.album : ''}:${'byPosition' in spec && spec.byPosition ? 'p' : ''}`;

export class IndexCache {
  readonly #core: LibraryCore;
  readonly #cache = new Map<string, { version: number; slots: Uint32Array }>();

  constructor(core: LibraryCore) {
    this.#core = core;
  }

  /** Slots of the index, oldest first by the index key. */
  slots(zone: ZoneKey, spec: IndexSpec): Uint32Array {
    const key = specKey(zone, spec);
    const hit = this.#cache.get(key);
    if (hit && hit.version === this.#core.version) return hit.slots;
    const slots = this.#build(zone, spec);
    this.#cache.set(key, { version: this.#core.version, slots });
    return slots;
  }

  #build(zone: ZoneKey, spec: IndexSpec): Uint32Array {
    const s = this.#core.state;
    if (spec.kind === 'album' && zone !== OWNER_PRIMARY) return new Uint32Array(0);
    const albumMembers = spec.kind === 'album' ? s.membersOf(spec.album) : undefined;
    const out: number[] = [];
    for (const slot of s.slotsOf(zone)) {
      if (albumMembers && !albumMembers.has(slot)) continue;
      const trashed = s.isTrashed(slot);
      if (spec.kind === 'deleted') {
        if (trashed) out.push(slot);
        continue;
      }
      if (trashed) continue;
      const hidden = s.isHidden(slot);
      if (spec.kind === 'hidden') {
        if (hidden) out.push(slot);
        continue;
      }
      if (hidden) continue;
      if (spec.kind === 'smart' && !this.#inSmartAlbum(slot, spec.album)) continue;
      if (spec.kind === 'bursts' && s.kindOf(slot) !== 'burst') continue;
      out.push(slot);
    }
    const keyOf =
      spec.kind === 'album' && spec.byPosition
        ? // Highest position first: pages walk an index from its end for ASCENDING (rank 0 = newest in
          // the date indexes), so the album's first position comes out at rank 0.
          (slot: number) => -s.relationPosition(slot, spec.album)
        : spec.kind === 'added'
          ? (slot: number) => s.addedTime(slot)
          : spec.kind === 'deleted'
            ? (slot: number) => (s.state(slot).trashedAt ?? 0) + TRASH_WINDOW_MS
            : (slot: number) => s.captureTime(slot);
    const keys = new Float64Array(out.length);
    let sorted = true;
    for (let i = 0; i < out.length; i += 1) {
      keys[i] = keyOf(out[i]!);
      if (i > 0 && keys[i]! < keys[i - 1]!) sorted = false;
    }
    const result = Uint32Array.from(out);
    if (sorted) return result;
    const order = Array.from(out.keys()).sort((a, b) => keys[a]! - keys[b]! || out[a]! - out[b]!);
    return Uint32Array.from(order, (i) => out[i]!);
  }

  #inSmartAlbum(slot: number, album: SmartAlbum): boolean {
    const s = this.#core.state;
    const kind = s.kindOf(slot);
    switch (album) {
      case 'FAVORITE':
        return s.isFavorite(slot);
      case 'VIDEO':
        return kind === 'video' || kind === 'slomo' || kind === 'timelapse';
      case 'LIVE':
        return kind === 'live';
      case 'SCREENSHOT':
        return kind === 'screenshot';
      case 'PANORAMA':
        return kind === 'panorama';
      case 'SLOMO':
        return kind === 'slomo';
      case 'TIMELAPSE':
        return kind === 'timelapse';
    }
  }
}
