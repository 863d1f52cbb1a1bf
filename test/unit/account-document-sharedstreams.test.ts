/** accountLogin's `webservices.sharedstreams.url` is what the Shared Albums adapter uses (docs/protocol/shared-albums.md#hosts). */
import { describe, expect, it } from 'vitest';
import { readAccountDocument } from '#adapters/icloud/auth/account-document.ts';

const document = (webservices: Record<string, unknown>) => ({
  dsInfo: { dsid: '12345678901', hsaVersion: 2 },
  hsaChallengeRequired: false,
  hsaTrustedBrowser: true,
  webservices: {
    ckdatabasews: { url: 'https://p101-ckdatabasews.icloud.com:443', status: 'active' },
    ...webservices,
  },
});

describe('readAccountDocument and Shared Albums', () => {
  it('reads the sharedstreams URL verbatim when the account lists the service', () => {
    const account = readAccountDocument(
      document({ sharedstreams: { url: 'https://p101-sharedstreams.icloud.com:443', status: 'active' } }),
    );
    expect(account.sharedstreamsUrl).toBe('https://p101-sharedstreams.icloud.com:443');
  });

  it('leaves it out when the account lists no such service', () => {
    expect(readAccountDocument(document({})).sharedstreamsUrl).toBeUndefined();
  });
});
