/**
 * Calling the simulated CloudKit without sockets: a library with a real URL minter and a function
 * that builds Apple-shaped `SimRequest`s and returns the parsed reply. Used by the conformance tests
 * and handy for any in-process caller.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createUrlMinter } from '../cdn/urls.ts';
import { createClock, type SimClock } from '../clock.ts';
import { deriveFamily, type SimFamily, type SimPerson } from '../identity.ts';
import { SimLibrary } from '../library/index.ts';
import type { Principal, SimReply, SimRequest } from '../types.ts';
import { handleCloudKit } from './router.ts';

export interface InProcessCloudKit {
  readonly library: SimLibrary;
  readonly clock: SimClock;
  readonly family: SimFamily;
  /** POSTs `body` to `…/{database}/{operation}` as `who` and returns status and parsed JSON. */
  call<T = Record<string, unknown>>(
    operation: string,
    body: unknown,
    options?: CallOptions,
  ): Promise<{ status: number; json: T; reply: SimReply }>;
}

export interface CallOptions {
  readonly database?: 'private' | 'shared';
  readonly who?: 'owner' | 'member';
  /** Query string, e.g. `getCurrentSyncToken=true&remapEnums=True`. Default: `getCurrentSyncToken=true`. */
  readonly query?: string;
  readonly path?: string;
  readonly method?: string;
  /** Request headers (lower-case names); default `content-type: text/plain`. */
  readonly headers?: Readonly<Record<string, string>>;
}

export const principalOf = (person: SimPerson): Principal => ({
  appleId: person.appleId,
  dsid: person.dsid,
  userRecordName: person.userRecordName,
  partition: person.partition,
});

export async function openInProcessCloudKit(options: {
  seed?: number;
  assets?: number;
  stateDir?: string;
  clock?: SimClock;
  mediaScale?: number;
  /** The Shared Library's zone name instead of the seed's (e.g. the one a recording's requests name). */
  sharedZoneName?: string;
}): Promise<InProcessCloudKit> {
  const seed = options.seed ?? 1;
  const clock = options.clock ?? createClock();
  const derived = deriveFamily(seed);
  const family = options.sharedZoneName ? { ...derived, sharedZoneName: options.sharedZoneName } : derived;
  const minter = createUrlMinter({ secret: randomBytes(32), clock });
  const library = await SimLibrary.open({
    seed,
    assets: options.assets ?? 60,
    clock,
    family,
    minter,
    mediaScale: options.mediaScale ?? 0.01,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
  });
  return {
    library,
    clock,
    family,
    async call(operation, body, callOptions = {}) {
      const database = callOptions.database ?? 'private';
      const person = callOptions.who === 'member' ? family.member : family.owner;
      const raw = Buffer.from(JSON.stringify(body ?? {}), 'utf8');
      const req: SimRequest = {
        method: callOptions.method ?? 'POST',
        host: `p${person.partition}-ckdatabasews.icloud.com`,
        path: callOptions.path ?? `/database/1/com.apple.photos.cloud/production/${database}/${operation}`,
        query: new URLSearchParams(callOptions.query ?? 'getCurrentSyncToken=true'),
        headers: callOptions.headers ?? { 'content-type': 'text/plain' },
        cookies: new Map(),
        body: raw,
        json: body ?? {},
      };
      const reply = await handleCloudKit(req, {
        library,
        principal: principalOf(person),
        clock,
        requestUuid: randomUUID(),
      });
      const value = reply.body.kind === 'json' ? reply.body.value : undefined;
      // Round-trip through JSON like the wire does (drops undefined, copies).
      return { status: reply.status, json: JSON.parse(JSON.stringify(value ?? null)), reply };
    },
  };
}
