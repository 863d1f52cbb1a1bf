/**
 * Apple-shaped signed download URLs (docs/protocol/cdn.md#url-shape, S108 in docs/protocol/simulator-contract.md#asset-cdn):
 *
 *   https://cvws.icloud-content.com/B/<fileChecksum><referenceChecksum>/${f}
 *     ?o=..&v=1&x=3&a=..&e=<issue + 3600 s>&k=<wrappingKey>&fl=&r=<requestUuid>-1
 *     &ckc=com.apple.photos.cloud&ckz=<zone>&y=1&p=10&s=<signature>
 *
 * Both checksums are 28 characters of standard base64 turned URL-safe (`+`→`-`, `/`→`_`), so the
 * 56-character path segment splits back at a fixed position. `s` is an HMAC over that path segment
 * and every other parameter in order; the `${f}` file-name slot is not signed (clients may fill
 * it). `o` and `a` are opaque HMAC-derived values of the recorded lengths.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { APPLE_HOSTS } from '../hosts.ts';
import type { Clock, UrlMinter } from '../types.ts';

/** How long a minted URL stays valid (recorded: `e` ≈ issue time + 1 hour). */
export const URL_LIFETIME_SECONDS = 3600;

const CHECKSUM = /^[A-Za-z0-9+/]{28}$/;
const PATH = /^\/B\/([A-Za-z0-9_-]{56})\/[^/]*$/;
/** The query parameters in the order Apple emits them; all but `s` are signed. */
const SIGNED_PARAMS = ['o', 'v', 'x', 'a', 'e', 'k', 'fl', 'r', 'ckc', 'ckz', 'y', 'p'] as const;

export type VerifiedUrl =
  | { readonly fileChecksum: string; readonly expired: boolean }
  | { readonly invalid: true };

export interface SignedUrlMinter extends UrlMinter {
  /**
   * Checks a URL minted by this minter: `{ invalid: true }` when its path or any signed parameter
   * was altered (or it was never minted here), otherwise its `fileChecksum` (standard base64) and
   * whether its expiry `e` has passed on the simulated clock.
   */
  verify(url: URL): VerifiedUrl;
  /**
   * S144 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: the lifetime (`e` - issue time) of URLs minted from now on; 3600 s by default
   * (recorded). A test switch shortens it to exercise refresh paths.
   */
  lifetimeSeconds: number;
}

const toUrlSafe = (b64: string): string => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromUrlSafe = (b64url: string): string => b64url.replace(/-/g, '+').replace(/_/g, '/');

export function createUrlMinter(options: { secret: Buffer; clock: Clock; host?: string }): SignedUrlMinter {
  const host = options.host ?? APPLE_HOSTS.cdn;
  const mac = (...parts: string[]): Buffer =>
    createHmac('sha256', options.secret).update(parts.join('\n')).digest();
  const signature = (segment: string, params: ReadonlyMap<string, string>): string =>
    mac('s', segment, ...SIGNED_PARAMS.map((name) => `${name}=${params.get(name) ?? ''}`))
      .subarray(0, 20)
      .toString('base64url');

  let lifetimeSeconds = URL_LIFETIME_SECONDS;
  return {
    get lifetimeSeconds() {
      return lifetimeSeconds;
    },
    set lifetimeSeconds(seconds: number) {
      lifetimeSeconds = seconds;
    },

    mint(input) {
      if (!CHECKSUM.test(input.fileChecksum) || !CHECKSUM.test(input.referenceChecksum)) {
        throw new RangeError('fileChecksum and referenceChecksum must be 28 characters of base64');
      }
      const segment = toUrlSafe(input.fileChecksum) + toUrlSafe(input.referenceChecksum);
      const issuedAt = Math.floor(options.clock.now() / 1000);
      const wrappingKey = input.wrappingKey
        ? toUrlSafe(input.wrappingKey)
        : mac('k', input.fileChecksum).subarray(0, 16).toString('base64url');
      const params = new Map<string, string>([
        ['o', `A${mac('o', segment, String(issuedAt)).toString('base64url').slice(0, 43)}`],
        ['v', '1'],
        ['x', '3'],
        ['a', `B${mac('a', segment, input.zoneName).toString('base64url').slice(0, 42)}`],
        ['e', String(issuedAt + lifetimeSeconds)],
        ['k', wrappingKey],
        ['fl', ''],
        ['r', `${input.requestUuid}-1`],
        ['ckc', 'com.apple.photos.cloud'],
        ['ckz', input.zoneName],
        ['y', '1'],
        ['p', '10'],
      ]);
      params.set('s', signature(segment, params));
      const query = [...params].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
      return `https://${host}/B/${segment}/\${f}?${query}`;
    },

    verify(url) {
      const match = PATH.exec(url.pathname);
      const sent = url.searchParams.get('s');
      if (!match || sent === null) return { invalid: true };
      const segment = match[1]!;
      const params = new Map<string, string>();
      for (const name of SIGNED_PARAMS) {
        const values = url.searchParams.getAll(name);
        if (values.length !== 1) return { invalid: true };
        params.set(name, values[0]!);
      }
      const expected = Buffer.from(signature(segment, params));
      const given = Buffer.from(sent);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { invalid: true };
      const expiresAt = Number(params.get('e')) * 1000;
      return { fileChecksum: fromUrlSafe(segment.slice(0, 28)), expired: options.clock.now() >= expiresAt };
    },
  };
}
