import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CdnDownloader } from '#adapters/icloud/cdn/cdn-downloader.ts';
import type { IcloudHttp, IcloudHttpRequest } from '#adapters/icloud/http/types.ts';
import { classifyError, DownloadUrlExpiredError, RateLimitedError } from '#domain/errors.ts';

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
    expect(classifyError(await failure.catch((e: unknown) => e))).toBe('retryable');
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
