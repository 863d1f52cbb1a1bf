/**
 * Keeps secrets (passwords, cookies, tokens, signed URLs) out of logs and error messages.
 *
 * `Secret<T>` hides a value behind an explicit `reveal()`: printing, JSON-serialising or
 * `util.inspect`-ing it yields `[redacted]`. `scrubSecrets` cleans free text that may carry a
 * secret by accident (a signed URL, a `Cookie:` header, an Apple token, an Apple ID); `errorText`
 * turns a caught error into such text. The patterns live in `secret-kinds.ts`, shared with the
 * `--trace` redactor (`trace-redaction.ts`), which replaces the same finds with placeholders.
 */
import { inspect } from 'node:util';
import { isAppleCdnHost } from './apple-cdn-host.ts';
import {
  COOKIE_HEADER_IN_TEXT,
  EMAIL_FIELDS,
  fieldKind,
  isTokenLike,
  JSON_PAIR_IN_TEXT,
  MIN_SEARCHED_LENGTH,
  maskEmail,
  maskPhone,
  PHONE,
  PHONE_FIELDS,
  SECRET_PAIR_IN_TEXT,
  TOKEN_RUN,
  URL_IN_TEXT,
} from './secret-kinds.ts';

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

/** How a redaction replaces what it finds: the same patterns serve logs and `--trace`. */
export interface SecretReplacer {
  /** The text that stands for `value`, a secret of `kind` (`[redacted]`, or a trace's placeholder). */
  replace(value: string, kind: string): string;
  /** A URL's query: every value judged by its parameter's name (a trace), or dropped whole. */
  readonly query: 'judge' | 'drop';
  /** Values that look like tokens but are public and useful to read (Apple's widget key). */
  isPublic?(value: string): boolean;
  /** Replaces secrets already known by value (a trace remembers what it replaced). */
  replaceKnown?(text: string): string;
}

/** Replaces every secret with `[redacted]` and drops every URL's query string. */
const SCRUB: SecretReplacer = { replace: () => REDACTED, query: 'drop' };

/**
 * Removes likely secrets from free text: signed URLs (also JSON-escaped, `https:\/\/...`),
 * `Cookie:`/`Set-Cookie:` lines, `name=value` / `"name": "value"` pairs named for an Apple
 * cookie, token or field, e-mail addresses (masked), phone numbers (masked) and bare token-like
 * runs (32 or more characters of hex or mixed-case base64). For text we did not write ourselves:
 * Apple's answers, error messages, anything that leaves the process or is stored.
 */
export function scrubSecrets(text: string): string {
  return redactText(text, SCRUB);
}

/**
 * What an error says, safe to store or print: `Name: message` with every secret removed. The one
 * place a caught error becomes text (failure reasons, run records, `--json` messages).
 */
export function errorText(error: unknown): string {
  if (error instanceof Error) return scrubSecrets(`${error.name}: ${error.message}`);
  if (typeof error === 'string') return scrubSecrets(error);
  return 'unknown failure';
}

/** An error's message alone, scrubbed (where the error's class is said otherwise). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? scrubSecrets(error.message) : errorText(error);
}

/** A URL for log fields: no query string or fragment, and no long path segment of a download URL (both signed). */
export function redactUrl(url: string): string {
  return redactUrlWith(url, SCRUB);
}

/** Free text through every pattern of `secret-kinds.ts`, each secret replaced by `replacer`. */
export function redactText(text: string, replacer: SecretReplacer): string {
  if (text.length < 6) return text;
  const { replace } = replacer;
  let out = text.length >= MIN_SEARCHED_LENGTH && replacer.replaceKnown ? replacer.replaceKnown(text) : text;
  out = out.replace(JSON_PAIR_IN_TEXT, (match, quote: string, key: string, value: string) => {
    const kind = fieldKind(key, value);
    if (kind && value !== '') return `${quote}${key}${quote}:${quote}${replace(value, kind)}${quote}`;
    if (EMAIL_FIELDS.has(key.toLowerCase()))
      return `${quote}${key}${quote}:${quote}${redactEmail(value, replacer)}${quote}`;
    if (PHONE_FIELDS.has(key.toLowerCase()))
      return `${quote}${key}${quote}:${quote}${maskPhone(value)}${quote}`;
    return match;
  });
  out = out.replace(URL_IN_TEXT, (match) => {
    const escaped = match.includes('\\/');
    const redacted = redactUrlWith(escaped ? match.replaceAll('\\/', '/') : match, replacer);
    return escaped ? redacted.replaceAll('/', '\\/') : redacted;
  });
  out = out.replace(
    COOKIE_HEADER_IN_TEXT,
    (_m, name: string, separator: string, value: string) => `${name}${separator}${replace(value, 'cookie')}`,
  );
  out = out.replace(SECRET_PAIR_IN_TEXT, (_m, name: string, separator: string, value: string) => {
    const quote = /^["']/.test(value) && value.length >= 2 && value.endsWith(value[0] ?? '') ? value[0] : '';
    const inner = quote ? value.slice(1, -1) : value;
    return `${name}${separator}${quote}${replace(inner, fieldKind(name, inner) ?? 'cookie')}${quote}`;
  });
  out = maskEmail(out);
  out = out.replace(PHONE, (match) => maskPhone(match));
  return out.replace(TOKEN_RUN, (run) =>
    isTokenLike(run) && !replacer.isPublic?.(run) ? replace(run, 'token') : run,
  );
}

/**
 * A URL with its secrets replaced: a download URL's long path segments (as signed as its query),
 * token-like segments anywhere, and the query (judged by parameter name, or dropped whole).
 */
export function redactUrlWith(url: string, replacer: SecretReplacer): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not parseable (so not fetched either): keep what precedes the query, judge its runs.
    const queryAt = url.search(/[?#]/);
    const head = (queryAt < 0 ? url : url.slice(0, queryAt)).replace(TOKEN_RUN, (run) =>
      isTokenLike(run) ? replacer.replace(run, 'token') : run,
    );
    return queryAt < 0 ? head : `${head}?${replacer.replace(url.slice(queryAt + 1), 'url-query')}`;
  }
  // Apple's download hosts: their URLs are signed.
  const cdn = isAppleCdnHost(u.hostname);
  const [beforeHash = ''] = url.split('#');
  const queryAt = beforeHash.indexOf('?');
  const withoutQuery = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  const query = queryAt < 0 ? undefined : beforeHash.slice(queryAt + 1);
  const pathStart = withoutQuery.indexOf('/', withoutQuery.indexOf('//') + 2);
  const origin = `${u.protocol}//${u.host}`;
  const path = pathStart < 0 ? '' : withoutQuery.slice(pathStart);
  const redactedPath = path
    .split('/')
    .map((segment) => {
      if (cdn && segment.length >= 16) return replacer.replace(segment, 'cdn-path');
      return isTokenLike(segment) && !replacer.isPublic?.(segment)
        ? replacer.replace(segment, 'token')
        : redactText(segment, replacer);
    })
    .join('/');
  const hasFragment = url.includes('#');
  if (replacer.query === 'drop') {
    return `${origin}${redactedPath}${query !== undefined || hasFragment ? `?${REDACTED}` : ''}`;
  }
  const redactedQuery = query
    ?.split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '') return pair;
      const kind = cdn ? 'cdn-param' : fieldKind(name, value);
      return `${name}=${kind ? replacer.replace(value, kind) : redactText(value, replacer)}`;
    })
    .join('&');
  return `${origin}${redactedPath}${redactedQuery === undefined ? '' : `?${redactedQuery}`}`;
}

/** An e-mail address masked (`j***@e***.com`), or replaced whole when it cannot be masked. */
export function redactEmail(value: string, replacer: SecretReplacer): string {
  const masked = maskEmail(value);
  return masked === value && value.length > 0 ? replacer.replace(value, 'apple-id') : masked;
}
