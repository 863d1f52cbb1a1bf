import { getDomain as listGetDomain } from 'tldts';
import { CookieJar, MemoryCookieStore } from 'tough-cookie';
import { describe, expect, it } from 'vitest';
import { getDomain } from '#adapters/icloud/session/apple-hosts-public-suffix.ts';

/** Every kind of host the session's cookie jar sees (requests name Apple URLs, simulator or not). */
const APPLE_HOSTS = [
  'idmsa.apple.com',
  'idmsa.apple.com.cn',
  'setup.icloud.com',
  'setup.icloud.com.cn',
  'www.icloud.com',
  'www.icloud.com.cn',
  'p42-ckdatabasews.icloud.com',
  'p217-ckdatabasews.icloud.com.cn',
  'p42-sharedstreams.icloud.com',
  'p42-sharedstreams.icloud.com.cn',
  'cvws.icloud-content.com',
  'cvws.icloud-content.com.cn',
  'icloud.com',
  'icloud.com.cn',
  'apple.com',
  'apple.com.cn',
  'WWW.ICLOUD.COM',
  'setup.icloud.com.',
];

/** What tough-cookie asks: the list's answer with both of its sections. */
const fromList = (host: string) =>
  listGetDomain(host, { allowIcannDomains: true, allowPrivateDomains: true });

describe('public suffixes the Lambda bundles use in place of tldts', () => {
  it.each(APPLE_HOSTS)('answers as the Public Suffix List for %s', (host) => {
    expect(getDomain(host)).toBe(fromList(host));
  });

  it.each([
    'com',
    'cn',
    'com.cn',
    '127.0.0.1',
    '[::1]',
    '::1',
    'a..icloud.com',
    'example.com',
    'a.b.example.net',
  ])('answers as the list for %s, which the jar never sees', (host) => {
    expect(getDomain(host)).toBe(fromList(host));
  });

  it('keeps cookies scoped as Apple scopes them, and refuses one scoped to a public suffix', async () => {
    const jar = new CookieJar(new MemoryCookieStore(), { looseMode: true, rejectPublicSuffixes: true });
    await jar.setCookie(
      'X-APPLE-WEBAUTH-USER="v=1"; Domain=.icloud.com; Path=/; Secure',
      'https://setup.icloud.com/setup/ws/1/accountLogin',
    );
    await jar.setCookie(
      'X-APPLE-ID-SESSION=1; Path=/; Secure',
      'https://idmsa.apple.com/appleauth/auth/signin',
    );
    await expect(
      jar.setCookie('evil=1; Domain=.com; Path=/', 'https://setup.icloud.com/setup/ws/1/accountLogin'),
    ).rejects.toThrow();
    const cookies = await jar.getCookieString('https://p42-ckdatabasews.icloud.com/database/1/');
    expect(cookies).toBe('X-APPLE-WEBAUTH-USER="v=1"');
  });
});
