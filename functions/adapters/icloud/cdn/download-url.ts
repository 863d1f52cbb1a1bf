/**
 * What a signed CDN download URL says about itself (docs/protocol: downloads). Apple's URLs carry
 * their expiry as `e`, in seconds since the epoch: the issue time plus 3600 s in every recording.
 * After it the CDN answers 410 Gone.
 */

import { isAppleCdnHost } from '#shared/apple-cdn-host.ts';

/** Milliseconds since the epoch at which `url` stops working, or undefined when it does not say. */
export function downloadUrlExpiresAt(url: string): number | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const e = parsed.searchParams.get('e');
  if (e === null || !/^\d{9,11}$/.test(e)) return undefined;
  return Number(e) * 1000;
}

/**
 * Why `url` may not be fetched as a download, or undefined when it is Apple's CDN: `https`, no
 * user name or password, the default port, and a host under one of Apple's CDN domains. A records
 * answer is data from the network; fetching whatever URL it names would let it reach any host our
 * Lambda can (a server-side request forgery). The check applies to the Apple URL, before a
 * simulator's transport rewrite. The reason names the host, never the URL (its query is a signature).
 */
export function refusedDownloadUrlReason(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it is not a URL';
  }
  if (parsed.protocol !== 'https:') return `its scheme is ${parsed.protocol.replace(/:$/, '')}, not https`;
  if (parsed.username !== '' || parsed.password !== '') return 'it carries a user name or password';
  if (parsed.port !== '') return `it names port ${parsed.port}`;
  const host = parsed.hostname.toLowerCase();
  if (!isAppleCdnHost(host)) return `its host is ${host}`;
  return undefined;
}
