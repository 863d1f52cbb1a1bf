/**
 * Opens the bytes of one resource on Apple's CDN as a stream. The URL is signed and expires
 * about an hour after CloudKit issued it: never log it.
 */
import type { Readable } from 'node:stream';

export interface MediaDownload {
  readonly body: Readable;
  /** The Content-Length the CDN declared, when it did. */
  readonly contentLength?: number;
  readonly contentType?: string;
}

export interface MediaDownloader {
  /**
   * Starts the download. Rejects with `DownloadUrlExpiredError` (410), `RateLimitedError`
   * (429/503, with the server's Retry-After), `SessionExpiredError` (401/403 twice in a row is the
   * caller's call; one is reported as `UnexpectedResponseError`), `UnexpectedResponseError`
   * otherwise. Aborting `signal` destroys the body.
   */
  open(url: string, options: { readonly signal?: AbortSignal }): Promise<MediaDownload>;
  /**
   * When `url` stops working (ms since the epoch), if the URL says so; past it the CDN answers 410.
   * Lets the caller refresh a URL before trying it.
   */
  expiresAt?(url: string): number | undefined;
}
