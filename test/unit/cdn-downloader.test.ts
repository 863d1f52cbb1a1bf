import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CdnDownloader } from '#adapters/icloud/cdn/cdn-downloader.ts';
import { NodeCdnTransport } from '#adapters/icloud/cdn/node-cdn-transport.ts';
import { TraceRecorder } from '#adapters/icloud/http/trace-recorder.ts';
import { classifyError, DownloadUrlExpiredError, explainError, RateLimitedError } from '#domain/errors.ts';
import type { TraceInteraction } from '#shared/trace-redaction.ts';

const URL_OF_A_FILE = 'https://cvws.icloud-content.com/B/abc/%24%7Bf%7D?e=1';

interface CdnBehaviour {
  status?: number;
  chunks?: number;
  gapMs?: number;
  /** Chunks sent before silence. */
  stallAfter?: number;
  /** Chunks sent before the connection is cut. */
  cutAfter?: number;
  /** Never answer (silence before the headers). */
  silent?: boolean;
  headers?: Record<string, string>;
  body?: string;
}

const servers: { close(): void; closeAllConnections(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A CDN on 127.0.0.1 answering `behaviour`; the downloader reaches it through the transport's rewrite. */
async function cdn(behaviour: CdnBehaviour = {}) {
  const requests: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer(async (req, res: ServerResponse) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    if (behaviour.silent) return;
    const chunks = behaviour.chunks ?? 1;
    const status = behaviour.status ?? 200;
    if (behaviour.body !== undefined) {
      res.writeHead(status, behaviour.headers ?? {});
      res.end(behaviour.body);
      return;
    }
    res.writeHead(status, behaviour.headers ?? { 'content-length': String(1024 * chunks) });
    for (let i = 0; i < chunks; i++) {
      if (behaviour.stallAfter !== undefined && i >= behaviour.stallAfter) return;
      if (behaviour.cutAfter !== undefined && i >= behaviour.cutAfter) {
        res.socket?.destroy();
        return;
      }
      await new Promise((r) => setTimeout(r, behaviour.gapMs ?? 0));
      res.write(Buffer.alloc(1024, 7));
    }
    res.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const counted: string[] = [];
  const interactions: TraceInteraction[] = [];
  const transport = new NodeCdnTransport({
    endpoint: {
      toTransportUrl: (appleUrl) => {
        const u = new URL(appleUrl);
        return `${base}/${u.hostname}${u.pathname}${u.search}`;
      },
    },
    onRequest: (url) => counted.push(url),
    observer: new TraceRecorder({ append: (i) => interactions.push(i) }),
  });
  return { transport, requests, counted, interactions };
}

async function drain(downloader: CdnDownloader, signal?: AbortSignal): Promise<number> {
  const { body } = await downloader.open(URL_OF_A_FILE, signal ? { signal } : {});
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
  it('sends no cookies and the browser-like headers, to the rewritten URL, counted once', async () => {
    const { transport, requests, counted } = await cdn({});
    await drain(new CdnDownloader(transport));
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe('/cvws.icloud-content.com/B/abc/%24%7Bf%7D?e=1');
    expect(requests[0]?.headers).toMatchObject({
      origin: 'https://www.icloud.com',
      referer: 'https://www.icloud.com/',
      accept: '*/*',
      'user-agent': expect.stringContaining('Mozilla/5.0'),
    });
    expect(requests[0]?.headers['cookie']).toBeUndefined();
    // No Accept-Encoding: the bytes archived are the CDN's bytes, never a decoded form of them.
    expect(requests[0]?.headers['accept-encoding']).toBeUndefined();
    expect(counted).toEqual([URL_OF_A_FILE]);
  });

  it('asks for the rest of a file from an offset, and takes a 206 that names it', async () => {
    const { transport, requests } = await cdn({
      status: 206,
      headers: { 'content-length': '1024', 'content-range': 'bytes 5000-6023/6024' },
    });
    const download = await new CdnDownloader(transport).open(URL_OF_A_FILE, { offset: 5000 });
    expect(requests[0]?.headers['range']).toBe('bytes=5000-');
    expect(download).toMatchObject({ contentLength: 1024, startsAt: 5000 });
    download.body.resume();
  });

  it('takes a 200 for a range as the whole file (startsAt 0), and refuses a 206 of another range', async () => {
    const whole = await cdn({});
    const download = await new CdnDownloader(whole.transport).open(URL_OF_A_FILE, { offset: 5000 });
    expect(download.startsAt).toBe(0);
    download.body.resume();
    const other = await cdn({
      status: 206,
      headers: { 'content-length': '1024', 'content-range': 'bytes 0-1023/6024' },
    });
    const refused = new CdnDownloader(other.transport).open(URL_OF_A_FILE, { offset: 5000 });
    await expect(refused).rejects.toMatchObject({ name: 'UnexpectedResponseError' });
    const noRange = await cdn({});
    await drain(new CdnDownloader(noRange.transport));
    expect(noRange.requests[0]?.headers['range']).toBeUndefined();
  });

  it('reports the declared length and type', async () => {
    const { transport } = await cdn({ headers: { 'content-length': '1024', 'content-type': 'image/jpeg' } });
    const download = await new CdnDownloader(transport).open(URL_OF_A_FILE, {});
    expect(download).toMatchObject({ contentLength: 1024, contentType: 'image/jpeg' });
    download.body.resume();
  });

  it('streams a slow but steady body to its end', async () => {
    const { transport } = await cdn({ chunks: 5, gapMs: 20 });
    expect(await drain(new CdnDownloader(transport, { idleTimeoutMs: 300 }))).toBe(5 * 1024);
  });

  it('fails a body that goes silent, with a retryable timeout', async () => {
    const { transport } = await cdn({ chunks: 5, stallAfter: 2 });
    const failure = drain(new CdnDownloader(transport, { idleTimeoutMs: 80 }));
    await expect(failure).rejects.toMatchObject({ name: 'TimeoutError' });
    // By the timeout rule, not the unknown default that would also say retryable.
    expect(explainError(await failure.catch((e: unknown) => e))).toEqual({
      errorClass: 'retryable',
      rule: 'timeout',
    });
  });

  it('fails a CDN that never answers, with the same timeout', async () => {
    const { transport } = await cdn({ silent: true });
    await expect(drain(new CdnDownloader(transport, { idleTimeoutMs: 80 }))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  it('fails a body whose connection is cut before its end', async () => {
    const { transport } = await cdn({ chunks: 5, cutAfter: 2 });
    await expect(drain(new CdnDownloader(transport))).rejects.toThrow();
  });

  it('aborting the signal fails the body it is streaming', async () => {
    const { transport } = await cdn({ chunks: 50, gapMs: 10 });
    const controller = new AbortController();
    const download = await new CdnDownloader(transport).open(URL_OF_A_FILE, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(
      pipeline(
        download.body,
        new Writable({
          write(_chunk, _e, cb) {
            cb();
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reports an expired URL (410) as such', async () => {
    const { transport } = await cdn({ status: 410, body: 'Gone' });
    await expect(new CdnDownloader(transport).open(URL_OF_A_FILE, {})).rejects.toBeInstanceOf(
      DownloadUrlExpiredError,
    );
  });

  it("reports throttling with the server's Retry-After", async () => {
    const { transport } = await cdn({ status: 503, headers: { 'retry-after': '7' }, body: '' });
    await expect(new CdnDownloader(transport).open(URL_OF_A_FILE, {})).rejects.toMatchObject({
      constructor: RateLimitedError,
      retryAfterSeconds: 7,
    });
  });

  it('shows the trace each download as status and size, never its bytes; an error answer with its text', async () => {
    const ok = await cdn({ chunks: 2, headers: { 'content-length': '2048', 'content-type': 'video/mp4' } });
    await drain(new CdnDownloader(ok.transport));
    expect(ok.interactions).toHaveLength(1);
    expect(JSON.stringify(ok.interactions[0])).toContain('2048 bytes of video/mp4 not recorded');
    const gone = await cdn({ status: 410, body: 'Gone', headers: { 'content-type': 'text/plain' } });
    await new CdnDownloader(gone.transport).open(URL_OF_A_FILE, {}).catch(() => undefined);
    expect(JSON.stringify(gone.interactions[0])).toContain('Gone');
  });

  it('S144: reads when a URL stops working from its e parameter, and nothing from a URL without one', async () => {
    const { transport, requests } = await cdn({});
    const downloader = new CdnDownloader(transport);
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
      const { transport, requests, counted } = await cdn({});
      const failure = await new CdnDownloader(transport).open(url, {}).catch((e: unknown) => e);
      expect(failure).toMatchObject({ name: 'DownloadUrlRefusedError' });
      expect(String((failure as Error).message)).toMatch(/not a download URL of Apple's asset CDN/);
      expect(String((failure as Error).message)).not.toContain('secret');
      expect(classifyError(failure)).toBe('retryable');
      expect(requests).toHaveLength(0);
      expect(counted).toHaveLength(0);
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
    const { transport, requests } = await cdn({});
    const download = await new CdnDownloader(transport).open(url, {});
    download.body.resume();
    expect(requests).toHaveLength(1);
  });
});
