/**
 * Which iCloud the client talks to: Apple's international service, Apple's China mainland service
 * (docs/protocol/sign-in.md#china-mainland), or a simulator. Requests always name Apple URLs (the cookie jar is keyed on them);
 * for a simulator, `toTransportUrl` rewrites an Apple URL at send time to
 * `<baseUrl>/<apple-host>/<path>?<query>` (the rule of simulator/src/hosts.ts, reimplemented
 * here because adapters never import the simulator).
 */

import { InvalidInputError, UnexpectedResponseError } from '#domain/errors.ts';
import { isAppleCdnHost } from '#shared/apple-cdn-host.ts';
import * as z from '#shared/zod.ts';

export interface IcloudEndpoint {
  /** What the user selected: `apple`, `apple-cn`, or the simulator's control URL. */
  readonly id: string;
  readonly kind: 'apple' | 'apple-cn' | 'simulator';
  /** `https://idmsa.apple.com/appleauth/auth` (no trailing slash). */
  readonly authBase: string;
  /** `https://setup.icloud.com/setup/ws/1`. */
  readonly setupBase: string;
  /** `https://www.icloud.com`: Origin of setup and CloudKit calls, OAuth redirect URI. */
  readonly home: string;
  /** `https://idmsa.apple.com`: Origin of IdMSA calls. */
  readonly idmsaOrigin: string;
  /** The URL actually fetched for an Apple URL (identity for Apple). */
  toTransportUrl(appleUrl: string): string;
}

const APPLE_ENDPOINTS = {
  apple: { idmsa: 'idmsa.apple.com', setup: 'setup.icloud.com', home: 'www.icloud.com' },
  'apple-cn': { idmsa: 'idmsa.apple.com.cn', setup: 'setup.icloud.com.cn', home: 'www.icloud.com.cn' },
} as const;

const CKDATABASEWS_HOST = /^p\d+-ckdatabasews\.icloud\.com(\.cn)?$/;
/** Legacy Shared Albums (docs/protocol/shared-albums.md). */
const SHAREDSTREAMS_HOST = /^p\d+-sharedstreams\.icloud\.com(\.cn)?$/;

/** Whether `host` is one of Apple's iCloud hosts a simulator stands in for. */
export function isAppleHost(host: string): boolean {
  const h = host.toLowerCase();
  return (
    h === 'idmsa.apple.com' ||
    h === 'idmsa.apple.com.cn' ||
    h === 'setup.icloud.com' ||
    h === 'setup.icloud.com.cn' ||
    h === 'www.icloud.com' ||
    h === 'www.icloud.com.cn' ||
    CKDATABASEWS_HOST.test(h) ||
    SHAREDSTREAMS_HOST.test(h) ||
    isAppleCdnHost(h)
  );
}

/**
 * The service of an Apple URL that takes the web session's cookies: CloudKit
 * (`pNN-ckdatabasews.icloud.com`) or legacy Shared Albums (`pNN-sharedstreams.icloud.com`).
 */
export function sessionService(url: string): 'ckdatabasews' | 'sharedstreams' | undefined {
  const host = new URL(url).hostname.toLowerCase();
  return CKDATABASEWS_HOST.test(host)
    ? 'ckdatabasews'
    : SHAREDSTREAMS_HOST.test(host)
      ? 'sharedstreams'
      : undefined;
}

/** Rewrites an Apple URL for a simulator listening at `baseUrl`; other URLs pass unchanged. */
export function rewriteForSimulator(appleUrl: string, baseUrl: string): string {
  const u = new URL(appleUrl);
  if (!isAppleHost(u.hostname)) return appleUrl;
  return `${baseUrl.replace(/\/+$/, '')}/${u.hostname.toLowerCase()}${u.pathname}${u.search}`;
}

function appleEndpoint(
  kind: 'apple' | 'apple-cn',
  id: string,
  toTransportUrl = (u: string) => u,
): IcloudEndpoint {
  const hosts = APPLE_ENDPOINTS[kind];
  return {
    id,
    kind,
    authBase: `https://${hosts.idmsa}/appleauth/auth`,
    setupBase: `https://${hosts.setup}/setup/ws/1`,
    home: `https://${hosts.home}`,
    idmsaOrigin: `https://${hosts.idmsa}`,
    toTransportUrl,
  };
}

const SimulatorDescription = z.looseObject({ baseUrl: z.url() });

/**
 * Resolves `--endpoint` / `ICLOUD_ENDPOINT`: `apple` (default), `apple-cn`, or a simulator control
 * URL (`http://127.0.0.1:PORT/__sim`), which is fetched once to learn the simulator's `baseUrl`.
 */
export async function resolveEndpoint(
  spec: string | undefined,
  fetchImpl: typeof fetch = fetch,
): Promise<IcloudEndpoint> {
  const value = (spec ?? '').trim() || 'apple';
  if (value === 'apple' || value === 'apple-cn') return appleEndpoint(value, value);
  let control: URL;
  try {
    control = new URL(value);
  } catch {
    throw new InvalidInputError(
      `unknown endpoint "${value}": use apple, apple-cn or a simulator control URL`,
    );
  }
  if (control.protocol !== 'http:' && control.protocol !== 'https:') {
    throw new InvalidInputError(
      `unknown endpoint "${value}": use apple, apple-cn or a simulator control URL`,
    );
  }
  const response = await fetchImpl(control, { headers: { accept: 'application/json' } }).catch(
    (error: unknown) => {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new UnexpectedResponseError(
        `cannot reach the simulator at ${control.origin}${typeof code === 'string' ? ` (${code})` : ''}`,
        { cause: error },
      );
    },
  );
  if (!response.ok) {
    throw new UnexpectedResponseError(`simulator control URL answered HTTP ${response.status}`);
  }
  const described = SimulatorDescription.safeParse(await response.json().catch(() => undefined));
  if (!described.success) {
    throw new UnexpectedResponseError('simulator control URL did not describe a baseUrl');
  }
  const baseUrl = described.data.baseUrl;
  return { ...appleEndpoint('apple', value, (u) => rewriteForSimulator(u, baseUrl)), kind: 'simulator' };
}
