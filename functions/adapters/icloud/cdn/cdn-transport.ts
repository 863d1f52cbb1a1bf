/**
 * How the CDN downloader sends its one kind of request: a GET of a signed Apple CDN URL whose
 * body is a Node stream. Not the session's `IcloudHttp`: a download needs no cookies, no
 * redirects and no session headers, and a media body read as a web stream and converted back
 * (`fetch` + `Readable.fromWeb`) costs about 40 % more CPU per byte than one read off the socket.
 */
import type { Readable } from 'node:stream';

export interface CdnRequest {
  /** The Apple URL (the transport rewrites it for a simulator). Signed: never log it. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Aborting it destroys the request or the body with an `AbortError`. */
  readonly signal?: AbortSignal;
  /** Silence (no byte, before or after the headers) after which the request fails as a timeout. */
  readonly idleTimeoutMs: number;
}

export interface CdnResponse {
  readonly status: number;
  /** One response header, by case-insensitive name. */
  header(name: string): string | undefined;
  /** The body: consume it, or `destroy()` it to give the connection up. */
  readonly body: Readable;
}

export interface CdnTransport {
  get(request: CdnRequest): Promise<CdnResponse>;
}

/**
 * A download whose connection stopped sending bytes. Named like `AbortSignal.timeout`'s error, so
 * it is classified as a timeout (retryable: the next attempt gets a new connection).
 */
export class StalledDownloadError extends Error {
  override readonly name = 'TimeoutError';
}
