/**
 * The response headers of Apple's content vendor (`contentvendorws`), as recorded on every CDN
 * download in the icloudpd cassettes (docs/protocol/cdn.md#request-and-response). Instance-specific values (request UUID, instance,
 * correlation key, date) are generated in the same shapes.
 */
import { createHash } from 'node:crypto';

/** `Content-Disposition` for the URL's last path segment, percent-encoded as Apple echoes `${f}`. */
export function contentDisposition(rawSegment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(rawSegment);
  } catch {
    name = rawSegment;
  }
  const encoded = encodeURIComponent(name).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${encoded}"; filename*=UTF-8''${encoded}`;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 26 base32 characters, like `X-Apple-Jingle-Correlation-Key`. */
function correlationKey(input: string): string {
  const digest = createHash('sha256').update(input).digest();
  let out = '';
  for (let i = 0; i < 26; i += 1) out += BASE32[digest[i]! % 32];
  return out;
}

/**
 * Headers every CDN answer carries. The recorded `X-Apple-Request-UUID` is the URL's `r`
 * parameter followed by the response time in ms (`…-c021-1` + `1533040629205`).
 */
export function cdnHeaders(now: number, requestRef: string): Record<string, string> {
  return {
    'Accept-Ranges': 'bytes',
    'Access-Control-Allow-Credentials': 'false',
    'Access-Control-Allow-Headers': '',
    'Access-Control-Allow-Methods': 'GET,OPTIONS',
    'Access-Control-Allow-Origin': 'https://www.icloud.com',
    'Apple-Originating-System': 'UnknownOriginatingSystem',
    Date: new Date(now).toUTCString(),
    Server: 'AppleHttpServer/2f080fc0',
    'X-Apple-Jingle-Correlation-Key': correlationKey(`${requestRef}:${now}`),
    'X-Apple-Request-UUID': `${requestRef}${now}`,
    'X-Responding-Instance': 'contentvendorws:301500304:si03p01ic-sim010306:8404:24RC199:nocommit',
    'apple-seq': '0',
    'apple-tk': 'false',
  };
}
