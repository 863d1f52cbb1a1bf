/**
 * What a signed CDN download URL says about itself (docs/protocol: downloads). Apple's URLs carry
 * their expiry as `e`, in seconds since the epoch: the issue time plus 3600 s in every recording.
 * After it the CDN answers 410 Gone.
 */

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
