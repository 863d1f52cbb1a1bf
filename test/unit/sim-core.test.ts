import { describe, expect, it } from 'vitest';
import { appleCookieDate, parseCookieHeader, serializeSetCookie } from '#simulator/src/auth/cookies.ts';
import { createClock } from '#simulator/src/clock.ts';
import { RequestLog } from '#simulator/src/control/request-log.ts';
import { FaultRegistry } from '#simulator/src/faults/registry.ts';
import { cloudKitEndpointKey, endpointKeyOf } from '#simulator/src/server.ts';
import { RequestStats } from '#simulator/src/stats.ts';
import type { SimRequest } from '#simulator/src/types.ts';

const req = (path = '/x', ua = 'ua'): SimRequest => ({
  method: 'POST',
  host: 'setup.icloud.com',
  path,
  query: new URLSearchParams(),
  headers: { 'user-agent': ua },
  cookies: new Map(),
  body: Buffer.alloc(0),
  json: undefined,
});

describe('simulator core pieces', () => {
  it('the clock follows real time plus what was advanced, and never goes back', () => {
    let real = 1000;
    const clock = createClock(0, () => real);
    clock.advance(500);
    real = 1100;
    expect(clock.now()).toBe(1600);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it('stats count per key and reset', () => {
    const s = new RequestStats();
    s.count('cdn');
    s.count('cdn');
    s.count('changes/zone');
    expect(s.snapshot()).toEqual({ total: 3, requests: { cdn: 2, 'changes/zone': 1 } });
    s.reset();
    expect(s.snapshot()).toEqual({ total: 0, requests: {} });
  });

  it('endpoint keys follow the /stats contract', () => {
    expect(
      cloudKitEndpointKey(
        '/database/1/com.apple.photos.cloud/production/private/internal/records/query/batch',
      ),
    ).toBe('internal/records/query/batch');
    expect(endpointKeyOf('idmsa', '/appleauth/auth/signin/init')).toBe('signin/init');
    expect(endpointKeyOf('idmsa', '/appleauth/auth')).toBe('auth');
    expect(endpointKeyOf('setup', '/setup/ws/1/accountLogin')).toBe('accountLogin');
    expect(endpointKeyOf('cdn', '/B/abc/x')).toBe('cdn');
  });

  it('a counted fault is removed after firing count times; filters narrow it', () => {
    const r = new FaultRegistry(() => 0.5);
    r.add({ endpoint: 'validate', status: 503, count: 2, userAgentContains: 'old' });
    expect(r.match('validate', req('/x', 'new'))).toBeUndefined();
    expect(r.match('validate', req('/x', 'old'))?.status).toBe(503);
    expect(r.match('validate', req('/x', 'old'))?.status).toBe(503);
    expect(r.match('validate', req('/x', 'old'))).toBeUndefined();
    r.add({ endpoint: '*', status: 500, probability: 0.4 });
    expect(r.match('cdn', req())).toBeUndefined();
  });

  it('the request log keeps the most recent entries in order', () => {
    const log = new RequestLog(3);
    for (let i = 0; i < 5; i++)
      log.add({ at: i, method: 'GET', host: 'h', path: `/${i}`, endpoint: 'e', status: 200, ms: 0 });
    expect(log.recent().map((e) => e.path)).toEqual(['/2', '/3', '/4']);
  });

  it('cookies are written with Apple attributes and dates, and read back with their quotes', () => {
    expect(appleCookieDate(Date.UTC(2024, 0, 12, 5, 6, 31))).toBe('Fri, 12-Jan-2024 05:06:31 GMT');
    expect(
      serializeSetCookie({
        name: 'X-APPLE-WEBAUTH-USER',
        value: '"v=1:s=1:d=1"',
        domain: '.icloud.com',
        expires: 0,
        httpOnly: true,
      }),
    ).toBe(
      'X-APPLE-WEBAUTH-USER="v=1:s=1:d=1";Expires=Thu, 01-Jan-1970 00:00:00 GMT;Path=/;Domain=.icloud.com;Secure;HttpOnly',
    );
    expect(parseCookieHeader('a="x=1"; b=2').get('a')).toBe('"x=1"');
  });
});
