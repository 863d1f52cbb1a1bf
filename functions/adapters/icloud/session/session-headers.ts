/**
 * Response headers that carry session state (docs/protocol/session.md#session-headers). Copied after every IdMSA and setup
 * response; a header that is absent or empty leaves the stored value unchanged.
 */

export interface SessionHeaderValues {
  readonly scnt?: string;
  readonly sessionId?: string;
  readonly sessionToken?: string;
  readonly trustToken?: string;
  readonly accountCountry?: string;
  readonly trustEligible?: string;
  readonly authAttributes?: string;
  readonly grantCode?: string;
  /** `X-Apple-I-Rscd`: the "real" status of a 200 (hidden rejection, docs/protocol/sign-in.md#error-signals). */
  readonly rscd?: string;
  /** `X-Apple-I-Ercd`: Apple's error code (e.g. -21669 wrong two-factor code). */
  readonly ercd?: string;
}

const HEADER_NAMES: Readonly<Record<keyof SessionHeaderValues, string>> = {
  scnt: 'scnt',
  sessionId: 'x-apple-id-session-id',
  sessionToken: 'x-apple-session-token',
  trustToken: 'x-apple-twosv-trust-token',
  accountCountry: 'x-apple-id-account-country',
  trustEligible: 'x-apple-twosv-trust-eligible',
  authAttributes: 'x-apple-auth-attributes',
  grantCode: 'x-apple-oauth-grant-code',
  rscd: 'x-apple-i-rscd',
  ercd: 'x-apple-i-ercd',
};

/** The session-state headers present and non-empty in `headers`. */
export function captureSessionHeaders(headers: Headers): SessionHeaderValues {
  const captured: Record<string, string> = {};
  for (const [field, header] of Object.entries(HEADER_NAMES)) {
    const value = headers.get(header)?.trim();
    if (value) captured[field] = value;
  }
  return captured as SessionHeaderValues;
}
