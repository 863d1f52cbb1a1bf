/**
 * Downloads from Apple's asset CDN (docs/protocol/cdn.md). The URL carries its own authorisation, so no cookies
 * are sent; the headers are the browser-like ones every peer sends.
 */
import { parseRetryAfter } from '#shared/retry.ts';
import {
  DownloadUrlExpiredError,
  DownloadUrlRefusedError,
  RateLimitedError,
  UnexpectedResponseError,
} from '../../../domain/errors.ts';
import type { MediaDownload, MediaDownloader } from '../../../ports/media-download.ts';
import type { CdnTransport } from './cdn-transport.ts';
import { downloadUrlExpiresAt, refusedDownloadUrlReason } from './download-url.ts';

export { StalledDownloadError } from './cdn-transport.ts';

const CDN_HEADERS = {
  Accept: '*/*',
  Origin: 'https://www.icloud.com',
  Referer: 'https://www.icloud.com/',
} as const;

/**
 * kei's read timeout: a connection that sends nothing this long is dead, whatever the file's
 * size. A whole-download time limit would be wrong for multi-GB videos; a silence limit catches
 * a stalled connection.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/** The first byte a 206's `Content-Range: bytes <first>-<last>/<length>` names, or -1. */
function rangeStart(contentRange: string | undefined): number {
  const match = /^bytes (\d+)-\d+\/\d+$/.exec(contentRange?.trim() ?? '');
  return match === null ? -1 : Number(match[1]);
}

export class CdnDownloader implements MediaDownloader {
  readonly #transport: CdnTransport;
  readonly #idleTimeoutMs: number;

  constructor(transport: CdnTransport, options: { readonly idleTimeoutMs?: number } = {}) {
    this.#transport = transport;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** The URL's own expiry, its `e` parameter (issue + 3600 s as recorded). */
  expiresAt(url: string): number | undefined {
    return downloadUrlExpiresAt(url);
  }

  async open(
    url: string,
    options: { readonly signal?: AbortSignal; readonly offset?: number } = {},
  ): Promise<MediaDownload> {
    const offset = options.offset ?? 0;
    const refused = refusedDownloadUrlReason(url);
    if (refused !== undefined) {
      // Never fetched. Not a verdict on the photo: the worker asks CloudKit for a fresh URL.
      throw new DownloadUrlRefusedError(
        `refused a download: the record's URL is not a download URL of Apple's asset CDN (${refused})`,
      );
    }
    const response = await this.#transport.get({
      url,
      // A resumed transfer asks for the rest of the file (docs/protocol/cdn.md#ranges).
      headers: offset > 0 ? { ...CDN_HEADERS, Range: `bytes=${offset}-` } : CDN_HEADERS,
      idleTimeoutMs: this.#idleTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const { status } = response;
    if (status === 200 || status === 206) {
      const declared = response.header('content-length');
      const contentType = response.header('content-type');
      // A 206 must be the range asked for: its first byte the offset (its end and the file's
      // length are checked by the count against the size CloudKit reported).
      const startsAt = status === 206 ? rangeStart(response.header('content-range')) : 0;
      if (startsAt !== (status === 206 ? offset : 0) || (status === 206 && offset === 0)) {
        response.body.destroy();
        throw new UnexpectedResponseError(`CDN answered 206 for another range than bytes=${offset}-`);
      }
      return {
        body: response.body,
        ...(offset > 0 ? { startsAt } : {}),
        ...(declared !== undefined && /^\d+$/.test(declared) ? { contentLength: Number(declared) } : {}),
        ...(contentType !== undefined ? { contentType } : {}),
      };
    }
    response.body.destroy();
    if (status === 410) throw new DownloadUrlExpiredError('the download URL has expired (410)');
    if (status === 429 || status === 503) {
      const retryAfterMs = parseRetryAfter(response.header('retry-after'), Date.now());
      const retryAfterSeconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
      throw new RateLimitedError(
        `CDN answered ${status}`,
        retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
      );
    }
    if (status >= 500) throw new UnexpectedResponseError(`CDN answered ${status}`);
    // 400 (tampered or malformed URL), 403, 404: the same URL will keep failing; a fresh URL may not.
    throw new UnexpectedResponseError(`CDN answered ${status}`, { permanent: status === 404 });
  }
}
