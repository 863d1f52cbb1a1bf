/** Routes `setup.icloud.com/setup/ws/1/...` requests. */
import type { SimReply, SimRequest } from '../types.ts';
import { json } from '../types.ts';
import type { AuthContext } from './context.ts';
import { accountLogin, logout, requestPcs, validate } from './setup.ts';

const PREFIX = '/setup/ws/1/';

/** The endpoint key of a setup path: its last part (`accountLogin`, `validate`, `requestPCS`, ...). */
export function setupEndpointKey(path: string): string {
  const last = path.replace(/\/+$/, '').split('/').pop();
  return path.startsWith(PREFIX) && last ? last : 'setup';
}

export class SetupService {
  readonly #ctx: AuthContext;
  /** requestPCS polls per web session (the ADP approval dance). */
  readonly #pcsPolls = new Map<string, number>();

  constructor(ctx: AuthContext) {
    this.#ctx = ctx;
  }

  handle(req: SimRequest): SimReply {
    if (req.method !== 'POST') return json({ error: 'Method Not Allowed' }, 405);
    switch (setupEndpointKey(req.path)) {
      case 'accountLogin':
        return accountLogin(this.#ctx, req);
      case 'validate':
        return validate(this.#ctx, req);
      case 'requestPCS':
        return requestPcs(this.#ctx, req, this.#pcsPolls);
      case 'logout':
        return logout(this.#ctx, req);
      default:
        return json({ error: 'Not Found' }, 404);
    }
  }
}
