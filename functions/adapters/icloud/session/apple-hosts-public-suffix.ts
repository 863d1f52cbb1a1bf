/**
 * What the Lambda bundles put in place of `tldts` (infra/lambda-bundle-aliases.ts): tough-cookie
 * asks it for a host's registrable domain (`getDomain`), to refuse a cookie scoped to a public
 * suffix and to find the cookies of a host. tldts answers from the whole Public Suffix List, a
 * 124 KB trie: 13 % of each bundle before this, for a jar that only ever sees Apple's hosts
 * (requests name Apple URLs even against a simulator: adapters/icloud/endpoints.ts).
 *
 * For those hosts the answer is the same: their public suffixes are `com`, `cn` and `com.cn`,
 * and no rule of the list's private section covers them (test/unit/apple-hosts-public-suffix.test.ts
 * compares both on every kind of host the jar sees). Any other
 * host is answered as the list's default rule would (the last label is the public suffix), or as
 * `com.cn` if it ends so. The CLI and the tests keep tldts.
 */

/** The list's multi-label suffixes under which Apple's hosts live. */
const MULTI_LABEL_SUFFIXES: ReadonlySet<string> = new Set(['com.cn']);

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

/**
 * The registrable domain of `hostname` (the public suffix and one label before it), or `null`
 * for an IP address, a public suffix itself or something that is not a host name (tldts's
 * contract, options aside: both sections of the list always count here).
 */
export function getDomain(hostname: string, _options?: unknown): string | null {
  let host = hostname.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.includes(':') || host.startsWith('[') || IPV4.test(host)) return null;
  const labels = host.split('.');
  if (!labels.every((label) => LABEL.test(label))) return null;
  const lastTwo = labels.slice(-2).join('.');
  const suffixLabels = labels.length >= 2 && MULTI_LABEL_SUFFIXES.has(lastTwo) ? 2 : 1;
  if (labels.length <= suffixLabels) return null;
  return labels.slice(-(suffixLabels + 1)).join('.');
}
