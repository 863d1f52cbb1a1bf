import { CookieJar } from 'tough-cookie';
import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { FetchIcloudHttp } from '#adapters/icloud/http/fetch-icloud-http.ts';
import { TraceRecorder } from '#adapters/icloud/http/trace-recorder.ts';
import type { TraceInteraction } from '#shared/trace-redaction.ts';

/** Answers like Apple's setup service: a redirect that sets a cookie, then JSON. */
const redirectingApple: typeof fetch = async (input) => {
  const url = String(input);
  if (url.endsWith('/old')) {
    return new Response(null, {
      status: 302,
      headers: {
        location: '/setup/ws/1/new',
        'set-cookie': 'X-APPLE-WEBAUTH-TOKEN="v=2:t=SecretCookieValue1";Path=/;Domain=.icloud.com;Secure',
      },
    });
  }
  return Response.json({ dsInfo: { dsid: '12345678901' }, ok: true });
};

async function tracedHttp(fetchImpl: typeof fetch) {
  const interactions: TraceInteraction[] = [];
  const http = new FetchIcloudHttp({
    endpoint: await resolveEndpoint('apple'),
    jar: new CookieJar(),
    fetch: fetchImpl,
    observer: new TraceRecorder({ append: (i) => interactions.push(i) }),
  });
  return { http, interactions };
}

describe('FetchIcloudHttp with an exchange observer', () => {
  it('shows every redirect hop, with the cookie the redirect set sent on the next hop, and leaves the body to the caller', async () => {
    const { http, interactions } = await tracedHttp(redirectingApple);
    const response = await http.send({
      method: 'POST',
      url: 'https://setup.icloud.com/setup/ws/1/old',
      json: {},
    });
    expect(await response.json()).toEqual({ dsInfo: { dsid: '12345678901' }, ok: true });
    expect(interactions.map((i) => `${i.request.method} ${i.request.uri} ${i.response.status}`)).toEqual([
      'POST https://setup.icloud.com/setup/ws/1/old 302',
      'GET https://setup.icloud.com/setup/ws/1/new 200',
    ]);
    const [redirect, answer] = interactions;
    expect(redirect?.response.headers['set-cookie']).toEqual([
      'X-APPLE-WEBAUTH-TOKEN=<redacted:cookie#1 24 chars>;Path=/;Domain=.icloud.com;Secure',
    ]);
    expect(answer?.request.headers['cookie']).toEqual(['X-APPLE-WEBAUTH-TOKEN=<redacted:cookie#1 24 chars>']);
    expect(answer?.response.body).toEqual({
      json: { dsInfo: { dsid: '<redacted:dsid#1 11 chars>' }, ok: true },
    });
  });

  it('shows a request that got no answer, and the caller still gets the failure', async () => {
    const { http, interactions } = await tracedHttp(async () => {
      throw new TypeError('fetch failed');
    });
    await expect(
      http.send({
        method: 'POST',
        url: 'https://idmsa.apple.com/appleauth/auth/signin/init',
        json: { a: 'x' },
      }),
    ).rejects.toThrow('fetch failed');
    expect(interactions).toHaveLength(1);
    expect(interactions[0]?.response).toEqual({
      status: 0,
      headers: {},
      body: { text: '<no answer: TypeError>' },
    });
  });
});
