/**
 * Pairs CPLMasters with their CPLAssets across pages (docs/protocol/cloudkit.md#query-pages, docs/protocol/sync-tokens.md#changes-zone): the two halves of a
 * photo may arrive on different pages and in any order, so pairing is by `masterRef`, never by
 * position.
 *
 * Crash safety: the pipeline persists its position after every page, so the halves still waiting
 * for a partner must survive a restart. `pending()` names them (record names only, a few bytes
 * each); a new pairer resumed from that list gets the records again with records/lookup (see
 * `CloudKitAssetSource`). Nothing unpaired is ever silently dropped at a page boundary.
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Asset, ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { type AssetRecord, assetOnlyChange, joinAsset, type MasterRecord } from './master-asset.ts';

/** Halves waiting for their partner, by record name. Plain JSON, safe to persist with a sync token. */
export interface PendingHalves {
  readonly masters: readonly string[];
  readonly assets: readonly string[];
}

export interface PairedPage {
  readonly assets: Asset[];
  readonly problems: UnexpectedResponseError[];
}

export interface FlushedHalves {
  /** Assets whose master never came: asset-only changes (their master is unchanged, docs/protocol/records.md#lifecycle-in-the-delta). */
  readonly changes: ZoneChange[];
  /** The same lone assets as records, for callers that can still fetch their masters. */
  readonly loneAssets: AssetRecord[];
  /** Masters whose assets never came: their assets did not change in this delta; nothing to emit. */
  readonly unpairedMasters: string[];
  readonly problems: UnexpectedResponseError[];
}

/** Masters already paired stay known for a while so a later duplicate asset (docs/protocol/records.md#lifecycle-in-the-delta) still pairs. */
const PAIRED_MASTERS_KEPT = 512;

export class AssetPairer {
  readonly #zone: ZoneRef;
  readonly #pendingMasters = new Map<string, MasterRecord>();
  readonly #pendingAssets = new Map<string, AssetRecord>();
  readonly #pairedMasters = new Map<string, MasterRecord>();

  constructor(zone: ZoneRef) {
    this.#zone = zone;
  }

  /** Adds one page's halves; returns the photos that now have both. */
  add(masters: readonly MasterRecord[], assets: readonly AssetRecord[]): PairedPage {
    const page: PairedPage = { assets: [], problems: [] };
    for (const master of masters) {
      this.#pairedMasters.delete(master.recordName);
      this.#pendingMasters.set(master.recordName, master);
    }
    const waiting = [...this.#pendingAssets.values()];
    this.#pendingAssets.clear();
    for (const asset of [...waiting, ...assets]) {
      const master =
        this.#pendingMasters.get(asset.masterRecordName) ?? this.#pairedMasters.get(asset.masterRecordName);
      if (master === undefined) {
        this.#pendingAssets.set(asset.recordName, asset);
        continue;
      }
      this.#rememberPaired(master);
      try {
        page.assets.push(joinAsset(master, asset, this.#zone));
      } catch (error) {
        if (!(error instanceof UnexpectedResponseError)) throw error;
        page.problems.push(error);
      }
    }
    return page;
  }

  /** The halves still waiting, to persist beside the token. */
  pending(): PendingHalves {
    return { masters: [...this.#pendingMasters.keys()], assets: [...this.#pendingAssets.keys()] };
  }

  /** End of the feed: lone assets become asset-only changes; lone masters are reported. */
  flush(): FlushedHalves {
    const flushed: FlushedHalves = {
      changes: [],
      loneAssets: [...this.#pendingAssets.values()],
      unpairedMasters: [...this.#pendingMasters.keys()],
      problems: [],
    };
    for (const asset of flushed.loneAssets) {
      flushed.changes.push({ type: 'assetOnly', change: assetOnlyChange(asset, this.#zone) });
    }
    this.#pendingAssets.clear();
    this.#pendingMasters.clear();
    return flushed;
  }

  #rememberPaired(master: MasterRecord): void {
    this.#pendingMasters.delete(master.recordName);
    this.#pairedMasters.delete(master.recordName);
    this.#pairedMasters.set(master.recordName, master);
    if (this.#pairedMasters.size > PAIRED_MASTERS_KEPT) {
      const oldest = this.#pairedMasters.keys().next().value;
      if (oldest !== undefined) this.#pairedMasters.delete(oldest);
    }
  }
}
