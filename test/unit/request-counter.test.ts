import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestCounter } from '#adapters/icloud/request-counter.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('RequestCounter', () => {
  it('lists the endpoints in alphabetical order, each with its count', () => {
    const counter = new RequestCounter();
    for (const url of [
      'https://p33-sharedstreams.icloud.com/123/sharedstreams/webgetalbumslist',
      'https://p33-ckdatabasews.icloud.com/database/1/com.apple.photos.cloud/production/private/records/query',
      'https://cvws.icloud-content.com/B/abc',
      'https://p33-ckdatabasews.icloud.com/database/1/com.apple.photos.cloud/production/private/changes/database',
      'https://setup.icloud.com/setup/ws/1/accountLogin',
      'https://p33-ckdatabasews.icloud.com/database/1/com.apple.photos.cloud/production/private/records/query',
      'https://idmsa.apple.com/appleauth/auth/signin/init',
    ])
      counter.record(url);
    expect(Object.entries(counter.counts())).toEqual([
      ['accountLogin', 1],
      ['cdn', 1],
      ['changes/database', 1],
      ['records/query', 2],
      ['sharedstreams/webgetalbumslist', 1],
      ['signin/init', 1],
    ]);
    expect(counter.total()).toBe(7);
  });

  // A locale comparison loads ICU's collation data: 10-15 ms at the end of every sync, for keys
  // that are plain ASCII.
  it('orders them without a locale comparison', () => {
    const compare = vi.spyOn(String.prototype, 'localeCompare');
    const counter = new RequestCounter();
    counter.record('https://cvws.icloud-content.com/B/abc');
    counter.record('https://setup.icloud.com/setup/ws/1/accountLogin');
    counter.counts();
    expect(compare).not.toHaveBeenCalled();
  });
});
