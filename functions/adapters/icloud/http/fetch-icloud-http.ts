/**
 * `IcloudHttp` over Node's fetch: a tough-cookie jar keyed on Apple URLs, a desktop browser
 * User-Agent, the Origin/Referer rules of docs/protocol/session.md#http-conventions, docs/protocol/sign-in.md#request-headers, redirects followed by hand so cookies set
 * on a redirect are kept, and the session-state headers of every IdMSA/setup response handed to
 * `onSessionHeaders` (docs/protocol/session.md#session-headers). For a simulator the URL is rewritten only at send time.
 */

import type { CookieJar } from 'tough-cookie';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Logger } from '#shared/logger.ts';
import { errorMessage, redactUrl } from '#shared/redact.ts';
import type { IcloudEndpoint } from '../endpoints.ts';
import { captureSessionHeaders, type SessionHeaderValues } from '../session/session-headers.ts';
import type { ExchangeObserver, IcloudHttp, IcloudHttpRequest, IcloudHttpResponse } from './types.ts';

/** A current desktop browser; Apple rejects "old browser" sign-ins (docs/protocol/session.md#http-conventions). */
export const DESKTOP_USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36';

const MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface FetchIcloudHttpOptions {
  readonly endpoint: IcloudEndpoint;
  readonly jar: CookieJar;
  /** Receives the session-state headers of each IdMSA and setup response. */
  readonly onSessionHeaders?: (values: SessionHeaderValues) => void;
  readonly logger?: Logger;
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
  /** Applies when the request brings no signal of its own. */
  readonly timeoutMs?: number;
  /** Told the Apple URL of every request sent, each redirect hop included (the request counter). */
  readonly onRequest?: (appleUrl: string) => void;
  /** Sees every exchange, each redirect hop included (`--trace`). */
  readonly observer?: ExchangeObserver;
}

type HostKind = 'idmsa' | 'setup' | 'ckdatabasews' | 'other';

function hostKind(hostname: string): HostKind {
  const h = hostname.toLowerCase();
  if (h.startsWith('idmsa.apple.com')) return 'idmsa';
  if (h.startsWith('setup.icloud.com')) return 'setup';
  if (/^p\d+-ckdatabasews\.icloud\.com/.test(h)) return 'ckdatabasews';
  return 'other';
}

class BufferedResponse implements IcloudHttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly url: string;
  readonly #response: Response;
  #text: Promise<string> | undefined;

  constructor(response: Response, appleUrl: string) {
    this.#response = response;
    this.status = response.status;
    this.headers = response.headers;
    this.url = appleUrl;
  }
  get body(): ReadableStream<Uint8Array> | null {
    return this.#response.body;
  }
  text(): Promise<string> {
    this.#text ??= this.#response.text();
    return this.#text;
  }
  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch {
      const host = new URL(this.url).hostname;
      throw new UnexpectedResponseError(
        `${host} answered HTTP ${this.status} with a body that is not JSON (${text.length} bytes)`,
      );
    }
  }
}

/** `fetch failed (ECONNREFUSED)`: the message, with the system code fetch keeps in `cause`. */
function failureText(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return `${errorMessage(error)}${code}`;
}

export class FetchIcloudHttp implements IcloudHttp {
  readonly #options: FetchIcloudHttpOptions;
  readonly #fetch: typeof fetch;

  constructor(options: FetchIcloudHttpOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  async send(request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
    let method: string = request.method;
    let appleUrl = request.url;
    let body = this.#bodyOf(request);
    for (let hop = 0; ; hop++) {
      const started = Date.now();
      this.#options.onRequest?.(appleUrl);
      const headers = await this.#headersFor(request, appleUrl, body !== undefined);
      const sent = { method, url: appleUrl, headers, body };
      let response: Response;
      try {
        response = await this.#fetch(this.#options.endpoint.toTransportUrl(appleUrl), {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          redirect: 'manual',
          signal: request.signal ?? AbortSignal.timeout(this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        });
      } catch (error) {
        // `--verbose` shows the requests that got no answer too (refused, timed out, reset).
        this.#options.logger?.debug('apple request failed', {
          method,
          url: redactUrl(appleUrl),
          error: failureText(error),
          ms: Date.now() - started,
        });
        await this.#options.observer?.observe(sent, { error });
        throw error;
      }
      await this.#options.observer?.observe(sent, { response });
      const host = new URL(appleUrl).hostname;
      if (!request.withoutCookies) await this.#storeCookies(response, appleUrl);
      const kind = hostKind(host);
      if ((kind === 'idmsa' || kind === 'setup') && this.#options.onSessionHeaders) {
        this.#options.onSessionHeaders(captureSessionHeaders(response.headers));
      }
      this.#options.logger?.debug('apple response', {
        method,
        url: redactUrl(appleUrl),
        status: response.status,
        ms: Date.now() - started,
      });
      const location = response.headers.get('location');
      const isRedirect = [301, 302, 303, 307, 308].includes(response.status) && location;
      if (!isRedirect || hop >= MAX_REDIRECTS) return new BufferedResponse(response, appleUrl);
      await response.body?.cancel();
      appleUrl = new URL(location, appleUrl).toString();
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
      }
    }
  }

  #bodyOf(request: IcloudHttpRequest): string | undefined {
    if (request.json !== undefined) return JSON.stringify(request.json);
    return request.body;
  }

  async #headersFor(request: IcloudHttpRequest, appleUrl: string, hasBody: boolean): Promise<Headers> {
    const { endpoint } = this.#options;
    const headers = new Headers();
    headers.set('user-agent', this.#options.userAgent ?? DESKTOP_USER_AGENT);
    headers.set('accept', 'application/json, text/javascript, */*');
    const kind = hostKind(new URL(appleUrl).hostname);
    if (kind === 'idmsa') {
      headers.set('origin', endpoint.idmsaOrigin);
      headers.set('referer', `${endpoint.idmsaOrigin}/`);
    } else if (kind === 'setup' || kind === 'ckdatabasews') {
      headers.set('origin', endpoint.home);
      headers.set('referer', `${endpoint.home}/`);
    }
    if (hasBody) headers.set('content-type', request.json !== undefined ? 'application/json' : 'text/plain');
    for (const [name, value] of Object.entries(request.headers ?? {})) headers.set(name, value);
    if (!request.withoutCookies) {
      const cookie = await this.#options.jar.getCookieString(appleUrl);
      if (cookie) headers.set('cookie', cookie);
    }
    return headers;
  }

  async #storeCookies(response: Response, appleUrl: string): Promise<void> {
    for (const setCookie of response.headers.getSetCookie()) {
      // A cookie Apple scopes to a host we are not on is dropped, as a browser would.
      await this.#options.jar.setCookie(setCookie, appleUrl, { ignoreError: true });
    }
  }
}
