/** Opaque Apple-shaped token values. None of them is parsed by the simulator: they are map keys. */
import { randomBytes } from 'node:crypto';

const b64 = (n: number): string => randomBytes(n).toString('base64');
const b64url = (n: number): string => randomBytes(n).toString('base64url');

/** `X-Apple-Session-Token` (the `dsWebAuthToken` of accountLogin). */
export const newSessionToken = (): string => b64(96).replace(/=+$/, '');
/** `X-Apple-TwoSV-Trust-Token`: `HSARMTKNSRVW…SRVX` (docs/protocol/sign-in.md#trust). */
export const newTrustToken = (): string => `HSARMTKNSRVW${b64url(120)}SRVX`;
/** `X-Apple-ID-Session-Id`. */
export const newIdmsaSessionId = (): string => randomBytes(16).toString('hex').toUpperCase();
/** `scnt`. */
export const newScnt = (): string => `AAAA-${b64url(48)}`;
/** The `c` of signin/init, shaped like Apple's. */
export const newSrpChallenge = (): string => {
  const h = randomBytes(16).toString('hex');
  return `d-${randomBytes(2).readUInt16BE(0) % 1000}-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}:MSA`;
};
/** The quoted value of an `X-APPLE-WEBAUTH-*` cookie: `"v=2:t=…~~"`. */
export const newWebAuthValue = (version = 2): string => `"v=${version}:t=${b64url(36)}~~"`;
export const newOpaque = (bytes = 24): string => b64url(bytes);
