/**
 * Turns one HTTP exchange with Apple into an entry of a sign-in trace (the JSON shape of
 * test/fixtures/recorded/) with every secret replaced by a readable placeholder, so a person can
 * attach the trace to a bug report.
 *
 * A placeholder names what was removed and its size (`<redacted:srp-A#1 256 bytes>`); the same
 * secret always gets the same placeholder within one `TraceRedactor`, so a reader still sees a
 * token set in one answer come back in the next request. Secrets are found three ways: by where
 * they sit (header, cookie, JSON field, URL parameter named for a secret), by value (a secret seen
 * once is replaced wherever it appears again, even inside text), and by shape (long token-like
 * runs, e-mail addresses, phone numbers). No I/O: the recorder feeds it, a file sink writes it.
 */
import { redactEmail, redactText, redactUrlWith, type SecretReplacer } from './redact.ts';
import {
  describeSize,
  EMAIL_FIELDS,
  escapeRegExp,
  fieldKind,
  LOCAL_KINDS,
  MIN_SEARCHED_LENGTH,
  maskPhone,
  PERSONAL_RECORD_FIELDS,
  PHONE_FIELDS,
  SECRET_HEADERS,
  SIZELESS_KINDS,
} from './secret-kinds.ts';

export { maskEmail, maskPhone } from './secret-kinds.ts';

/** A body as the recorded fixtures store it. */
export type TraceBody = { readonly json: unknown } | { readonly text: string } | null;

export interface TraceMessage {
  readonly headers: Record<string, string[]>;
  readonly body: TraceBody;
}

export interface TraceInteraction {
  readonly request: TraceMessage & { readonly method: string; readonly uri: string };
  readonly response: TraceMessage & { readonly status: number };
}

/** What was sent and received, before redaction. */
export interface RawInteraction {
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly headers: Iterable<readonly [string, string]>;
    readonly body?: string | undefined;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Iterable<readonly [string, string]>;
    /** The body text; `{ omitted }` for a body deliberately not recorded (media); undefined for none. */
    readonly body?: string | { readonly omitted: string } | undefined;
  };
}

interface JsonContext {
  /** Inside an escrow exchange: SRP fields are escrow's. */
  readonly escrow?: boolean;
  /** Inside a personal record field: every string is removed as this kind. */
  readonly personal?: string;
  /** The key of the object (or array of objects) being walked. */
  readonly parent?: string | undefined;
}

export interface TraceRedactorOptions {
  /** Values that look like tokens but are public and useful to read (Apple's widget key). */
  readonly publicValues?: readonly string[];
}

/** Redacts the exchanges of one trace. One instance per trace file: it remembers what it replaced. */
export class TraceRedactor {
  readonly #placeholders = new Map<string, string>();
  readonly #counts = new Map<string, number>();
  readonly #searched = new Map<string, string>();
  readonly #public: ReadonlySet<string>;
  #searchPattern: RegExp | undefined;
  /** The shared patterns (`redact.ts`), each find replaced by this trace's placeholder. */
  readonly #replacer: SecretReplacer;

  constructor(options: TraceRedactorOptions = {}) {
    this.#public = new Set(options.publicValues ?? []);
    this.#replacer = {
      replace: (value, kind) => this.secret(value, kind),
      query: 'judge',
      isPublic: (value) => this.#public.has(value),
      replaceKnown: (text) => this.#replaceKnown(text),
    };
  }

  /** The exchange in the recorded-fixture shape, redacted. */
  interaction(raw: RawInteraction): TraceInteraction {
    const { request, response } = raw;
    const context = { escrow: /\/escrow\//.test(request.url) };
    // Bodies first: what a body names (a dsid, a token) is then also found in headers and cookie names.
    const requestBody =
      request.body === undefined || request.body === '' ? null : this.body(request.body, context);
    const responseBody =
      response.body === undefined || response.body === ''
        ? null
        : typeof response.body === 'string'
          ? this.body(response.body, context)
          : { text: response.body.omitted };
    return {
      request: {
        method: request.method,
        uri: this.url(request.url),
        headers: this.headers(request.headers),
        body: requestBody,
      },
      response: {
        status: response.status,
        headers: this.headers(response.headers),
        body: responseBody,
      },
    };
  }

  /**
   * The placeholder for `value`, a secret of `kind`; the same value always gets the same one.
   * Values of at least 8 characters are also replaced wherever they appear later in any text.
   */
  secret(value: string, kind: string): string {
    if (value === '' || value.startsWith('<redacted:')) return value;
    const known = this.#placeholders.get(value);
    if (known) return known;
    const n = (this.#counts.get(kind) ?? 0) + 1;
    this.#counts.set(kind, n);
    const placeholder = SIZELESS_KINDS.has(kind)
      ? `<redacted:${kind}#${n}>`
      : `<redacted:${kind}#${n} ${describeSize(value)}>`;
    this.#placeholders.set(value, placeholder);
    if (!LOCAL_KINDS.has(kind) && value.length >= MIN_SEARCHED_LENGTH) {
      const jsonEscaped = JSON.stringify(value).slice(1, -1);
      const forms = [value, encodeURIComponent(value), jsonEscaped, jsonEscaped.replaceAll('/', '\\/')];
      for (const form of new Set(forms)) {
        this.#searched.set(form, placeholder);
      }
      this.#searchPattern = undefined;
    }
    return placeholder;
  }

  /** Header lists grouped by name (first spelling kept), values redacted by what the header is. */
  headers(entries: Iterable<readonly [string, string]>): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const names = new Map<string, string>();
    for (const [name, value] of entries) {
      const lower = name.toLowerCase();
      const key = names.get(lower) ?? name;
      names.set(lower, key);
      const values = out[key] ?? [];
      values.push(this.headerValue(lower, value));
      out[key] = values;
    }
    return out;
  }

  headerValue(name: string, value: string): string {
    const lower = name.toLowerCase();
    const kind = SECRET_HEADERS[lower];
    if (kind) return this.secret(value, kind);
    if (lower === 'cookie') return this.#cookieHeader(value);
    if (lower === 'set-cookie') return this.#setCookie(value);
    if (lower === 'location' || lower === 'referer' || lower === 'origin') return this.url(value);
    return this.text(value);
  }

  /** A URL with signed or secret parameters replaced; a CDN URL keeps only its parameter names. */
  url(url: string): string {
    return redactUrlWith(url, this.#replacer);
  }

  /** A JSON value with secret fields replaced, e-mails and phone numbers masked, URLs redacted. */
  json(value: unknown, context: JsonContext = {}, key?: string): unknown {
    const personal = key === undefined ? undefined : PERSONAL_RECORD_FIELDS[key];
    const inner = personal ? { ...context, personal } : context;
    if (Array.isArray(value)) return value.map((item) => this.json(item, inner, key));
    if (value !== null && typeof value === 'object') {
      const within = { ...inner, parent: key };
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.json(v, within, k)] as const));
    }
    if (inner.personal && typeof value === 'string' && key !== 'type')
      return this.secret(value, inner.personal);
    // A trusted device is named after its owner ("Sam's iPhone").
    if (key === 'name' && typeof value === 'string' && /^trustedDevices?$/.test(context.parent ?? ''))
      return this.secret(value, 'device-name');
    if (key !== undefined && (typeof value === 'string' || typeof value === 'number')) {
      const kind = fieldKind(key, String(value));
      if (kind) return this.secret(String(value), context.escrow ? kind.replace(/^srp-/, 'escrow-') : kind);
      if (typeof value === 'string' && EMAIL_FIELDS.has(key.toLowerCase())) return this.#email(value);
      if (typeof value === 'string' && PHONE_FIELDS.has(key.toLowerCase())) return maskPhone(value);
    }
    if (typeof value !== 'string') return value;
    if (/^https?:\/\//i.test(value)) return this.url(value);
    return this.text(value);
  }

  /**
   * Free text (an HTML page, an error message, a header): secrets seen before, `"key":"value"`
   * pairs named for a secret (also JSON-escaped), URLs (also with `\/`), cookie-like pairs,
   * e-mail addresses, phone numbers and long token-like runs.
   */
  text(text: string): string {
    return redactText(text, this.#replacer);
  }

  body(text: string, context: JsonContext = {}): TraceBody {
    try {
      return { json: this.json(JSON.parse(text), context) };
    } catch {
      return { text: this.text(text) };
    }
  }

  #email(value: string): string {
    return redactEmail(value, this.#replacer);
  }

  #cookieHeader(value: string): string {
    return value
      .split(/;\s*/)
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 0) return pair;
        return `${this.#cookieName(pair.slice(0, eq))}=${this.secret(unquote(pair.slice(eq + 1)), 'cookie')}`;
      })
      .join('; ');
  }

  #setCookie(value: string): string {
    const [first = '', ...attributes] = value.split(';');
    const eq = first.indexOf('=');
    if (eq < 0) return value;
    const redacted = `${this.#cookieName(first.slice(0, eq))}=${this.secret(unquote(first.slice(eq + 1).trim()), 'cookie')}`;
    return [redacted, ...attributes].join(';');
  }

  /** Apple names some cookies after the account (`X-APPLE-WEBAUTH-HSA-TRUST-<dsid>`). */
  #cookieName(name: string): string {
    return this.#replaceKnown(name).replace(/\d{6,}/g, (digits) => this.secret(digits, 'dsid'));
  }

  #replaceKnown(text: string): string {
    if (this.#searched.size === 0) return text;
    // A number (a dsid) is found only as a whole number, not inside a longer one.
    this.#searchPattern ??= new RegExp(
      [...this.#searched.keys()]
        .sort((x, y) => y.length - x.length)
        .map((value) => (/^\d+$/.test(value) ? `(?<!\\d)${value}(?!\\d)` : escapeRegExp(value)))
        .join('|'),
      'g',
    );
    return text.replace(this.#searchPattern, (match) => this.#searched.get(match) ?? match);
  }
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
