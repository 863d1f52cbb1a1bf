/**
 * Downloads from Apple's asset CDN (docs/protocol/cdn.md). The URL carries its own authorisation, so no cookies
 * are sent; the headers are the browser-like ones every peer sends.
 */
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseRetryAfter } from '#shared/retry.ts';
import {
  DownloadUrlExpiredError,
  DownloadUrlRefusedError,
  RateLimitedError,
  UnexpectedResponseError,
} from '../../../domain/errors.ts';
import type { MediaDownload, MediaDownloader } from '../../../ports/media-download.ts';
import type { IcloudHttp } from '../http/types.ts';
import { downloadUrlExpiresAt, refusedDownloadUrlReason } from './download-url.ts';

const CDN_HEADERS = {
  Accept: '*/*',
  Origin: 'https://www.icloud.com',
  Referer: 'https://www.icloud.com/',
} as const;

/** kei's read timeout: a body that sends nothing this long is dead, whatever its size. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/**
 * A download whose body stopped sending bytes. Named like `AbortSignal.timeout`'s error, so it is
 * classified as a timeout (retryable: the next attempt gets a new connection).
 */
export class StalledDownloadError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Passes `body` through, failing it when no byte arrives for `idleMs`. A whole-download time
 * limit would be wrong for multi-GB videos; a silence limit catches a stalled connection.
 */
function withIdleTimeout(body: Readable, idleMs: number): Readable {
  const out = new PassThrough();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const error = new StalledDownloadError(`the CDN sent nothing for ${Math.round(idleMs / 1000)} s`);
      body.destroy(error);
      out.destroy(error);
    }, idleMs);
  };
  arm();
  body.on('data', arm);
  body.on('error', (error) => {
    clearTimeout(timer);
    out.destroy(error);
  });
  body.on('end', () => clearTimeout(timer));
  out.on('close', () => clearTimeout(timer));
  return body.pipe(out);
}

export class CdnDownloader implements MediaDownloader {
  readonly #http: IcloudHttp;
  readonly #idleTimeoutMs: number;

  constructor(http: IcloudHttp, options: { readonly idleTimeoutMs?: number } = {}) {
    this.#http = http;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** The URL's own expiry, its `e` parameter (issue + 3600 s as recorded). */
  expiresAt(url: string): number | undefined {
    return downloadUrlExpiresAt(url);
  }

  async open(url: string, options: { readonly signal?: AbortSignal } = {}): Promise<MediaDownload> {
    const refused = refusedDownloadUrlReason(url);
    if (refused !== undefined) {
      // Never fetched. Not a verdict on the photo: the worker asks CloudKit for a fresh URL.
      throw new DownloadUrlRefusedError(
        `refused a download: the record's URL is not a download URL of Apple's asset CDN (${refused})`,
      );
    }
    const response = await this.#http.send({
      method: 'GET',
      url,
      headers: CDN_HEADERS,
      withoutCookies: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const { status } = response;
    if (status === 200 || status === 206) {
      if (response.body === null) throw new UnexpectedResponseError(`CDN answered ${status} without a body`);
      const declared = response.headers.get('content-length');
      const contentType = response.headers.get('content-type');
      return {
        body: withIdleTimeout(
          Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>),
          this.#idleTimeoutMs,
        ),
        ...(declared !== null && /^\d+$/.test(declared) ? { contentLength: Number(declared) } : {}),
        ...(contentType !== null ? { contentType } : {}),
      };
    }
    await response.body?.cancel().catch(() => undefined);
    if (status === 410) throw new DownloadUrlExpiredError('the download URL has expired (410)');
    if (status === 429 || status === 503) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
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
