/**
 * Starting the iCloud simulator in a test, and a small typed client for its control API.
 *
 *   const sim = await startTestSimulator({ assets: 50 });
 *   const control = controlClient(sim);
 *   const session = await control.session();        // cookies for CloudKit, no sign-in needed
 *   ...
 *   await sim.stop();                                // in afterAll
 *
 * Apple URLs reach the simulator through `toSimulatorUrl` (simulator/src/hosts.ts).
 */
import type { SimulatorHandle, SimulatorOptions } from '#simulator/src/index.ts';
import { startSimulator } from '#simulator/src/index.ts';

/** Starts a simulator on 127.0.0.1 with a free port; small, fast defaults for tests. */
export function startTestSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  return startSimulator({ assets: 20, mediaScale: 0.01, ...options, port: 0 });
}

export interface SimSession {
  /** A ready `Cookie` header value (all `.icloud.com` cookies). */
  readonly cookie: string;
  /** `Set-Cookie` strings with Apple's Domain attributes, for a cookie jar keyed on Apple URLs. */
  readonly cookies: string[];
  readonly dsid: string;
  readonly appleId: string;
  /** Apple form, e.g. `https://p42-ckdatabasews.icloud.com:443`. */
  readonly ckdatabasewsUrl: string;
  readonly trustToken: string;
  readonly sessionToken: string;
  readonly accountCountry: string;
}

export interface SimStats {
  readonly total: number;
  readonly requests: Record<string, number>;
}

/** See `FaultSpecSchema` in simulator/src/faults/fault-spec.ts for every field. */
export interface FaultInput {
  readonly endpoint: string;
  readonly status?: number;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
  readonly retryAfter?: number;
  readonly delayMs?: number;
  readonly count?: number;
  readonly probability?: number;
  readonly mode?: string;
  readonly afterBytes?: number;
  readonly chunkBytes?: number;
  readonly chunkDelayMs?: number;
  readonly host?: string;
  readonly method?: string;
  readonly pathContains?: string;
  readonly userAgentContains?: string;
}

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly status: number,
    readonly body: string,
    readonly path: string,
  ) {
    super(`simulator control ${path} answered ${status}: ${body.slice(0, 200)}`);
  }
}

/** A typed client for `<controlUrl>/...`. Every call throws `ControlError` on a non-2xx answer. */
export function controlClient(sim: Pick<SimulatorHandle, 'controlUrl'>) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${sim.controlUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new ControlError(res.status, text, path);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    call,
    describe: () => call<{ baseUrl: string; hosts: Record<string, string>; rewrite: string }>('GET', '/'),
    session: (appleId?: string) => call<SimSession>('POST', '/session', appleId ? { appleId } : {}),
    stats: () => call<SimStats>('GET', '/stats'),
    resetStats: () => call<SimStats>('POST', '/stats/reset'),
    /** The last 2FA code pushed or sent by SMS (optionally to one account). */
    code: async (appleId?: string) =>
      (
        await call<{ code: string }>(
          'GET',
          `/2fa/code${appleId ? `?appleId=${encodeURIComponent(appleId)}` : ''}`,
        )
      ).code,
    setNextCode: (code: string) => call('POST', '/2fa/next-code', { code }),
    clock: () => call<{ now: number }>('GET', '/clock'),
    advanceClock: (by: { advanceMs: number } | { advanceDays: number }) =>
      call<{ now: number }>('POST', '/clock', by),
    injectFault: (fault: FaultInput) => call<FaultInput & { id: number }>('POST', '/faults', fault),
    faults: () => call<{ faults: (FaultInput & { id: number; fired: number })[] }>('GET', '/faults'),
    clearFaults: () => call('DELETE', '/faults'),
    setFlags: (flags: Record<string, unknown>) => call('POST', '/accounts/flags', flags),
    passwordChange: (input: { appleId?: string; newPassword?: string } = {}) =>
      call('POST', '/accounts/password-change', input),
    signOutAll: (appleId?: string) => call('POST', '/accounts/sign-out-all', appleId ? { appleId } : {}),
    partitionMove: (input: { appleId?: string; partition?: number } = {}) =>
      call<{ from: number; to: number }>('POST', '/partition-move', input),
    resetThrottle: () => call('POST', '/throttle/reset'),
    settings: (changes?: Record<string, unknown>) =>
      changes
        ? call<Record<string, unknown>>('POST', '/settings', changes)
        : call<Record<string, unknown>>('GET', '/settings'),
    requests: (limit?: number) =>
      call<{ requests: { method: string; host: string; path: string; endpoint: string; status: number }[] }>(
        'GET',
        `/requests${limit ? `?limit=${limit}` : ''}`,
      ),
    library: <T = unknown>() => call<T>('GET', '/library'),
    mutate: <T = unknown>(mutation: unknown) => call<T>('POST', '/mutate', mutation),
    quirks: <T = unknown>(quirks: unknown) => call<T>('POST', '/quirks', quirks),
  };
}

export type ControlClient = ReturnType<typeof controlClient>;
