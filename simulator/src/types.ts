/**
 * The seams between the simulator's parts. The HTTP server (server.ts) parses every request into a
 * `SimRequest`, applies faults and accounting, then hands it to the part that owns the host:
 *
 *   idmsa.apple.com(.cn)            -> auth/    (SRP, two-factor, trust)
 *   setup.icloud.com(.cn)           -> auth/    (accountLogin, validate, PCS)
 *   pNN-ckdatabasews.icloud.com     -> cloudkit/ (after auth/ authorised the cookies)
 *   cvws.icloud-content.com(.cn)    -> cdn/
 *   /__sim/...                      -> control/ (simulator-only API)
 *
 * Every part answers with a `SimReply`; none of them touches `http.ServerResponse` directly, which
 * keeps them testable without sockets.
 */
import type { Readable } from 'node:stream';

/** A cookie to set, with Apple's attributes (docs/protocol/session.md#cookies). */
export interface SimCookie {
  readonly name: string;
  readonly value: string;
  readonly domain?: string;
  readonly path?: string;
  /** Absolute expiry, ms since the epoch on the simulated clock. */
  readonly expires?: number;
  readonly secure?: boolean;
  readonly httpOnly?: boolean;
}

export interface SimRequest {
  readonly method: string;
  /** The Apple host this request is for, lower-case, without port (e.g. `setup.icloud.com`). */
  readonly host: string;
  /** Path on that host, starting with `/`, percent-decoding NOT applied. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case header names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Cookies the client sent (name -> value). */
  readonly cookies: ReadonlyMap<string, string>;
  /** Raw body bytes (empty for GET). */
  readonly body: Buffer;
  /** Body parsed as JSON when it parses (whatever the content type), else undefined. */
  readonly json: unknown;
}

export type SimBody =
  | { readonly kind: 'empty' }
  | { readonly kind: 'json'; readonly value: unknown; readonly contentType?: string }
  | { readonly kind: 'text'; readonly value: string; readonly contentType: string }
  | { readonly kind: 'bytes'; readonly value: Buffer; readonly contentType: string }
  /** A stream of exactly `length` bytes (CDN downloads); never buffered by the server. */
  | {
      readonly kind: 'stream';
      readonly open: () => Readable;
      readonly length: number;
      readonly contentType: string;
    };

export interface SimReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly cookies?: readonly SimCookie[];
  readonly body: SimBody;
}

/** Simulated time. Everything time-dependent (expiries, windows, trash) reads this, never Date.now(). */
export interface Clock {
  now(): number;
  advance(ms: number): void;
}

/**
 * The key a request is counted and fault-injected under (the `/stats` contract):
 * the path after the database for CloudKit (`changes/zone`, `records/query`, ...), the last path
 * part for sign-in and setup (`signin/init`, `signin/complete`, `accountLogin`, `validate`,
 * `securitycode`, `trust`, ...), and `cdn` for downloads.
 */
export type EndpointKey = string;

export const json = (value: unknown, status = 200, extra: Partial<SimReply> = {}): SimReply => ({
  status,
  ...extra,
  body: { kind: 'json', value },
});

export const empty = (status: number, extra: Partial<SimReply> = {}): SimReply => ({
  status,
  ...extra,
  body: { kind: 'empty' },
});

export const text = (
  value: string,
  status: number,
  contentType = 'text/plain',
  extra: Partial<SimReply> = {},
): SimReply => ({
  status,
  ...extra,
  body: { kind: 'text', value, contentType },
});

/** Who a CloudKit request acts as, once auth/ has accepted its cookies. */
export interface Principal {
  readonly appleId: string;
  readonly dsid: string;
  /** CloudKit user record name, `_` + 32 hex. */
  readonly userRecordName: string;
  /** The `pNN` partition of the account's CloudKit host. */
  readonly partition: number;
}

/**
 * Everything the CDN needs to serve one resource: the media generator turns it into exactly
 * `size` bytes of valid media of type `uti`, deterministically from `seed`.
 */
export interface MediaSpec {
  readonly uti: string;
  readonly size: number;
  /** Any string; the same seed always yields the same bytes. */
  readonly seed: string;
  /** Capture time (ms, UTC) and offset (seconds east of UTC) to embed (EXIF DateTimeOriginal, QuickTime dates). */
  readonly captureTime: number;
  readonly timeZoneOffsetSeconds: number;
  readonly width?: number;
  readonly height?: number;
  /** For `com.apple.quicktime-movie`: start with a classic QuickTime atom (`wide`) instead of `ftyp`. */
  readonly classicQuickTime?: boolean;
}

/** Maps a resource's `fileChecksum` (the `/B/` path of its URL) to what the CDN must serve. */
export type ResolveResource = (fileChecksum: string) => MediaSpec | undefined;

/** Mints Apple-shaped signed download URLs (docs/protocol/cdn.md#url-shape, S108 in docs/protocol/simulator-contract.md#asset-cdn). */
export interface UrlMinter {
  mint(input: {
    readonly fileChecksum: string;
    readonly referenceChecksum: string;
    readonly zoneName: string;
    /** X-Apple-Request-UUID of the CloudKit response that issues the URL. */
    readonly requestUuid: string;
    /**
     * The token's `wrappingKey` (standard base64, 16 bytes), echoed URL-safe in `k=`. When absent
     * the minter derives one from the `fileChecksum`.
     */
    readonly wrappingKey?: string;
  }): string;
}
