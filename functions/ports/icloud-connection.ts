/**
 * One opened iCloud connection as a use case sees it: the library (`AssetSource`), the CDN
 * (`MediaDownloader`), the stored session behind them and the count of requests made to Apple.
 * Opened once per invocation by the composition root; the use case saves the session at the end.
 * Detection needs no CDN: its connection is the library side alone, so the detector's bundle
 * carries no download code.
 */
import type { AssetSource } from './asset-source.ts';
import type { MediaDownloader } from './media-download.ts';
import type { SharedAlbumSource } from './shared-album-source.ts';

export interface IcloudSessionHandle {
  /** Estimated end of Apple's trust (issue + ~60 days); the next login after it needs two-factor. */
  readonly trustExpiresAt?: number;
  /** When the stored session was last written (ms): how stale its rotated cookies may be. */
  readonly storedAt: number;
  /** Stores the session (rotated cookies) if it changed; compare-and-set against what was loaded. */
  save(): Promise<void>;
}

export interface AppleRequestCounts {
  /** Requests by endpoint (`changes/zone`, `records/query`, `cdn`...). */
  counts(): Record<string, number>;
  total(): number;
}

/** The library side of a connection: all detection reads (no CDN). */
export interface IcloudLibraryConnection {
  readonly session: IcloudSessionHandle;
  readonly source: AssetSource;
  /** Shared Albums (docs/protocol/shared-albums.md); absent where the runtime does not read them. */
  readonly sharedAlbums?: SharedAlbumSource;
  /** Every request to Apple made through this connection, by endpoint. */
  readonly requests: AppleRequestCounts;
}

export interface IcloudConnection extends IcloudLibraryConnection {
  readonly downloader: MediaDownloader;
}
