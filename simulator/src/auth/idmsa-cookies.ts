/** Cookies IdMSA sets on `idmsa.apple.com` / `apple.com`. */
import { newOpaque } from '../accounts/tokens.ts';
import type { SimCookie } from '../types.ts';
import { IDMSA_DOMAIN } from './cookies.ts';

/**
 * `aasp`: IdMSA's anti-forgery cookie (a browser id); set by the widget page and signin/init, and
 * re-set (same value when the client sent one) by signin/complete.
 */
export const aaspCookie = (value: string = newOpaque(32).toUpperCase()): SimCookie => ({
  name: 'aasp',
  value,
  domain: IDMSA_DOMAIN,
  path: '/',
  secure: true,
  httpOnly: true,
});
