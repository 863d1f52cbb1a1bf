/** Routes `idmsa.apple.com/appleauth/auth/...` requests to their handlers. */
import type { SimReply, SimRequest } from '../types.ts';
import { json } from '../types.ts';
import { bridgeStep0 } from './bridge.ts';
import type { AuthContext } from './context.ts';
import { escrowComplete, escrowInit } from './escrow.ts';
import { refusedHeaderProfile } from './header-profiles.ts';
import { verifySecurityKey } from './security-key.ts';
import {
  authorizePage,
  federate,
  legacySignin,
  repairComplete,
  signinComplete,
  signinInit,
} from './signin.ts';
import {
  authPage,
  oldDeviceTrigger,
  sendPhoneCode,
  submitCode,
  triggerDeviceCode,
  trustSession,
} from './twofa.ts';

const PREFIX = '/appleauth/auth';

/** The endpoint key of an IdMSA path: the part after `/appleauth/auth/`, or `auth` for the page itself. */
export function idmsaEndpointKey(path: string): string {
  if (!path.startsWith(PREFIX)) return 'idmsa';
  const rest = path.slice(PREFIX.length).replace(/^\/+|\/+$/g, '');
  return rest === '' ? 'auth' : rest;
}

export function handleIdmsa(ctx: AuthContext, req: SimRequest): SimReply {
  const key = idmsaEndpointKey(req.path);
  const refused = refusedHeaderProfile(ctx, req, key);
  if (refused) return refused;
  switch (`${req.method} ${key}`) {
    case 'POST signin/init':
      return signinInit(ctx, req);
    case 'POST signin/complete':
      return signinComplete(ctx, req);
    case 'POST signin':
      return legacySignin(ctx, req);
    case 'POST repair/complete':
      return repairComplete(ctx, req);
    case 'GET authorize/signin':
      return authorizePage(ctx, req);
    case 'POST federate':
      return federate(ctx, req);
    case 'GET auth':
      return authPage(ctx, req);
    case 'PUT verify/trusteddevice/securitycode':
      return triggerDeviceCode(ctx, req);
    case 'PUT verify/trusteddevice':
    case 'GET verify/trusteddevice':
    case 'POST verify/trusteddevice':
      return oldDeviceTrigger(ctx, req);
    case 'PUT verify/phone':
      return sendPhoneCode(ctx, req);
    case 'POST verify/trusteddevice/securitycode':
      return submitCode(ctx, req, 'device');
    case 'POST verify/phone/securitycode':
      return submitCode(ctx, req, 'phone');
    case 'GET 2sv/trust':
      return trustSession(ctx, req);
    case 'POST escrow/init':
      return escrowInit(ctx, req);
    case 'POST escrow/complete':
      return escrowComplete(ctx, req);
    case 'POST verify/security/key':
      return verifySecurityKey(ctx, req);
    case 'POST bridge/step/0':
      return bridgeStep0(ctx, req);
    default:
      return json({ error: 'Not Found' }, 404);
  }
}
