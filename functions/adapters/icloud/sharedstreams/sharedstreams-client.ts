/**
 * The legacy Shared Albums web service (`pNN-sharedstreams.icloud.com`,
 * docs/protocol/shared-albums.md), one typed method per endpoint the archive reads, over the
 * adapter's `IcloudHttp`. POST with a JSON body sent as `text/plain` like the CloudKit calls.
 *
 * An HTTP 330 names the right host (JSON field and/or header `X-Apple-MMe-Host`); the request is
 * repeated there (at most three hops, Apple hosts only) and the host is remembered for the rest of
 * the client's life, so later calls go straight to it. Failures become the domain's error classes
 * and are retried in-process only when the project's classifier calls them retryable.
 */

import {
  classifyError,
  RateLimitedError,
  SessionExpiredError,
  UnexpectedResponseError,
} from '#domain/errors.ts';
import { SharedAlbumGoneError } from '#domain/shared-albums/errors.ts';
import { parseRetryAfter, type RetryOptions, retry } from '#shared/retry.ts';
import type * as z from '#shared/zod.ts';
import { TRANSIENT_CODES } from '../cloudkit/cloudkit-errors.ts';
import type { IcloudHttp } from '../http/types.ts';
import {
  albumsListSchema,
  commentsSchema,
  REDIRECT_FIELD,
  recordsSchema,
  redirectBodySchema,
} from './wire-schemas.ts';

/** The only hosts a 330 may send us to (public-link clients check the same). */
const SHAREDSTREAMS_HOST = /^p\d{1,3}-sharedstreams\.icloud\.com(\.cn)?$/;
const MAX_REDIRECTS = 3;
const CLIENT_BUILD_NUMBER = '2522Project44';
const CLIENT_MASTERING_NUMBER = '2522B2';

export interface SharedStreamsClientOptions {
  readonly http: IcloudHttp;
  /** `webservices.sharedstreams.url` of the session; undefined when the account lists none. */
  readonly baseUrl: () => string | undefined;
  readonly dsid: string;
  readonly clientId: string;
  readonly retry?: Omit<RetryOptions, 'decide'>;
}

/** An album call: which album, for the 404 that means it is gone. */
interface AlbumContext {
  readonly albumguid: string;
}

export class SharedStreamsClient {
  readonly #options: SharedStreamsClientOptions;
  /** Hosts Apple redirected us away from, and where to (remembered for the client's life). */
  readonly #moved = new Map<string, string>();

  constructor(options: SharedStreamsClientOptions) {
    this.#options = options;
  }

  /** Whether the session lists the service at all. */
  get available(): boolean {
    return Boolean(this.#options.baseUrl());
  }

  /** `POST {S}/{dsid}/sharedstreams/webgetalbumslist`: every album the account owns or joined. */
  async albumsList(): Promise<readonly unknown[]> {
    const base = this.#options.baseUrl();
    if (!base)
      throw new UnexpectedResponseError('the session lists no sharedstreams service', { permanent: true });
    const url = `${base.replace(/\/+$/, '')}/${this.#options.dsid}/sharedstreams/webgetalbumslist`;
    const body = await this.#call(url, {}, albumsListSchema);
    return body.albums;
  }

  /** `POST {L}webgetassets`: items `[offset, end)` as CPLMaster/CPLAsset records. */
  async assets(
    location: string,
    albumguid: string,
    ctag: string,
    offset: number,
    end: number,
  ): Promise<readonly unknown[]> {
    const request = {
      albumguid,
      ...(ctag ? { albumctag: ctag } : {}),
      // Strings, as every client sends them; `limit` is the END of the range, not a page size.
      offset: String(offset),
      limit: String(end),
    };
    const body = await this.#call(albumUrl(location, 'webgetassets'), request, recordsSchema, { albumguid });
    return body.records;
  }

  /** `POST {L}getcomments`: an item's comments and likes. */
  async comments(location: string, albumguid: string, assetguid: string) {
    const body = await this.#call(
      albumUrl(location, 'getcomments'),
      { albumguid, assetguid },
      commentsSchema,
      {
        albumguid,
      },
    );
    return body.comments;
  }

  async #call<S extends z.ZodMiniType>(
    url: string,
    json: unknown,
    schema: S,
    album?: AlbumContext,
  ): Promise<z.infer<S>> {
    return retry(() => this.#once(url, json, schema, album), {
      ...this.#options.retry,
      decide: (error) =>
        classifyError(error) === 'retryable' && !(error instanceof SharedAlbumGoneError)
          ? {
              retry: true,
              ...(error instanceof RateLimitedError && error.retryAfterSeconds !== undefined
                ? { retryAfterMs: error.retryAfterSeconds * 1000 }
                : {}),
            }
          : { retry: false },
    });
  }

  async #once<S extends z.ZodMiniType>(appleUrl: string, json: unknown, schema: S, album?: AlbumContext) {
    const operation = new URL(appleUrl).pathname.split('/').filter(Boolean).pop() ?? 'sharedstreams';
    let url = this.#rehost(appleUrl);
    for (let hop = 0; ; hop++) {
      const response = await this.#options.http.send({
        method: 'POST',
        url: withParams(url, this.#options),
        headers: {
          'Content-Type': 'text/plain;charset=UTF-8',
          Origin: 'https://www.icloud.com',
          Referer: 'https://www.icloud.com/',
          Accept: 'application/json',
        },
        json,
      });
      const text = await response.text();
      const body = parseJson(text);
      if (response.status === 330) {
        const fromBody = redirectBodySchema.safeParse(body ?? {});
        const host = (
          response.headers.get(REDIRECT_FIELD) ??
          (fromBody.success ? fromBody.data[REDIRECT_FIELD] : undefined)
        )
          ?.trim()
          .toLowerCase();
        if (!host || !SHAREDSTREAMS_HOST.test(host) || hop >= MAX_REDIRECTS) {
          throw new UnexpectedResponseError(
            `sharedstreams answered 330 to ${operation} without a usable host`,
            {
              permanent: true,
            },
          );
        }
        const from = new URL(url).hostname.toLowerCase();
        this.#moved.set(from, host);
        url = this.#rehost(url);
        continue;
      }
      if (response.status !== 200)
        throw errorOf(response.status, operation, album, response.headers.get('retry-after'));
      if (body === undefined) {
        throw new UnexpectedResponseError(`sharedstreams answered ${operation} with a body that is not JSON`);
      }
      const refused = errorInBody(body, operation);
      if (refused) throw refused;
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        const fields = [
          ...new Set(parsed.error.issues.map((i) => i.path.map(String).join('.') || '(body)')),
        ].join(', ');
        throw new UnexpectedResponseError(
          `sharedstreams answered ${operation} in an unexpected shape (${fields})`,
          {
            cause: parsed.error,
          },
        );
      }
      return parsed.data as z.infer<S>;
    }
  }

  /** `url` on the host Apple last sent us to from its host (following chains). */
  #rehost(url: string): string {
    const u = new URL(url);
    for (let i = 0; i < MAX_REDIRECTS; i++) {
      const to = this.#moved.get(u.hostname.toLowerCase());
      if (!to || to === u.hostname.toLowerCase()) break;
      u.hostname = to;
    }
    return u.toString();
  }
}

/** `L` joined with `name` by exactly one `/` (real values end in `/sharedstreams/`, fixtures may not). */
export function albumUrl(location: string, name: string): string {
  return `${location.replace(/\/+$/, '')}/${name}`;
}

function withParams(url: string, options: SharedStreamsClientOptions): string {
  const u = new URL(url);
  u.search = new URLSearchParams({
    clientBuildNumber: CLIENT_BUILD_NUMBER,
    clientMasteringNumber: CLIENT_MASTERING_NUMBER,
    clientId: options.clientId,
    dsid: options.dsid,
  }).toString();
  return u.toString();
}

function errorOf(
  status: number,
  operation: string,
  album: AlbumContext | undefined,
  retryAfter: string | null,
): Error {
  const what = `sharedstreams answered HTTP ${status} to ${operation}`;
  if (status === 429 || status === 503) {
    const ms = parseRetryAfter(retryAfter, Date.now());
    return new RateLimitedError(what, ms === undefined ? {} : { retryAfterSeconds: ms / 1000 });
  }
  if (status === 401 || status === 421) return new SessionExpiredError(what);
  // An album the caller cannot see any more (left, deleted, removed) answers 404 (docs/protocol/shared-albums.md#errors).
  if (status === 404 && album) return new SharedAlbumGoneError(album.albumguid);
  return new UnexpectedResponseError(what, { permanent: status >= 400 && status < 500 });
}

/**
 * A 200 whose body is an error (`{"serverErrorCode": "TRY_AGAIN_LATER", "reason": ...}`, CloudKit's
 * shape): never an answer (read as one, it was an empty album list). Retryable either way: a
 * "try again later" as throttling, an unknown code as an unexpected answer the next run asks again.
 */
function errorInBody(body: unknown, operation: string): Error | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { serverErrorCode: code, retryAfter } = body as Record<string, unknown>;
  if (typeof code !== 'string' || code === '') return undefined;
  const what = `sharedstreams answered ${code.slice(0, 40)} to ${operation}`;
  if (!TRANSIENT_CODES.has(code)) return new UnexpectedResponseError(what);
  return new RateLimitedError(what, typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {});
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
