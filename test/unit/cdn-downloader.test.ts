import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CdnDownloader } from '#adapters/icloud/cdn/cdn-downloader.ts';
import type { IcloudHttp, IcloudHttpRequest } from '#adapters/icloud/http/types.ts';
import { classifyError, DownloadUrlExpiredError, explainError, RateLimitedError } from '#domain/errors.ts';

/** A CDN answering `status` with `chunks`, each after `gapMs`; `stallAfter` chunks, then silence. */
function cdn(options: {
  status?: number;
  chunks?: number;
  gapMs?: number;
  stallAfter?: number;
  headers?: Record<string, string>;
}) {
  const requests: IcloudHttpRequest[] = [];
  const http: IcloudHttp = {
    send: async (request) => {
      requests.push(request);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (options.stallAfter !== undefined && sent >= options.stallAfter)
            return new Promise(() => undefined);
          if (sent >= (options.chunks ?? 1)) {
            controller.close();
            return;
          }
          await new Promise((r) => setTimeout(r, options.gapMs ?? 0));
          sent++;
          controller.enqueue(new Uint8Array(1024).fill(7));
        },
      });
      return {
        status: options.status ?? 200,
        headers: new Headers(options.headers ?? { 'content-length': String(1024 * (options.chunks ?? 1)) }),
        url: request.url,
        text: async () => '',
        json: async () => ({}),
        body,
      };
    },
  };
  return { http, requests };
}

async function drain(downloader: CdnDownloader): Promise<number> {
  const { body } = await downloader.open('https://cvws.icloud-content.com/B/abc/%24%7Bf%7D?e=1', {});
  let bytes = 0;
  await pipeline(
    body,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        bytes += chunk.length;
        cb();
      },
    }),
  );
  return bytes;
}

describe('CdnDownloader', () => {
  it('sends no cookies and the browser-like headers', async () => {
    const { http, requests } = cdn({});
    await drain(new CdnDownloader(http));
    expect(requests[0]).toMatchObject({
      withoutCookies: true,
      headers: { Origin: 'https://www.icloud.com' },
    });
  });

  it('streams a slow but steady body to its end', async () => {
    const { http } = cdn({ chunks: 5, gapMs: 20 });
    expect(await drain(new CdnDownloader(http, { idleTimeoutMs: 200 }))).toBe(5 * 1024);
  });

  it('fails a body that goes silent, with a retryable timeout', async () => {
    const { http } = cdn({ chunks: 5, stallAfter: 2 });
    const failure = drain(new CdnDownloader(http, { idleTimeoutMs: 60 }));
    await expect(failure).rejects.toMatchObject({ name: 'TimeoutError' });
    // By the timeout rule, not the unknown default that would also say retryable.
    expect(explainError(await failure.catch((e: unknown) => e))).toEqual({
      errorClass: 'retryable',
      rule: 'timeout',
    });
  });

  it('reports an expired URL (410) as such', async () => {
    const { http } = cdn({ status: 410 });
    await expect(
      new CdnDownloader(http).open('https://cvws.icloud-content.com/x', {}),
    ).rejects.toBeInstanceOf(DownloadUrlExpiredError);
  });

  it("reports throttling with the server's Retry-After", async () => {
    const { http } = cdn({ status: 503, headers: { 'retry-after': '7' } });
    await expect(new CdnDownloader(http).open('https://cvws.icloud-content.com/x', {})).rejects.toMatchObject(
      {
        constructor: RateLimitedError,
        retryAfterSeconds: 7,
      },
    );
  });

  it('S144: reads when a URL stops working from its e parameter, and nothing from a URL without one', () => {
    const { http, requests } = cdn({});
    const downloader = new CdnDownloader(http);
    const url =
      'https://cvws.icloud-content.com/B/AY6c/%24%7Bf%7D?o=A&v=1&x=3&a=B&e=1533044229&k=k&fl=&r=u-1&s=x';
    expect(downloader.expiresAt(url)).toBe(1_533_044_229_000);
    expect(downloader.expiresAt('https://cvws.icloud-content.com/B/AY6c/x?v=1')).toBeUndefined();
    expect(downloader.expiresAt('not a url')).toBeUndefined();
    expect(requests).toEqual([]);
  });
});

describe('CdnDownloader refuses any URL that is not Apple’s asset CDN (SSRF)', () => {
  const refused: ReadonlyArray<readonly [string, string]> = [
    ['plain http', 'http://cvws.icloud-content.com/B/abc/%24%7Bf%7D?e=1'],
    ['loopback over http', 'http://127.0.0.1:8080/secret.txt'],
    ['another host', 'https://example.com/B/abc'],
    ['the bare domain, no CDN host', 'https://icloud-content.com/B/abc'],
    ['look-alike suffix', 'https://cvws.icloud-content.com.evil.com/B/abc'],
    ['look-alike prefix', 'https://evilicloud-content.com/B/abc'],
    ['look-alike China suffix', 'https://cvws.icloud-content.com.cn.evil.com/B/abc'],
    ['userinfo before a foreign host', 'https://cvws.icloud-content.com@127.0.0.1/secret.txt'],
    ['userinfo on an Apple host', 'https://user:pass@cvws.icloud-content.com/B/abc'],
    ['IPv4 literal', 'https://127.0.0.1/B/abc'],
    ['IPv4 as a number', 'https://2130706433/B/abc'],
    ['IPv6 literal', 'https://[::1]/B/abc'],
    ['metadata service', 'http://169.254.169.254/latest/meta-data/'],
    ['a non-default port', 'https://cvws.icloud-content.com:8443/B/abc'],
    ['a backslash host trick', 'https://127.0.0.1\\@cvws.icloud-content.com/B/abc'],
    ['file scheme', 'file:///etc/passwd'],
    ['not a URL', 'cvws.icloud-content.com/B/abc'],
    ['an iCloud host that is not the CDN', 'https://p42-ckdatabasews.icloud.com/database/1'],
  ];

  it.each(refused)(
    'refuses %s without sending anything; the worker asks for a fresh URL, then retries the work',
    async (_what, url) => {
      const { http, requests } = cdn({});
      const failure = await new CdnDownloader(http).open(url).catch((e: unknown) => e);
      expect(failure).toMatchObject({ name: 'DownloadUrlRefusedError' });
      expect(String((failure as Error).message)).toMatch(/not a download URL of Apple's asset CDN/);
      expect(String((failure as Error).message)).not.toContain('secret');
      expect(classifyError(failure)).toBe('retryable');
      expect(requests).toHaveLength(0);
    },
  );

  const accepted = [
    'https://cvws.icloud-content.com/B/abc/%24%7Bf%7D?e=1',
    'https://cvws-h2.icloud-content.com/B/abc/%24%7Bf%7D?e=1',
    'https://CVWS.iCloud-Content.com:443/B/abc',
    'https://cvws.icloud-content.com.cn/B/abc',
    'https://gateway.cdn-apple.com/B/abc',
  ];

  it.each(accepted)('fetches %s', async (url) => {
    const { http, requests } = cdn({});
    await new CdnDownloader(http).open(url);
    expect(requests).toHaveLength(1);
  });
});
