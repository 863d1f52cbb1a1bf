/**
 * Security keys (S135, S136): each account with the `fido` flag owns one simulated FIDO2 key (P-256,
 * in memory, made on first use). Its credential id is the key handle of the 409's `fsaChallenge`; a
 * test gets the private key from `GET /__sim/accounts/security-key` to play the authenticator.
 * `POST verify/security/key` checks the WebAuthn assertion as Apple's widget would and answers 409 on
 * success (icloudpy PR #174, tested with a YubiKey); the failure status is the simulator's choice (400).
 */
import type { KeyObject } from 'node:crypto';
import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import type { AccountRecord } from '../accounts/account.ts';
import type { SimReply, SimRequest } from '../types.ts';
import type { AuthContext } from './context.ts';
import {
  findIdmsaSession,
  idmsaJson,
  sessionBaseHeaders,
  sessionHeaders,
  staleContext,
} from './idmsa-common.ts';
import { logged } from './twofa.ts';

export interface SimSecurityKey {
  /** base64url, as the key handle in `fsaChallenge.keyHandles`. */
  readonly credentialId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const keys = new WeakMap<AuthContext, Map<string, SimSecurityKey>>();

/** The account's simulated key, made on first use (it lives as long as the simulator). */
export function securityKeyOf(ctx: AuthContext, account: AccountRecord): SimSecurityKey {
  let byAccount = keys.get(ctx);
  if (!byAccount) {
    byAccount = new Map();
    keys.set(ctx, byAccount);
  }
  const id = account.appleId.toLowerCase();
  let key = byAccount.get(id);
  if (!key) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    key = { credentialId: randomBytes(64).toString('base64url'), privateKey, publicKey };
    byAccount.set(id, key);
  }
  return key;
}

const ORIGINS = new Set(['https://idmsa.apple.com', 'https://apple.com']);
const RP_ID_HASH = createHash('sha256').update('apple.com').digest();

/** Either base64 alphabet, padded or not, to one canonical form. */
const canonical = (b64: string): string => b64.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
const bytes = (v: unknown): Buffer =>
  typeof v === 'string' ? Buffer.from(canonical(v), 'base64') : Buffer.alloc(0);

function assertionValid(
  expectedChallenge: string,
  key: SimSecurityKey,
  body: Record<string, unknown>,
): boolean {
  const clientDataJson = bytes(body['clientData']);
  let clientData: Record<string, unknown>;
  try {
    clientData = JSON.parse(clientDataJson.toString('utf8')) as Record<string, unknown>;
  } catch {
    return false;
  }
  const challenge = canonical(expectedChallenge);
  if (clientData['type'] !== 'webauthn.get') return false;
  if (typeof clientData['challenge'] !== 'string' || canonical(clientData['challenge']) !== challenge)
    return false;
  if (typeof body['challenge'] !== 'string' || canonical(body['challenge']) !== challenge) return false;
  if (!ORIGINS.has(String(clientData['origin']))) return false;
  const authenticatorData = bytes(body['authenticatorData']);
  if (authenticatorData.length < 37 || !authenticatorData.subarray(0, 32).equals(RP_ID_HASH)) return false;
  if (((authenticatorData[32] ?? 0) & 0x01) === 0) return false;
  if (!bytes(body['credentialID']).equals(bytes(key.credentialId))) return false;
  const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJson).digest()]);
  try {
    return verify('sha256', signed, { key: key.publicKey, dsaEncoding: 'der' }, bytes(body['signatureData']));
  } catch {
    return false;
  }
}

/** `POST /appleauth/auth/verify/security/key` (S136): 409 for a good assertion, 400 otherwise. */
export function verifySecurityKey(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  const body = typeof req.json === 'object' && req.json !== null ? (req.json as Record<string, unknown>) : {};
  const challenge = session.fsaChallenge;
  if (!session.fido || !challenge || !assertionValid(challenge, securityKeyOf(ctx, session.account), body)) {
    return logged(ctx, session, 'key-assertion', idmsaJson({}, 400, sessionBaseHeaders(session)));
  }
  session.fido = false;
  session.verified = true;
  session.fsaChallenge = undefined;
  const token = ctx.store.issueSessionToken(session.account, {
    idmsaSessionId: session.id,
    verified: true,
    trusted: session.trusted,
    repairPending: session.repairPending,
    fidoIncomplete: false,
    escrowPending: session.escrowPending,
  });
  return logged(ctx, session, 'key-assertion', idmsaJson({}, 409, sessionHeaders(session, token)));
}
