import { describe, expect, it } from 'vitest';
import { icloudRequestKind } from '../../bench/support/icloud-request-kind.ts';

describe("the bench timeline's request kinds", () => {
  it('counts only CDN GETs as downloads, against Apple and against the simulator', () => {
    expect(icloudRequestKind('GET', 'cvws.icloud-content.com', '/B/AaZn/IMG_0001.JPG?o=1')).toBe('download');
    expect(icloudRequestKind('GET', 'cvws.icloud-content.com.cn', '/B/AaZn/x')).toBe('download');
    expect(icloudRequestKind('GET', '127.0.0.1', '/cvws.icloud-content.com/B/AaZn/IMG_0001.JPG?e=1')).toBe(
      'download',
    );
  });

  it('does not count the simulator endpoint discovery or other GETs as downloads', () => {
    expect(icloudRequestKind('GET', '127.0.0.1', '/__sim')).toBe('other');
    expect(icloudRequestKind('GET', '127.0.0.1', '/__sim/stats')).toBe('other');
    expect(
      icloudRequestKind('GET', 'p15-sharedstreams.icloud.com', '/1/sharedstreams/webgetalbumslist'),
    ).toBe('other');
    expect(icloudRequestKind('POST', '127.0.0.1', '/cvws.icloud-content.com/B/x')).toBe('other');
  });

  it('tells listing pages and changes calls apart', () => {
    const base = '/p15-ckdatabasews.icloud.com/database/1/com.apple.photos.cloud/production/private';
    expect(icloudRequestKind('POST', '127.0.0.1', `${base}/records/query`)).toBe('query');
    expect(icloudRequestKind('POST', '127.0.0.1', `${base}/changes/database`)).toBe('changes');
  });
});
