/**
 * The CDN as the server mounts it: `handleCdn` plus its quirk switches, changeable at run time
 * (e.g. from a `/__sim` control route, parsing the body with `cdnQuirksPatchSchema`).
 */
import * as z from 'zod';
import type { Clock, ResolveResource, SimReply, SimRequest } from '../types.ts';
import { handleCdn } from './router.ts';
import { type SignedUrlMinter, URL_LIFETIME_SECONDS } from './urls.ts';

export const cdnQuirksSchema = z.strictObject({
  /** S112 in docs/protocol/simulator-contract.md#asset-cdn: ignore `Range` and answer 200 with the whole file (the recorded resume cassette). */
  ignoreRange: z.boolean(),
  /** S111 in docs/protocol/simulator-contract.md#asset-cdn: status for a URL whose signature does not verify (400 `{}` as recorded, or 403). */
  invalidSignatureStatus: z.union([z.literal(400), z.literal(403)]),
  /** S114 in docs/protocol/simulator-contract.md#asset-cdn/115: without the session cookie, answer 200 with kei's 17-byte body. */
  requireCookie: z.enum(['never', 'sharedSync', 'always']),
  /**
   * S144 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: seconds from issue to `e` for URLs minted from now on (3600 recorded). A shorter
   * one (e.g. 1800) exercises a client's refresh path; URLs answer 410 once `e` has passed.
   */
  urlLifetimeSeconds: z.number().int().min(1).max(86_400),
});

export type CdnQuirks = z.infer<typeof cdnQuirksSchema>;

export const DEFAULT_CDN_QUIRKS: CdnQuirks = {
  ignoreRange: false,
  invalidSignatureStatus: 400,
  requireCookie: 'never',
  urlLifetimeSeconds: URL_LIFETIME_SECONDS,
};

/** A control body: any subset of the switches. */
export const cdnQuirksPatchSchema = cdnQuirksSchema.partial();

export interface CdnService {
  handle(req: SimRequest): Promise<SimReply>;
  quirks(): CdnQuirks;
  /** Applies a patch and returns the switches now in force. */
  setQuirks(patch: Partial<CdnQuirks>): CdnQuirks;
}

export function createCdnService(deps: {
  readonly minter: SignedUrlMinter;
  readonly resolve: ResolveResource;
  readonly clock: Clock;
}): CdnService {
  let quirks: CdnQuirks = DEFAULT_CDN_QUIRKS;
  return {
    handle: (req) => handleCdn(req, { ...deps, ...quirks }),
    quirks: () => quirks,
    setQuirks(patch) {
      quirks = cdnQuirksSchema.parse({ ...quirks, ...patch });
      deps.minter.lifetimeSeconds = quirks.urlLifetimeSeconds;
      return quirks;
    },
  };
}
