/**
 * The one way the iCloud adapter talks HTTP. Requests name Apple URLs
 * (`https://setup.icloud.com/...`); the implementation keeps the cookie jar keyed on those URLs
 * and, when the endpoint is a simulator, rewrites the URL only at send time
 * (see simulator/src/hosts.ts), so Apple's `Domain=.icloud.com` cookies route exactly as they do
 * against Apple.
 */
export interface IcloudHttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** An Apple URL. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialised as JSON with `Content-Type: application/json` unless a content type is given. */
  readonly json?: unknown;
  /** A raw body (e.g. the four characters `null` that `validate` expects). */
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** Send no cookies and store none (CDN downloads). */
  readonly withoutCookies?: boolean;
}

export interface IcloudHttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The URL that was requested (Apple form); never log it for CDN requests: it is signed. */
  readonly url: string;
  text(): Promise<string>;
  /** Parses the body as JSON whatever the Content-Type (Apple labels JSON as text/html at times). */
  json(): Promise<unknown>;
  /** The raw body stream, for downloads. Consume it or cancel it. */
  readonly body: ReadableStream<Uint8Array> | null;
}

export interface IcloudHttp {
  send(request: IcloudHttpRequest): Promise<IcloudHttpResponse>;
}

/** One request as it went on the wire (after cookies and default headers), named by its Apple URL. */
export interface SentRequest {
  readonly method: string;
  /** The Apple URL (never the simulator's rewrite). */
  readonly url: string;
  readonly headers: Headers;
  readonly body: string | undefined;
}

/**
 * Watches every HTTP exchange with Apple, redirect hops included (e.g. to write a sign-in trace).
 * `observe` runs before the caller sees the response; it must not consume `response` (clone it)
 * and must not hold up a media body.
 */
export interface ExchangeObserver {
  observe(
    request: SentRequest,
    outcome: { readonly response: Response } | { readonly error: unknown },
  ): Promise<void>;
}
