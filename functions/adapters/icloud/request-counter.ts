/**
 * Counts the requests we make to Apple, by endpoint, with the same names the simulator's `/stats`
 * uses: the CloudKit path after the database (`changes/zone`, `records/query`...), the last path
 * part for setup (`accountLogin`, `validate`), the path after `/appleauth/auth/` for sign-in
 * (`signin/init`), and `cdn` for downloads. What `sync --json`, run records and metrics report.
 */
import { isAppleCdnHost } from '#shared/apple-cdn-host.ts';
import type { IcloudHttp, IcloudHttpRequest, IcloudHttpResponse } from './http/types.ts';

const CLOUDKIT_PATH = /\/database\/1\/[^/]+\/[^/]+\/(?:private|shared)\/(.+)$/;

/** The endpoint key of an Apple URL (never includes the query: CDN URLs are signed). */
export function endpointKeyOf(url: string): string {
  const parsed = new URL(url);
  const host = parsed.hostname;
  if (isAppleCdnHost(host)) return 'cdn';
  const path = parsed.pathname;
  // Shared Albums, named as the simulator's `/stats` names them: `sharedstreams/webgetalbumslist`.
  if (host.includes('-sharedstreams.')) return `sharedstreams/${path.split('/').filter(Boolean).pop() ?? ''}`;
  const cloudKit = CLOUDKIT_PATH.exec(path);
  if (cloudKit?.[1] !== undefined) return cloudKit[1];
  const auth = /\/appleauth\/auth\/?(.*)$/.exec(path);
  if (auth !== null) return auth[1] === '' || auth[1] === undefined ? 'auth' : auth[1];
  return path.split('/').filter(Boolean).pop() ?? host;
}

/**
 * Counts requests either as the transport that sends them (`send`), or as told by one
 * (`record`, which the session's network transport calls for every request and redirect hop).
 */
export class RequestCounter implements IcloudHttp {
  readonly #inner: IcloudHttp | undefined;
  readonly #counts = new Map<string, number>();

  constructor(inner?: IcloudHttp) {
    this.#inner = inner;
  }

  send(request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
    if (this.#inner === undefined) throw new Error('this request counter only records, it sends nothing');
    this.record(request.url);
    return this.#inner.send(request);
  }

  /** Counts one request to `url`. */
  record(url: string): void {
    const key = endpointKeyOf(url);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /**
   * Requests so far, by endpoint, in alphabetical order. The keys are ASCII names compared as
   * such: a locale comparison loads ICU's collation data, 10-15 ms at the end of every sync.
   */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  total(): number {
    let sum = 0;
    for (const n of this.#counts.values()) sum += n;
    return sum;
  }

  reset(): void {
    this.#counts.clear();
  }
}
