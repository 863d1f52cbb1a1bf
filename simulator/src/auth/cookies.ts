/**
 * Cookies as Apple sets them (docs/protocol/session.md#cookies): `.icloud.com` for setup and CloudKit, `apple.com` /
 * `idmsa.apple.com` for IdMSA, `Expires` on the simulated clock in Apple's `Fri, 12-Jan-2024 05:06:31 GMT` form.
 */
import type { SimCookie } from '../types.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** `Fri, 12-Jan-2024 05:06:31 GMT` (the form Apple's setup service uses). */
export function appleCookieDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

/** One `Set-Cookie` header value. */
export function serializeSetCookie(c: SimCookie): string {
  const parts = [`${c.name}=${c.value}`];
  if (c.expires !== undefined) parts.push(`Expires=${appleCookieDate(c.expires)}`);
  parts.push(`Path=${c.path ?? '/'}`);
  if (c.domain) parts.push(`Domain=${c.domain}`);
  if (c.secure !== false) parts.push('Secure');
  if (c.httpOnly) parts.push('HttpOnly');
  return parts.join(';');
}

/** Parses a `Cookie` request header; a value wrapped in double quotes is kept with its quotes. */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** A cookie value without surrounding double quotes (clients differ in whether they keep them). */
export const unquote = (v: string): string =>
  v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;

export const ICLOUD_DOMAIN = '.icloud.com';
export const APPLE_DOMAIN = 'apple.com';
export const IDMSA_DOMAIN = 'idmsa.apple.com';

export const icloudCookie = (name: string, value: string, expires?: number, httpOnly = true): SimCookie => ({
  name,
  value,
  domain: ICLOUD_DOMAIN,
  path: '/',
  secure: true,
  httpOnly,
  ...(expires === undefined ? {} : { expires }),
});

/** `dslang` and `site` (Domain=apple.com), set by the IdMSA verify and trust responses. */
export const localeCookies = (): SimCookie[] => [
  { name: 'dslang', value: 'US-EN', domain: APPLE_DOMAIN, path: '/', secure: true, httpOnly: true },
  { name: 'site', value: 'USA', domain: APPLE_DOMAIN, path: '/', secure: true, httpOnly: true },
];

/** The rotated CloudKit credential: no `Expires` (docs/protocol/session.md#http-conventions, S43 in docs/protocol/simulator-contract.md#cloudkit-common). */
export const rotatedWebAuthCookie = (value: string): SimCookie =>
  icloudCookie('X-APPLE-WEBAUTH-TOKEN', value);
