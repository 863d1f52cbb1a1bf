/**
 * Opens the bytes of one resource on Apple's CDN as a stream. The URL is signed and expires
 * about an hour after CloudKit issued it: never log it.
 */
import type { Readable } from 'node:stream';

export interface MediaDownload {
  readonly body: Readable;
  /** The Content-Length the CDN declared, when it did. */
  readonly contentLength?: number;
  /**
   * The byte of the file the body starts at: the offset asked for when the CDN answered the range
   * (206, its Content-Range naming that byte and the file's length), 0 when it sent the whole
   * file (200) or none was asked for.
   */
  readonly startsAt?: number;
  readonly contentType?: string;
}

export interface MediaDownloader {
  /**
   * Starts the download. Rejects with `DownloadUrlExpiredError` (410), `RateLimitedError`
   * (429/503, with the server's Retry-After), `SessionExpiredError` (401/403 twice in a row is the
   * caller's call; one is reported as `UnexpectedResponseError`), `UnexpectedResponseError`
   * otherwise. Aborting `signal` destroys the body. With `offset` (a resumed transfer) it asks for
   * the file from that byte on (`Range: bytes=<offset>-`); a 206 whose Content-Range does not
   * name that byte is an `UnexpectedResponseError`.
   */
  open(
    url: string,
    options: { readonly signal?: AbortSignal; readonly offset?: number },
  ): Promise<MediaDownload>;
  /**
   * When `url` stops working (ms since the epoch), if the URL says so; past it the CDN answers 410.
   * Lets the caller refresh a URL before trying it.
   */
  expiresAt?(url: string): number | undefined;
}
