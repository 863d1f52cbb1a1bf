/**
 * Keeps secrets (passwords, cookies, tokens, signed URLs) out of logs and error messages.
 *
 * `Secret<T>` hides a value behind an explicit `reveal()`: printing, JSON-serialising or
 * `util.inspect`-ing it yields `[redacted]`. `scrubSecrets` cleans free text that may carry a
 * secret by accident (a URL with a signed query string, a `Cookie:` header, an Apple token header).
 */
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/** A value that only `reveal()` gives back; every other way of printing it prints `[redacted]`. */
export class Secret<T = string> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  /** The wrapped value. Call it at the last moment, where the value is sent, never where it is logged. */
  reveal(): T {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Wraps a value, or passes through undefined. */
export function secret<T>(value: T): Secret<T> {
  return new Secret(value);
}

// A URL's query string (signed CDN URLs keep their signature there) and fragment.
const URL_QUERY = /(\bhttps?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi;
// `Cookie:` / `Set-Cookie:` headers: everything up to the end of the line.
const COOKIE_HEADER = /\b((?:set-)?cookie)\s*[:=]\s*[^\r\n]*/gi;
/** Names (regular-expression sources) of Apple's cookies and token headers and fields. */
export const SECRET_PAIR_NAMES: readonly string[] = [
  'X-APPLE-[A-Z0-9_-]+',
  'X_APPLE_[A-Z0-9_-]+',
  'aasp',
  'acn01',
  'scnt',
  'dsWebAuthToken',
  'trustToken',
  'sessionToken',
  'password',
];
// `NAME=value` pairs whose name says what they are (Apple's cookies and token headers).
const SECRET_PAIR = new RegExp(
  `\\b((?:${SECRET_PAIR_NAMES.join('|')})["']?\\s*[:=]\\s*)("[^"]*"|'[^']*'|[^\\s;,&}]+)`,
  'gi',
);

/**
 * Removes likely secrets from free text: the query string of any URL, the value of any cookie
 * header, and the value of `name=value` / `"name": "value"` pairs named like an Apple cookie or token.
 * For text we did not write ourselves (error messages of libraries, response snippets).
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(URL_QUERY, `$1?${REDACTED}`)
    .replace(COOKIE_HEADER, `$1: ${REDACTED}`)
    .replace(SECRET_PAIR, `$1${REDACTED}`);
}

/** A URL without its query string and fragment, for log fields (CDN URLs are signed in the query). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search || u.hash ? `?${REDACTED}` : ''}`;
  } catch {
    return scrubSecrets(url);
  }
}
