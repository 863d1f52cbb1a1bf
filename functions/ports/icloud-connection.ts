/**
 * One opened iCloud connection as a use case sees it: the library (`AssetSource`), the CDN
 * (`MediaDownloader`), the stored session behind them and the count of requests made to Apple.
 * Opened once per invocation by the composition root; the use case saves the session at the end.
 * Each Lambda function opens what it uses: detection the library side alone (no CDN), the
 * download workers the CDN and a lookup of named assets (no change feed, enumeration or albums),
 * so neither bundle carries the other's adapters.
 */
import type { AccountIdentity } from '#domain/model/archive-owner.ts';
import type { AssetLookup, AssetSource } from './asset-source.ts';
import type { MediaDownloader } from './media-download.ts';
import type { SharedAlbumItems, SharedAlbumSource } from './shared-album-source.ts';

export interface IcloudSessionHandle {
  /**
   * The account the session is signed in to (a hash of its dsid, the Apple ID masked): compared
   * with the archive's before anything is read (domain/account/archive-owner.ts).
   */
  readonly account?: AccountIdentity;
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

/** The download side of a connection: the CDN, and fresh copies of named assets (URL refresh). */
export interface IcloudDownloadConnection {
  readonly session: IcloudSessionHandle;
  readonly source: AssetLookup;
  readonly downloader: MediaDownloader;
  /** Shared Albums' items (docs/protocol/shared-albums.md); absent where the runtime does not read them. */
  readonly sharedAlbums?: SharedAlbumItems;
  /** Every request to Apple made through this connection, by endpoint. */
  readonly requests: AppleRequestCounts;
}

/** Both sides (the CLI and the local runtime). */
export interface IcloudConnection extends IcloudLibraryConnection, IcloudDownloadConnection {
  readonly source: AssetSource;
  readonly sharedAlbums?: SharedAlbumSource;
}
