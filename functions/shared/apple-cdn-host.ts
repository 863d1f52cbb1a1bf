/**
 * Apple's asset CDN, the one list of its host suffixes (docs/protocol/cdn.md):
 * `cvws.icloud-content.com` and `cvws-h2.…`, the China mainland `*.icloud-content.com.cn`, and
 * `*.cdn-apple.com`, which kei also accepts. What the workers may download from, and so what the
 * redaction treats as signed, the request counter counts as `cdn` and a simulator stands in for:
 * a second copy once missed `.cdn-apple.com` and left a signature in `--trace`.
 */
const APPLE_CDN_HOST_SUFFIXES = ['.icloud-content.com', '.icloud-content.com.cn', '.cdn-apple.com'];

/** Whether `host` is under one of Apple's CDN domains (a subdomain: the bare domain serves no files). */
export function isAppleCdnHost(host: string): boolean {
  const h = host.toLowerCase();
  return APPLE_CDN_HOST_SUFFIXES.some((suffix) => h.endsWith(suffix));
}
