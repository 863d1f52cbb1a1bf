/**
 * How Apple's hosts reach a simulator that listens on one loopback port.
 *
 * The simulator speaks Apple's URLs and cookies unchanged: `accountLogin` returns
 * `https://p42-ckdatabasews.icloud.com:443`, cookies carry `Domain=.icloud.com`, download URLs point
 * at `https://cvws.icloud-content.com/B/...`. A client keeps its cookie jar keyed on those Apple URLs
 * (so `Domain` matching works exactly as against Apple) and only at the moment of sending rewrites
 *
 *   https://<apple-host>[:443]/<path>?<query>   ->   http://127.0.0.1:<port>/<apple-host>/<path>?<query>
 *
 * The simulator accepts the host as the first path segment (path-prefix routing) or, for clients
 * that can set it, in the `Host` header. The rewrite is the only simulator-specific code a client
 * needs; `GET <controlUrl>` describes it (`baseUrl`, `hosts`).
 */

export const APPLE_HOSTS = {
  idmsa: 'idmsa.apple.com',
  idmsaCn: 'idmsa.apple.com.cn',
  setup: 'setup.icloud.com',
  setupCn: 'setup.icloud.com.cn',
  cdn: 'cvws.icloud-content.com',
  cdnH2: 'cvws-h2.icloud-content.com',
  cdnCn: 'cvws.icloud-content.com.cn',
} as const;

/** `p61-ckdatabasews.icloud.com` and the China variant. */
export const CKDATABASEWS_HOST = /^p(\d+)-ckdatabasews\.icloud\.com(\.cn)?$/;

/** `p101-sharedstreams.icloud.com` (legacy Shared Albums) and the China variant. */
export const SHAREDSTREAMS_HOST = /^p(\d+)-sharedstreams\.icloud\.com(\.cn)?$/;

export type HostRole = 'idmsa' | 'setup' | 'ckdatabasews' | 'sharedstreams' | 'cdn' | 'www';

export function roleOfHost(host: string): HostRole | undefined {
  const h = host.toLowerCase();
  if (h === APPLE_HOSTS.idmsa || h === APPLE_HOSTS.idmsaCn) return 'idmsa';
  if (h === APPLE_HOSTS.setup || h === APPLE_HOSTS.setupCn) return 'setup';
  if (CKDATABASEWS_HOST.test(h)) return 'ckdatabasews';
  if (SHAREDSTREAMS_HOST.test(h)) return 'sharedstreams';
  if (h.endsWith('.icloud-content.com') || h.endsWith('.icloud-content.com.cn')) return 'cdn';
  if (h === 'www.icloud.com' || h === 'www.icloud.com.cn') return 'www';
  return undefined;
}

/** Rewrites an Apple URL to the simulator at `baseUrl` (e.g. `http://127.0.0.1:4567`). */
export function toSimulatorUrl(appleUrl: string, baseUrl: string): string {
  const u = new URL(appleUrl);
  if (roleOfHost(u.hostname) === undefined) return appleUrl;
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/${u.hostname}${u.pathname}${u.search}`;
}
