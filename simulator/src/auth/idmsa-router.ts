/** Routes `idmsa.apple.com/appleauth/auth/...` requests to their handlers. */
import type { SimReply, SimRequest } from '../types.ts';
import { json } from '../types.ts';
import type { AuthContext } from './context.ts';
import { authorizePage, legacySignin, repairComplete, signinComplete, signinInit } from './signin.ts';
import { authPage, pushDeviceCode, sendPhoneCode, submitCode, trustSession } from './twofa.ts';

const PREFIX = '/appleauth/auth';

/** The endpoint key of an IdMSA path: the part after `/appleauth/auth/`, or `auth` for the page itself. */
export function idmsaEndpointKey(path: string): string {
  if (!path.startsWith(PREFIX)) return 'idmsa';
  const rest = path.slice(PREFIX.length).replace(/^\/+|\/+$/g, '');
  return rest === '' ? 'auth' : rest;
}

export function handleIdmsa(ctx: AuthContext, req: SimRequest): SimReply {
  const key = idmsaEndpointKey(req.path);
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
    case 'GET auth':
      return authPage(ctx, req);
    case 'PUT verify/trusteddevice/securitycode':
      return pushDeviceCode(ctx, req, 204);
    case 'PUT verify/trusteddevice':
      return pushDeviceCode(ctx, req, 202);
    case 'GET verify/trusteddevice':
      return pushDeviceCode(ctx, req, 200);
    case 'PUT verify/phone':
      return sendPhoneCode(ctx, req);
    case 'POST verify/trusteddevice/securitycode':
      return submitCode(ctx, req, 'device');
    case 'POST verify/phone/securitycode':
      return submitCode(ctx, req, 'phone');
    case 'GET 2sv/trust':
      return trustSession(ctx, req);
    default:
      return json({ error: 'Not Found' }, 404);
  }
}
