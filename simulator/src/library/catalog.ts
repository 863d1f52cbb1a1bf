/**
 * The generator: what every slot is (its plan) and what its files are (its content), as pure
 * functions of the seed. The first slots are curated so even a small library holds one of every
 * kind and every hostile case; the rest follow a realistic random mix.
 */

import {
  type AssetKind,
  DAY_MS,
  type EditState,
  type Family,
  type MasterContent,
  OWNER_PRIMARY,
  PHOTO_ADJUSTMENT,
  type Resource,
  SCREENSHOT_ADJUSTMENT,
  SHARED_ZONE,
  SLOMO_ADJUSTMENT,
  type SlotPlan,
  type ZoneKey,
} from './model.ts';
import {
  ENCODING_OVERRIDES,
  extensionFor,
  HOSTILE_FILE_NAMES,
  ITEM_TYPE_OVERRIDES,
  RAW_TYPES,
  UNKNOWN_UTI,
} from './names.ts';
import { hashInts, Rng, unitOf } from './prng.ts';

type Curated = Partial<SlotPlan> & {
  readonly kind: AssetKind;
  readonly derived?: boolean;
  readonly sameDayAsPrev?: boolean;
};

/** Slot i < CURATED.length gets CURATED[i]: main kinds first, hostile cases after. */
export const CURATED: readonly Curated[] = [
  { kind: 'jpeg', album: 2 },
  { kind: 'heic', album: 3 },
  { kind: 'live', album: 4 },
  { kind: 'video', album: 7 },
  { kind: 'png' },
  { kind: 'raw' },
  { kind: 'heic', edited: true, album: 9 },
  { kind: 'screenshot', edited: true },
  { kind: 'slomo', edited: true },
  { kind: 'live', liveClassic: true },
  { kind: 'burst', burstId: 'curated-burst', burstPick: true },
  { kind: 'burst', burstId: 'curated-burst' },
  { kind: 'burst', burstId: 'curated-burst' },
  { kind: 'video', edited: true },
  { kind: 'heic' },
  { kind: 'heic', derived: true },
  { kind: 'panorama' },
  { kind: 'timelapse' },
  { kind: 'jpeg', hidden: true },
  { kind: 'heic', favorite: true, album: 5 },
  { kind: 'jpeg', trashedDaysAgo: 3, album: 2 },
  { kind: 'jpeg', zone: SHARED_ZONE, contributor: 'member' },
  { kind: 'heic', contributor: 'owner' },
  { kind: 'heic', zone: SHARED_ZONE, contributor: 'owner', derived: true },
  { kind: 'live', zone: SHARED_ZONE, contributor: 'member' },
  {
    kind: 'jpeg',
    zone: SHARED_ZONE,
    contributor: 'member',
    trashedDaysAgo: 2,
    trashReason: 1,
    trashedBy: 'member',
  },
  { kind: 'jpeg', fileName: 'IMG_0001.JPG' },
  { kind: 'jpeg', fileName: 'IMG_0001.JPG', sameDayAsPrev: true },
  { kind: 'jpeg', fileName: 'Café.JPG' },
  { kind: 'jpeg', fileName: 'Cafe\u0301.JPG' },
  { kind: 'jpeg', fileName: 'img_0001.jpg' },
  { kind: 'heic', fileName: `${'Very long file name '.repeat(14)}.HEIC` },
  { kind: 'jpeg', fileName: 'a/b.JPG' },
  { kind: 'jpeg', fileName: '..' },
  { kind: 'jpeg', fileName: 'IMG\u0007\u0001_0002.JPG' },
  { kind: 'jpeg', fileName: 'CON.JPG' },
  { kind: 'jpeg', fileName: 'IMG_中文_7409.JPG' },
  { kind: 'jpeg', fileName: 'i/n v:a\u0000l*i?d\\p<a>t"h|.JPG' },
  { kind: 'jpeg', filenameEncoding: 'STRING' },
  { kind: 'jpeg', filenameEncoding: 'missing' },
  { kind: 'jpeg', filenameEncoding: 'badBase64' },
  { kind: 'jpeg', filenameEncoding: 'nonUtf8' },
  { kind: 'jpeg', filenameEncoding: 'empty' },
  { kind: 'jpeg', itemTypeOverride: 'missing' },
  { kind: 'heic', itemTypeOverride: 'noValue' },
  { kind: 'jpeg', itemTypeOverride: 'unknown' },
  { kind: 'jpeg', noDownloadUrl: 'JPEGThumb' },
  { kind: 'heic', favorite: true, hidden: true },
  { kind: 'live', edited: true },
  { kind: 'raw', favorite: true },
];

const WEIGHTS: readonly (readonly [AssetKind, number])[] = [
  ['jpeg', 22],
  ['heic', 26],
  ['png', 3],
  ['live', 17],
  ['video', 9],
  ['raw', 2],
  ['screenshot', 6],
  ['slomo', 1.5],
  ['timelapse', 0.5],
  ['panorama', 1],
];
const WEIGHT_TOTAL = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

/** Roll labels: each decision draws from its own hash so they stay independent. */
const L = {
  kind: 1,
  zone: 2,
  contributor: 3,
  derived: 4,
  burst: 5,
  edited: 6,
  hidden: 7,
  favorite: 8,
  trashed: 9,
  hostile: 10,
  encoding: 11,
  itemType: 12,
  noUrl: 13,
  album: 14,
  ghost: 15,
  classic: 16,
  twin: 17,
} as const;

export interface CatalogOptions {
  readonly seed: number;
  readonly assets: number;
  /** Day-aligned time the generated history ends at. */
  readonly anchor: number;
  readonly mediaScale: number;
  /** Indexes (into the album list) of albums that receive generated members. */
  readonly memberAlbums: readonly number[];
}

export class Catalog {
  readonly #o: CatalogOptions;
  readonly #step: number;
  readonly #start: number;
  readonly #devices: readonly string[];

  constructor(options: CatalogOptions) {
    this.#o = options;
    const span = Math.min(12 * 365 * DAY_MS, Math.max(options.assets, 1) * 2.5 * 3_600_000);
    this.#step = Math.max(1000, Math.floor(span / Math.max(options.assets, 1)));
    this.#start = options.anchor - DAY_MS - this.#step * Math.max(options.assets, 1);
    this.#devices = [0, 1, 2].map((i) =>
      new Rng(options.seed, 0xde7, i).bytes(32).toString('hex').toUpperCase(),
    );
  }

  get anchor(): number {
    return this.#o.anchor;
  }

  #roll(slot: number, label: number): number {
    return unitOf(hashInts(this.#o.seed, slot, label));
  }

  /** The zone a generated slot lives in (before derivation checks; non-recursive). */
  #zoneRoll(slot: number): ZoneKey {
    const curated = CURATED[slot];
    if (curated) return curated.zone ?? OWNER_PRIMARY;
    return this.#roll(slot, L.zone) < 0.08 ? SHARED_ZONE : OWNER_PRIMARY;
  }

  #contributorRoll(slot: number): 'owner' | 'member' {
    const curated = CURATED[slot];
    if (curated) return curated.contributor ?? 'owner';
    return this.#roll(slot, L.contributor) < 0.5 ? 'owner' : 'member';
  }

  #burstBlock(slot: number): boolean {
    if (slot < CURATED.length + 4) return false;
    return this.#roll(Math.floor(slot / 4), L.burst) < 0.012;
  }

  #derivedCandidate(slot: number): boolean {
    const curated = CURATED[slot];
    if (curated) return curated.derived === true;
    if (this.#burstBlock(slot)) return false;
    if (this.#zoneRoll(slot) === SHARED_ZONE) return this.#roll(slot, L.twin) < 0.6;
    return this.#roll(slot, L.derived) < 0.015;
  }

  #baseKind(slot: number): AssetKind {
    const curated = CURATED[slot];
    if (curated) return curated.kind;
    if (this.#burstBlock(slot)) return 'burst';
    let r = this.#roll(slot, L.kind) * WEIGHT_TOTAL;
    for (const [kind, weight] of WEIGHTS) {
      r -= weight;
      if (r < 0) return kind;
    }
    return 'jpeg';
  }

  /** Whether a generated slot shares the previous slot's master (duplicate or cross-zone twin). */
  isDerived(slot: number): boolean {
    if (slot === 0 || !this.#derivedCandidate(slot)) return false;
    if (CURATED[slot]) return true;
    if (this.#derivedCandidate(slot - 1)) return false;
    const zone = this.#zoneRoll(slot);
    const previousZone = this.#zoneRoll(slot - 1);
    if (zone === SHARED_ZONE) {
      return this.#contributorRoll(slot) === 'owner' && previousZone === OWNER_PRIMARY;
    }
    return previousZone === zone;
  }

  /** The full plan of generated slot `slot`. */
  plan(slot: number): SlotPlan {
    const curated = CURATED[slot];
    const derived = this.isDerived(slot);
    const masterSlot = derived ? slot - 1 : slot;
    const zone = this.#zoneRoll(slot);
    const kind = derived ? this.#baseKind(slot - 1) : this.#baseKind(slot);
    const contributor =
      zone === SHARED_ZONE || curated?.contributor ? this.#contributorRoll(slot) : undefined;
    const base: SlotPlan = {
      kind,
      zone,
      masterSlot,
      ...(contributor ? { contributor } : {}),
      ghost: this.#roll(slot, L.ghost) < 0.4,
    };
    if (curated) {
      const { derived: _d, sameDayAsPrev, ...rest } = curated;
      const captureTime = sameDayAsPrev ? this.captureTimeOf(slot - 1) + 60_000 : undefined;
      return {
        ...base,
        ...rest,
        kind,
        zone,
        masterSlot,
        ...(captureTime !== undefined ? { captureTime } : {}),
      };
    }
    const burst = kind === 'burst';
    const video = kind === 'video' || kind === 'slomo' || kind === 'timelapse';
    const r = (label: number) => this.#roll(slot, label);
    const hostile = r(L.hostile) < 0.02;
    const encoding = r(L.encoding) < 0.006;
    const itemType = r(L.itemType) < 0.002;
    const noUrl = r(L.noUrl) < 0.001;
    const trashed = r(L.trashed) < 0.015;
    const rng = new Rng(this.#o.seed, slot, 0x91a);
    const albums = this.#o.memberAlbums;
    const album =
      zone === OWNER_PRIMARY && albums.length > 0 && r(L.album) < 0.15 ? rng.pick(albums) : undefined;
    return {
      ...base,
      ...(hostile && !derived ? { fileName: rng.pick(HOSTILE_FILE_NAMES) } : {}),
      ...(encoding && !derived ? { filenameEncoding: rng.pick(ENCODING_OVERRIDES) } : {}),
      ...(itemType && !derived ? { itemTypeOverride: rng.pick(ITEM_TYPE_OVERRIDES) } : {}),
      ...(noUrl && !derived ? { noDownloadUrl: 'JPEGThumb' as const } : {}),
      ...(r(L.edited) < (kind === 'slomo' || kind === 'screenshot' ? 1 : video ? 0.03 : 0.06)
        ? { edited: true }
        : {}),
      ...(r(L.hidden) < 0.015 ? { hidden: true } : {}),
      ...(r(L.favorite) < 0.05 ? { favorite: true } : {}),
      ...(trashed
        ? {
            trashedDaysAgo: 1 + Math.floor(r(L.trashed + 100) * 28),
            ...(zone === SHARED_ZONE ? { trashReason: 1 as const, trashedBy: contributor ?? 'owner' } : {}),
          }
        : {}),
      ...(kind === 'live' && r(L.classic) < 0.3 ? { liveClassic: true } : {}),
      ...(burst
        ? {
            burstId: this.#burstId(Math.floor(slot / 4)),
            burstPick: slot % 4 === 0,
          }
        : {}),
      ...(album !== undefined ? { album } : {}),
    };
  }

  #burstId(block: number): string {
    const h = new Rng(this.#o.seed, block, 0xb55).bytes(16).toString('hex').toUpperCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-A${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** Capture time of generated slot `slot` (strictly increasing with the slot). */
  captureTimeOf(slot: number): number {
    const jitter = Math.floor(this.#roll(slot, 0x71) * (this.#step / 2));
    return this.#start + slot * this.#step + jitter;
  }

  /** When a generated slot entered the library. */
  addedTimeOf(slot: number, plan: SlotPlan): number {
    if (plan.addedTime !== undefined) return plan.addedTime;
    const capture = plan.captureTime ?? this.captureTimeOf(plan.masterSlot);
    const lag = plan.masterSlot !== slot ? 3_600_000 : 1500 + Math.floor(this.#roll(slot, 0x72) * 600_000);
    return Math.min(capture + lag, this.#o.anchor - 1000);
  }

  /** The file(s) the CPLMaster of `masterSlot` describes. */
  content(masterSlot: number, plan: SlotPlan): MasterContent {
    const rng = new Rng(this.#o.seed, masterSlot, 0xc07);
    const scale = this.#o.mediaScale;
    const kind = plan.kind;
    const scaled = (lo: number, hi: number) => Math.max(256, Math.round(rng.int(lo, hi) * scale));
    const captureTime = plan.captureTime ?? this.captureTimeOf(masterSlot);
    const timeZoneOffsetSeconds =
      plan.timeZoneOffsetSeconds ??
      rng.pick([0, 3600, 7200, -18_000, -25_200, 19_800, 25_200, 32_400, 34_200, -10_800]);
    const video = kind === 'video' || kind === 'slomo' || kind === 'timelapse';
    const imageType =
      kind === 'png' || kind === 'screenshot'
        ? 'public.png'
        : kind === 'raw'
          ? rng.pick(RAW_TYPES)
          : kind === 'jpeg' || (kind === 'live' && plan.liveClassic)
            ? 'public.jpeg'
            : kind === 'burst' || kind === 'live'
              ? rng.pick(['public.jpeg', 'public.heic'])
              : 'public.heic';
    const itemType = video ? 'com.apple.quicktime-movie' : imageType;
    const resources: Resource[] = [];
    const add = (family: Family, uti: string, size: number, width: number, height: number, extra = {}) =>
      resources.push({
        family,
        uti,
        size,
        width,
        height,
        generation: 0,
        ...(plan.noDownloadUrl === family ? { noDownloadUrl: true } : {}),
        ...extra,
      });
    let width = 4032;
    let height = 3024;
    let durationMs = 0;
    const landscape = rng.float() < 0.6;
    if (video) {
      const uhd = rng.float() < 0.3;
      width = uhd ? 3840 : 1920;
      height = uhd ? 2160 : 1080;
      durationMs = rng.int(2_000, kind === 'timelapse' ? 30_000 : 90_000);
      const perSecond = uhd ? 5_600_000 : 2_000_000;
      const originalSize =
        plan.sizeBytes ?? Math.max(256, Math.round((durationMs / 1000) * perSecond * scale));
      add('Original', itemType, originalSize, width, height);
      add('JPEGMed', 'public.jpeg', scaled(300_000, 600_000), 2364, 1330);
      add('JPEGThumb', 'public.jpeg', scaled(30_000, 60_000), 554, 311);
      add(
        'VidMed',
        'public.mpeg-4',
        Math.max(256, Math.round((durationMs / 1000) * 450_000 * scale)),
        1280,
        720,
      );
      add(
        'VidSmall',
        'public.mpeg-4',
        Math.max(256, Math.round((durationMs / 1000) * 130_000 * scale)),
        640,
        360,
      );
    } else {
      if (kind === 'screenshot') {
        width = 1170;
        height = 2532;
      } else if (kind === 'png') {
        width = rng.int(600, 2400);
        height = rng.int(400, 1800);
      } else if (kind === 'panorama') {
        width = 12_000;
        height = 3_000;
      } else if (kind === 'raw') {
        width = 6000;
        height = 4000;
      } else if (!landscape) {
        width = 3024;
        height = 4032;
      }
      const [lo, hi] =
        kind === 'raw'
          ? [18_000_000, 30_000_000]
          : kind === 'panorama'
            ? [8_000_000, 15_000_000]
            : imageType === 'public.png'
              ? [300_000, 2_500_000]
              : imageType === 'public.heic'
                ? [1_200_000, 3_200_000]
                : [1_800_000, 4_500_000];
      add('Original', imageType, plan.sizeBytes ?? scaled(lo, hi), width, height);
      if (kind === 'raw') add('OriginalAlt', 'public.jpeg', scaled(3_000_000, 6_000_000), width, height);
      if (kind === 'live') {
        add('OriginalVidCompl', 'com.apple.quicktime-movie', scaled(1_500_000, 4_000_000), 1308, 980, {
          ...(plan.liveClassic ? { classicQuickTime: true } : {}),
        });
      }
      const portrait = height > width;
      add('JPEGMed', 'public.jpeg', scaled(300_000, 700_000), portrait ? 1536 : 2048, portrait ? 2048 : 1536);
      add('JPEGThumb', 'public.jpeg', scaled(40_000, 90_000), portrait ? 360 : 480, portrait ? 480 : 360);
      if (kind === 'live') {
        add('VidMed', 'com.apple.quicktime-movie', scaled(800_000, 2_000_000), 653, 872);
        add('VidSmall', 'com.apple.quicktime-movie', scaled(300_000, 600_000), 436, 581);
      }
    }
    const ext = extensionFor(kind, imageType);
    const number = String(1 + (masterSlot % 9999)).padStart(4, '0');
    const template = plan.fileName ?? `IMG_${number}.{ext}`;
    const fileName = template.replaceAll('{ext}', ext);
    return {
      kind,
      mediaType: video ? 'video' : 'photo',
      fileName,
      filenameEncoding: plan.filenameEncoding ?? 'ENCRYPTED_BYTES',
      itemType: plan.itemTypeOverride === 'unknown' ? UNKNOWN_UTI : itemType,
      ...(plan.itemTypeOverride ? { itemTypeOverride: plan.itemTypeOverride } : {}),
      captureTime,
      timeZoneOffsetSeconds,
      width,
      height,
      orientation: rng.pick([1, 1, 1, 6, 6, 3, 8]),
      durationMs,
      resources,
      ...(plan.burstId ? { burstId: plan.burstId, burstPick: plan.burstPick === true } : {}),
      latitude: Math.round((rng.float() * 140 - 70) * 1e6) / 1e6,
      longitude: Math.round((rng.float() * 360 - 180) * 1e6) / 1e6,
      deviceId: rng.pick(this.#devices),
    };
  }

  /** The adjustment type a fresh edit of this kind gets. */
  static adjustmentTypeFor(kind: AssetKind): string {
    if (kind === 'slomo') return SLOMO_ADJUSTMENT;
    if (kind === 'screenshot') return SCREENSHOT_ADJUSTMENT;
    return PHOTO_ADJUSTMENT;
  }

  /** Resources an edit renders onto the CPLAsset (docs/protocol/records.md#live-raw-edits): none for slo-mo. */
  renders(slot: number, content: MasterContent, edit: EditState): Resource[] {
    if (edit.adjustmentType === SLOMO_ADJUSTMENT) return [];
    const rng = new Rng(this.#o.seed, slot, edit.generation, 0xed1);
    const scale = this.#o.mediaScale;
    const original = content.resources.find((r) => r.family === 'Original');
    const originalSize = original?.size ?? 1_000_000;
    const gen = edit.generation;
    if (content.mediaType === 'video') {
      return [
        {
          family: 'VidFull',
          uti: 'com.apple.quicktime-movie',
          size: Math.max(256, Math.round(originalSize * (0.5 + rng.float() * 0.5))),
          width: content.width,
          height: content.height,
          generation: gen,
        },
      ];
    }
    const screenshot = edit.adjustmentType === SCREENSHOT_ADJUSTMENT;
    const width = screenshot ? 750 : content.width;
    const height = screenshot ? Math.round((content.height * 750) / content.width) : content.height;
    const out: Resource[] = [
      {
        family: 'JPEGFull',
        uti: 'public.jpeg',
        size: screenshot
          ? Math.max(256, Math.round(rng.int(150_000, 300_000) * scale))
          : Math.max(256, Math.round(Math.min(originalSize, 4_000_000 * scale) * (0.7 + rng.float() * 0.25))),
        width,
        height,
        generation: gen,
      },
      {
        family: 'AssetJPEGThumb',
        uti: 'public.jpeg',
        size: Math.max(256, Math.round(rng.int(30_000, 60_000) * scale)),
        width: screenshot ? 330 : 360,
        height: screenshot ? 520 : 480,
        generation: gen,
      },
    ];
    if (content.kind === 'live') {
      const motion = content.resources.find((r) => r.family === 'OriginalVidCompl');
      out.push({
        family: 'VidFull',
        uti: 'com.apple.quicktime-movie',
        size: Math.max(256, Math.round((motion?.size ?? 2_000_000) * (0.8 + rng.float() * 0.2))),
        width: motion?.width ?? 1308,
        height: motion?.height ?? 980,
        generation: gen,
      });
    }
    return out;
  }
}
