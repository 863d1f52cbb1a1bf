/**
 * The asset CDN (`cvws.icloud-content.com`, docs/protocol/cdn.md and S108-S115 in docs/protocol/simulator-contract.md#asset-cdn): serves the media a
 * signed download URL names, authorised by the URL's signature and expiry alone (no cookies).
 *
 *   valid, unexpired URL          -> 200, exactly `size` bytes, the recorded headers
 *   `Range` (single)              -> 206 + `Content-Range`; past the end -> 416 `bytes *\/size`
 *   altered URL                   -> 400 `{}` (application/json), or 403 when configured
 *   expired URL (`e` passed)      -> 410 Gone
 *   unknown resource              -> 404
 *
 * Bodies are `stream` replies that generate the media on demand; nothing is buffered. HEAD gets the
 * same reply (the server sends the headers and never opens the stream).
 */
import { openMedia } from '../media/index.ts';
import type { Clock, ResolveResource, SimReply, SimRequest } from '../types.ts';
import { cdnHeaders, contentDisposition } from './headers.ts';
import { decideRange } from './range.ts';
import type { SignedUrlMinter } from './urls.ts';

/** When downloads without the session cookie get kei's 17-byte answer (docs/protocol/cdn.md#download-errors). */
export type RequireCookieMode = 'never' | 'sharedSync' | 'always';

export interface CdnDeps {
  readonly minter: SignedUrlMinter;
  readonly resolve: ResolveResource;
  readonly clock: Clock;
  /** Quirk of the recorded resume cassette: ignore `Range` and answer 200 with the whole file. */
  readonly ignoreRange?: boolean;
  /** Status for a URL whose signature does not verify: 400 with `{}` (default, as recorded) or 403. */
  readonly invalidSignatureStatus?: 400 | 403;
  /**
   * Fault mode: without an `X-APPLE-WEBAUTH-TOKEN` cookie, answer 200 with the 17-byte
   * `NO_COOKIE_BODY` (for every URL, or only SharedSync zones as kei observed). Default `never`.
   */
  readonly requireCookie?: RequireCookieMode;
}

/**
 * The 17-byte body kei saw for SharedSync downloads without cookies. Its exact bytes are not
 * recorded (only "17 bytes, an error status 501 inside"), so this is a stand-in of that shape.
 */
export const NO_COOKIE_BODY = Buffer.from('{"errorCode":501}', 'latin1');

const OCTET_STREAM = 'application/octet-stream';

function needsCookie(mode: RequireCookieMode, req: SimRequest, zone: string): boolean {
  if (mode === 'never' || req.cookies.has('X-APPLE-WEBAUTH-TOKEN')) return false;
  return mode === 'always' || zone.startsWith('SharedSync-');
}

/** Answers one request to the CDN host (see the module comment). */
export async function handleCdn(req: SimRequest, deps: CdnDeps): Promise<SimReply> {
  const now = deps.clock.now();
  const base = cdnHeaders(now, req.query.get('r') ?? '');
  const method = req.method.toUpperCase();
  if (method === 'OPTIONS') return { status: 200, headers: base, body: { kind: 'empty' } };
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { ...base, Allow: 'GET,OPTIONS' }, body: { kind: 'empty' } };
  }

  let url: URL;
  try {
    url = new URL(`https://${req.host}${req.path}${req.query.size > 0 ? `?${req.query}` : ''}`);
  } catch {
    return invalidSignature(base, deps);
  }
  const verified = deps.minter.verify(url);
  if ('invalid' in verified) return invalidSignature(base, deps);
  if (verified.expired) return { status: 410, headers: base, body: { kind: 'empty' } };
  const spec = deps.resolve(verified.fileChecksum);
  if (!spec) return { status: 404, headers: base, body: { kind: 'empty' } };

  const segment = req.path.slice(req.path.lastIndexOf('/') + 1);
  const headers = { ...base, 'Content-Disposition': contentDisposition(segment) };
  if (needsCookie(deps.requireCookie ?? 'never', req, req.query.get('ckz') ?? '')) {
    return {
      status: 200,
      headers,
      body: { kind: 'bytes', value: NO_COOKIE_BODY, contentType: OCTET_STREAM },
    };
  }

  const decision = deps.ignoreRange
    ? { kind: 'full' as const }
    : decideRange(req.headers['range'], spec.size);
  if (decision.kind === 'unsatisfiable') {
    return {
      status: 416,
      headers: { ...headers, 'Content-Range': `bytes */${spec.size}` },
      body: { kind: 'empty' },
    };
  }
  const range = decision.kind === 'partial' ? { start: decision.start, end: decision.end } : undefined;
  const length = range ? range.end - range.start + 1 : spec.size;
  const status = range ? 206 : 200;
  const replyHeaders = range
    ? { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${spec.size}` }
    : headers;
  return {
    status,
    headers: replyHeaders,
    body: { kind: 'stream', open: () => openMedia(spec, range), length, contentType: OCTET_STREAM },
  };
}

function invalidSignature(base: Record<string, string>, deps: CdnDeps): SimReply {
  const status = deps.invalidSignatureStatus ?? 400;
  if (status === 403) return { status, headers: base, body: { kind: 'empty' } };
  return { status, headers: base, body: { kind: 'json', value: {}, contentType: 'application/json' } };
}
