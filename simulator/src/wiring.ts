/**
 * The one place that joins the server to the library/CloudKit and CDN/media parts, built by other
 * hands in parallel. Everything the server needs from them goes through `LibraryWiring`.
 */
import { createHash } from 'node:crypto';
import { cdnQuirksPatchSchema, createCdnService } from './cdn/service.ts';
import { createUrlMinter } from './cdn/urls.ts';
import type { SimClock } from './clock.ts';
import { handleCloudKit } from './cloudkit/router.ts';
import type { SimFamily } from './identity.ts';
import { handleLibraryControl } from './library/control.ts';
import { SimLibrary } from './library/index.ts';
import type { CloudKitCall } from './server.ts';
import { handleSharedCollectionsControl } from './sharedcollections/control.ts';
import { handleSharedStreams, handleSharedStreamsControl, SharedStreams } from './sharedstreams/index.ts';
import type { SimReply, SimRequest } from './types.ts';
import { json } from './types.ts';

export interface LibraryWiring {
  readonly cloudkit: (req: SimRequest, call: CloudKitCall) => SimReply | Promise<SimReply>;
  readonly cdn: (req: SimRequest) => SimReply | Promise<SimReply>;
  readonly sharedstreams: (req: SimRequest, call: CloudKitCall) => SimReply;
  /** Control routes of the library and CDN parts; undefined when the path is not theirs. */
  readonly control: (req: SimRequest) => SimReply | undefined | Promise<SimReply | undefined>;
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
  // Derived from the seed so URLs minted before a restart (with --state-dir) still verify after it.
  const secret = createHash('sha256').update(`icloud-s3-simulator:cdn:${options.seed}`).digest();
  const minter = createUrlMinter({ secret, clock: options.clock });
  const library = await SimLibrary.open({
    seed: options.seed,
    assets: options.assets,
    clock: options.clock,
    family: options.family,
    minter,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    ...(options.mediaScale ? { mediaScale: options.mediaScale } : {}),
  });
  const streams = new SharedStreams({
    seed: options.seed,
    family: options.family,
    clock: options.clock,
    ...(options.mediaScale ? { mediaScale: options.mediaScale } : {}),
  });
  const cdn = createCdnService({
    minter,
    resolve: (checksum) =>
      library.resolveResource(checksum) ?? streams.resolve(checksum) ?? library.collections.resolve(checksum),
    clock: options.clock,
  });
  return {
    cloudkit: (req, call) =>
      handleCloudKit(req, {
        library,
        principal: call.principal,
        clock: options.clock,
        requestUuid: call.requestUuid,
      }),
    cdn: (req) => cdn.handle(req),
    sharedstreams: (req, call) =>
      handleSharedStreams(req, {
        streams,
        caller: call.principal,
        minter,
        clock: options.clock,
        requestUuid: call.requestUuid,
      }),
    control: (req) => {
      const shared = handleSharedStreamsControl(req, streams);
      if (shared) return shared;
      const collections = handleSharedCollectionsControl(req, library.collections);
      if (collections) return collections;
      if (req.path.replace(/\/+$/, '') !== '/cdn/quirks') return handleLibraryControl(req, library);
      if (req.method === 'GET') return json(cdn.quirks());
      const patch = cdnQuirksPatchSchema.safeParse(req.json ?? {});
      return patch.success ? json(cdn.setQuirks(patch.data)) : json({ error: patch.error.message }, 400);
    },
    close: () => library.close(),
  };
}
