/**
 * The one place that joins the server to the library/CloudKit and CDN/media parts, built by other
 * hands in parallel. Everything the server needs from them goes through `LibraryWiring`.
 */
import { randomBytes } from 'node:crypto';
import { handleCdn } from './cdn/router.ts';
import { createUrlMinter } from './cdn/urls.ts';
import type { SimClock } from './clock.ts';
import type { SimFamily } from './identity.ts';
import type { CloudKitCall } from './server.ts';
import type { SimReply, SimRequest } from './types.ts';
import { json } from './types.ts';

export interface LibraryWiring {
  readonly cloudkit: (req: SimRequest, call: CloudKitCall) => SimReply | Promise<SimReply>;
  readonly cdn: (req: SimRequest) => SimReply | Promise<SimReply>;
  readonly libraryControl: (req: SimRequest) => SimReply | undefined | Promise<SimReply | undefined>;
  readonly close: () => Promise<void>;
}

export interface WiringOptions {
  readonly seed: number;
  readonly assets: number;
  readonly stateDir: string | undefined;
  readonly mediaScale: number | undefined;
  readonly clock: SimClock;
  readonly family: SimFamily;
}

export async function wireLibrary(options: WiringOptions): Promise<LibraryWiring> {
  const minter = createUrlMinter({ secret: randomBytes(32), clock: options.clock });
  return {
    cloudkit: () => json({ serverErrorCode: 'INTERNAL_ERROR', reason: 'library not wired' }, 500),
    cdn: (req) => handleCdn(req, { minter, resolve: () => undefined, clock: options.clock }),
    libraryControl: () => undefined,
    close: async () => {},
  };
}
