/**
 * `startSimulator`: the fake iCloud on one loopback port (see simulator/README.md).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Lifetimes } from './accounts/store.ts';
import { AccountStore } from './accounts/store.ts';
import type { AuthContext } from './auth/context.ts';
import { IdmsaState } from './auth/idmsa-state.ts';
import type { AuthSettings } from './auth/settings.ts';
import { DEFAULT_AUTH_SETTINGS } from './auth/settings.ts';
import { SetupService } from './auth/setup-router.ts';
import { createClock } from './clock.ts';
import { RequestLog } from './control/request-log.ts';
import { createControlRouter } from './control/router.ts';
import { FaultRegistry } from './faults/registry.ts';
import { seededRandom } from './faults/seeded-random.ts';
import { APPLE_HOSTS } from './hosts.ts';
import { deriveFamily } from './identity.ts';
import { CONTROL_PREFIX, createRequestListener } from './server.ts';
import { RequestStats } from './stats.ts';
import { wireLibrary } from './wiring.ts';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 1. */
  readonly seed?: number;
  /** Number of generated photos and videos; default 1,000. */
  readonly assets?: number;
  /** Persist accounts, sessions, the library's change log and the clock here. */
  readonly stateDir?: string;
  /** Scale factor for generated media sizes (smaller = faster tests). */
  readonly mediaScale?: number;
  /** Sign-in switches (see `AuthSettings`). */
  readonly auth?: Partial<AuthSettings>;
  /** Token and session lifetimes (see `Lifetimes`). */
  readonly lifetimes?: Partial<Lifetimes>;
}

export interface SimulatorHandle {
  /** `http://127.0.0.1:PORT/__sim` */
  readonly controlUrl: string;
  /** `http://127.0.0.1:PORT/idmsa.apple.com/appleauth/auth` */
  readonly authUrl: string;
  /** `http://127.0.0.1:PORT/setup.icloud.com/setup/ws/1` */
  readonly setupUrl: string;
  /** `http://127.0.0.1:PORT`: prefix every Apple URL's host with it (see hosts.ts). */
  readonly baseUrl: string;
  readonly seed: number;
  readonly assets: number;
  /** The seeded account (two-factor on, owner of the library). */
  readonly appleId: string;
  readonly password: string;
  /** The second family member's account. */
  readonly member: { readonly appleId: string; readonly password: string };
  stop(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const seed = options.seed ?? 1;
  const assets = options.assets ?? 1000;
  const family = deriveFamily(seed);
  const bootClock = createClock();
  const store = new AccountStore({
    family,
    clock: bootClock,
    stateDir: options.stateDir,
    lifetimes: options.lifetimes,
  });
  // The store keeps the simulated-clock offset across restarts; adopt it.
  bootClock.advance(store.storedClockOffsetMs);
  const clock = bootClock;
  const settings: AuthSettings = { ...DEFAULT_AUTH_SETTINGS, ...options.auth };
  const auth: AuthContext = { clock, store, idmsa: new IdmsaState(clock, settings), settings };
  const stats = new RequestStats();
  const faults = new FaultRegistry(seededRandom(seed));
  const log = new RequestLog();
  const library = await wireLibrary({
    seed,
    assets,
    stateDir: options.stateDir,
    mediaScale: options.mediaScale,
    clock,
    family,
  });

  let baseUrl = '';
  const control = createControlRouter({
    baseUrl: () => baseUrl,
    clock,
    stats,
    faults,
    log,
    auth,
    ownerAppleId: family.owner.appleId,
    library: library.control,
  });
  const server = createServer(
    { keepAliveTimeout: 65_000 },
    createRequestListener({
      clock,
      stats,
      faults,
      log,
      auth,
      setup: new SetupService(auth),
      control,
      cloudkit: library.cloudkit,
      cdn: library.cdn,
      sharedstreams: library.sharedstreams,
    }),
  );
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${host}:${port}`;

  let stopped: Promise<void> | undefined;
  return {
    controlUrl: `${baseUrl}${CONTROL_PREFIX}`,
    authUrl: `${baseUrl}/${APPLE_HOSTS.idmsa}/appleauth/auth`,
    setupUrl: `${baseUrl}/${APPLE_HOSTS.setup}/setup/ws/1`,
    baseUrl,
    seed,
    assets,
    appleId: family.owner.appleId,
    password: store.account(family.owner.appleId)?.password ?? family.owner.password,
    member: {
      appleId: family.member.appleId,
      password: store.account(family.member.appleId)?.password ?? family.member.password,
    },
    stop() {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await library.close();
        store.flush();
      })();
      return stopped;
    },
  };
}
