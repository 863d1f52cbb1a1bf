/**
 * What counts as a secret, and how it is recognised: the headers, cookies, JSON fields and URL
 * parameters named for one, the personal fields of CloudKit records, and the shapes (e-mail
 * addresses, phone numbers, token-like runs, signed URLs) found in free text. The one set of
 * patterns behind both redactions: `scrubSecrets` (logs, messages, stored reasons) and the
 * `--trace` file (`TraceRedactor`).
 */

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

/** Header (lower case) -> kind of secret its whole value is. */
export const SECRET_HEADERS: Readonly<Record<string, string>> = {
  'x-apple-session-token': 'session-token',
  'x-apple-twosv-trust-token': 'trust-token',
  'x-apple-id-session-id': 'session-id',
  'x-apple-auth-attributes': 'auth-attributes',
  'x-apple-oauth-grant-code': 'grant-code',
  scnt: 'scnt',
  authorization: 'authorization',
  'proxy-authorization': 'authorization',
};

/** JSON field or URL parameter -> kind of secret its (string) value is. Exact names first. */
export const SECRET_FIELDS_EXACT: Readonly<Record<string, string>> = {
  a: 'srp-A',
  A: 'srp-A',
  b: 'srp-B',
  B: 'srp-B',
  c: 'srp-c',
  k: 'escrow-k',
  m1: 'srp-m1',
  M1: 'srp-m1',
  m2: 'srp-m2',
  M2: 'srp-m2',
  salt: 'srp-salt',
};
/** The same, matched case-insensitively. */
export const SECRET_FIELDS: Readonly<Record<string, string>> = {
  password: 'password',
  code: '2fa-code',
  securitycode: '2fa-code',
  verificationcode: '2fa-code',
  trusttoken: 'trust-token',
  trusttokens: 'trust-token',
  dswebauthtoken: 'session-token',
  sessiontoken: 'session-token',
  authtoken: 'session-token',
  accesstoken: 'session-token',
  refreshtoken: 'session-token',
  mmetoken: 'session-token',
  'x-apple-session-token': 'session-token',
  'x-apple-twosv-trust-token': 'trust-token',
  sessionid: 'session-id',
  'x-apple-id-session-id': 'session-id',
  scnt: 'scnt',
  wrappingkey: 'wrapping-key',
  dsid: 'dsid',
  adsid: 'dsid',
  dsprsid: 'dsid',
  firstname: 'name',
  lastname: 'name',
  fullname: 'name',
};
/** Fields whose value is an Apple ID / e-mail address: masked, not removed. */
export const EMAIL_FIELDS = new Set([
  'accountname',
  'appleid',
  'apple_id',
  'primaryemail',
  'email',
  'emailaddress',
  'appleidalias',
]);
/** Fields whose value is a phone number: every digit but the last two masked. */
export const PHONE_FIELDS = new Set(['numberwithdialcode', 'obfuscatednumber', 'phonenumber', 'number']);

/**
 * CloudKit record fields whose whole value is personal (where a photo was taken, what it says):
 * every string under them is removed. File names and album names stay: bugs often hinge on them.
 */
export const PERSONAL_RECORD_FIELDS: Readonly<Record<string, string>> = {
  locationEnc: 'location',
  locationV2Enc: 'location',
  captionEnc: 'caption',
  extendedDescEnc: 'caption',
  keywordsEnc: 'caption',
  importedByDisplayNameEnc: 'name',
};

/** Kinds shown without their size (a password's length is itself a hint). */
export const SIZELESS_KINDS = new Set(['password', '2fa-code']);
/**
 * Kinds not searched for in other text: they always sit where they are found again (a cookie in
 * the Cookie header, a CDN parameter in a URL) and a sync meets thousands of them (CloudKit rotates
 * a cookie on every answer), which would make every later string slower to scan.
 */
export const LOCAL_KINDS = new Set([
  'cookie',
  'cdn-param',
  'cdn-path',
  'token',
  'name',
  'location',
  'caption',
  'wrapping-key',
  'device-name',
]);
/** Shorter secrets are replaced only where they sit, never searched for in free text. */
export const MIN_SEARCHED_LENGTH = 8;

const EMAIL = /\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-])[A-Za-z0-9.-]*?(\.[A-Za-z]{2,})\b/g;
/** A run of token characters long enough to be a token (`isTokenLike` decides). */
export const TOKEN_RUN = /[A-Za-z0-9+/_-]{32,}={0,2}/g;
/** An international phone number, possibly masked already. */
export const PHONE = /\+\d[\d ()\-.•*]{6,}\d/g;
// `"key": "value"` in text, also JSON-escaped (`\"key\":\"value\"`) as in an HTML page's boot args.
export const JSON_PAIR_IN_TEXT = /(\\*")([A-Za-z0-9_-]{1,40})\1\s*:\s*\1((?:[^"\\]|\\(?!"))*)\1/g;
// URLs in text, also with JSON-escaped slashes (`https:\/\/host\/path`).
export const URL_IN_TEXT = /https?:(?:\/\/|\\\/\\\/)(?:[^\s"'<>\\]|\\\/)+/g;
// `NAME=value`, `NAME: value` and `"NAME": "value"` pairs named like an Apple cookie or token.
export const SECRET_PAIR_IN_TEXT = new RegExp(
  `\\b(${SECRET_PAIR_NAMES.join('|')})(["']?\\s*[:=]\\s*)("[^"]*"|'[^']*'|[^\\s;,&"'<>}]+)`,
  'gi',
);
// `Cookie:` / `Set-Cookie:` headers quoted in text: everything up to the end of the line.
export const COOKIE_HEADER_IN_TEXT = /\b((?:set-)?cookie)(\s*[:=]\s*)([^\r\n]+)/gi;

/** A part of a name that is a word, a number or an acronym (`Vacation`, `2024`, `IMG`, `s3`). */
const WORDISH = /^(?:[A-Z]?[a-z]*\d*|[A-Z]+\d*)$/;

/**
 * At least 32 characters, and hex, or mixing upper case, lower case and digits. Not a token: an
 * identifier around a UUID, an absolute path whose every folder is short (`/tmp/icloud-s3-AbC123/data`),
 * or a file name made of words (`Some_Vacation_Photo_From_Grandma_2024`).
 */
export function isTokenLike(run: string): boolean {
  if (run.length < 32) return false;
  // A name around a UUID (`SharedSync-<UUID>`, a record name) is an identifier a maintainer follows.
  if (/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/i.test(run)) return false;
  if (run.startsWith('/')) return run.split('/').some(isTokenLike);
  const parts = run.split(/[_-]/);
  if (parts.length >= 3 && parts.every((part) => WORDISH.test(part))) return false;
  if (/^[0-9a-f]+$/i.test(run)) return true;
  return /[a-z]/.test(run) && /[A-Z]/.test(run) && /[0-9]/.test(run);
}

/** `256 bytes` for base64, else `N chars`. */
export function describeSize(value: string): string {
  const base64 = /^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0 && value.length >= 12;
  if (base64) {
    const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
    return `${(value.length / 4) * 3 - padding} bytes`;
  }
  return `${value.length} chars`;
}

/** The kind of secret a field holds; `code` only when it holds digits (Apple's error codes stay). */
export function fieldKind(key: string, value?: string): string | undefined {
  const kind = SECRET_FIELDS_EXACT[key] ?? SECRET_FIELDS[key.toLowerCase()];
  if (kind === '2fa-code' && value !== undefined && !/^\d{4,10}$/.test(value)) return undefined;
  return kind;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `jdoe@gmail.com` -> `j***@g***.com`. */
export function maskEmail(text: string): string {
  return text.replace(
    EMAIL,
    (_m, first: string, host: string, tld: string) => `${first}***@${host}***${tld}`,
  );
}

/** Every digit but the last two becomes `•`, as Apple masks trusted numbers. */
export function maskPhone(text: string): string {
  const digits = text.replace(/\D/g, '').length;
  let seen = 0;
  return text.replace(/\d/g, (d) => (++seen > digits - 2 ? d : '•'));
}
