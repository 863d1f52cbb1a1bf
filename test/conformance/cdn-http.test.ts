/**
 * The CDN over HTTP, mounted in the simulator's real request listener (server.ts) so the wire
 * headers, HEAD handling and the generic fault layer (S114 in docs/protocol/simulator-contract.md#asset-cdn) act on streamed CDN bodies.
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '#simulator/src/accounts/store.ts';
import { IdmsaState } from '#simulator/src/auth/idmsa-state.ts';
import { DEFAULT_AUTH_SETTINGS } from '#simulator/src/auth/settings.ts';
import { SetupService } from '#simulator/src/auth/setup-router.ts';
import { createCdnService, DEFAULT_CDN_QUIRKS } from '#simulator/src/cdn/service.ts';
import { createUrlMinter } from '#simulator/src/cdn/urls.ts';
import { createClock } from '#simulator/src/clock.ts';
import { RequestLog } from '#simulator/src/control/request-log.ts';
import type { FaultSpec } from '#simulator/src/faults/fault-spec.ts';
import { FaultRegistry } from '#simulator/src/faults/registry.ts';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import { deriveFamily } from '#simulator/src/identity.ts';
import { mediaSha256 } from '#simulator/src/media/index.ts';
import { createRequestListener } from '#simulator/src/server.ts';
import { RequestStats } from '#simulator/src/stats.ts';
import type { MediaSpec } from '#simulator/src/types.ts';
import { json } from '#simulator/src/types.ts';

const FILE = 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO';
const photo: MediaSpec = {
  uti: 'public.jpeg',
  size: 1_884_695,
  seed: FILE,
  captureTime: Date.UTC(2018, 6, 31, 12, 22, 26),
  timeZoneOffsetSeconds: 7200,
  width: 4032,
  height: 3024,
};

const clock = createClock();
const faults = new FaultRegistry();
const minter = createUrlMinter({ secret: Buffer.from('cdn-http'), clock });
const cdn = createCdnService({ minter, clock, resolve: (c) => (c === FILE ? photo : undefined) });
let server: Server;
let baseUrl: string;

const mint = (zoneName = 'PrimarySync') =>
  minter.mint({
    fileChecksum: FILE,
    referenceChecksum: 'AfUMnLhKAW8bwnMCwMMXLMKCslue',
    zoneName,
    requestUuid: '02b17a96-ee7c-4379-aecf-532ffda2c021',
  });
const local = (appleUrl: string) => toSimulatorUrl(appleUrl, baseUrl);
const BROWSER_HEADERS = {
  Accept: '*/*',
  Origin: 'https://www.icloud.com',
  Referer: 'https://www.icloud.com/',
};

beforeAll(async () => {
  const family = deriveFamily(7);
  const settings = DEFAULT_AUTH_SETTINGS;
  const auth = {
    clock,
    store: new AccountStore({ family, clock, stateDir: undefined, lifetimes: undefined }),
    idmsa: new IdmsaState(clock, settings),
    settings,
  };
  const notHere = () => json({ error: 'not part of this test' }, 404);
  server = createServer(
    createRequestListener({
      clock,
      stats: new RequestStats(),
      faults,
      log: new RequestLog(),
      auth,
      setup: new SetupService(auth),
      control: notHere,
      cloudkit: notHere,
      cdn: (req) => cdn.handle(req),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

afterEach(() => {
  faults.clear();
  cdn.setQuirks(DEFAULT_CDN_QUIRKS);
});

const addFault = (spec: Omit<FaultSpec, 'endpoint'>) => faults.add({ endpoint: 'cdn', ...spec });

async function sha256Of(res: Response): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body!) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

describe('asset CDN over HTTP', () => {
  it('S109: sends the recorded headers and exactly size bytes of the file on the wire', async () => {
    const res = await fetch(local(mint()), { headers: BROWSER_HEADERS });
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'content-length': String(photo.size),
      'content-disposition': `attachment; filename="%24%7Bf%7D"; filename*=UTF-8''%24%7Bf%7D`,
      'access-control-allow-origin': 'https://www.icloud.com',
      'access-control-allow-methods': 'GET,OPTIONS',
      'access-control-allow-credentials': 'false',
      'apple-seq': '0',
      'apple-tk': 'false',
      connection: 'keep-alive',
    });
    expect(res.headers.get('server')).toBe('AppleHttpServer/2f080fc0');
    expect(await sha256Of(res)).toEqual({ bytes: photo.size, sha256: await mediaSha256(photo) });
  });

  it('S110: accepts the file-name slot sent literally on the wire', async () => {
    const url = new URL(local(mint()));
    const path = `${url.pathname.replace('$%7Bf%7D', '$' + '{f}')}${url.search}`;
    const status = await new Promise<number>((resolve, reject) => {
      httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });

  it('S112: Range bytes=N- yields 206 with Content-Range and the remaining bytes on the wire', async () => {
    const res = await fetch(local(mint()), { headers: { ...BROWSER_HEADERS, Range: 'bytes=1234-' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 1234-${photo.size - 1}/${photo.size}`);
    expect(res.headers.get('content-length')).toBe(String(photo.size - 1234));
    expect((await sha256Of(res)).bytes).toBe(photo.size - 1234);
  });

  it('S112: an unsatisfiable range yields 416 with Content-Range bytes */size on the wire', async () => {
    const res = await fetch(local(mint()), { headers: { Range: `bytes=${photo.size + 10}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${photo.size}`);
    await res.arrayBuffer();
  });

  it('S112: the ignore-range quirk, switched on at run time, answers 200 with the full body', async () => {
    cdn.setQuirks({ ignoreRange: true });
    const res = await fetch(local(mint()), { headers: { Range: 'bytes=1234-' } });
    expect(res.status).toBe(200);
    expect((await sha256Of(res)).bytes).toBe(photo.size);
  });

  it('answers HEAD with the file length and no body', async () => {
    const res = await fetch(local(mint()), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(photo.size));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('S114: a 429 fault with Retry-After reaches the client in place of the file', async () => {
    addFault({ status: 429, retryAfter: 30, count: 1 });
    const res = await fetch(local(mint()));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    await res.arrayBuffer();
    expect((await fetch(local(mint()))).status).toBe(200);
  });

  it('S114: 429 without Retry-After, 503, 500, 401 and 403 faults replace the answer', async () => {
    for (const status of [429, 503, 500, 401, 403]) {
      addFault({ status, count: 1 });
      const res = await fetch(local(mint()));
      await res.arrayBuffer();
      expect([status, res.status, res.headers.get('retry-after')]).toEqual([status, status, null]);
    }
  });

  it('S114: a connection reset mid-body leaves the client with fewer bytes and an error', async () => {
    addFault({ mode: 'reset-mid-body', afterBytes: 100_000, count: 1 });
    const res = await fetch(local(mint()));
    expect(res.status).toBe(200);
    await expect(sha256Of(res)).rejects.toThrow();
  });

  it('S114: a truncated body ends short of Content-Length', async () => {
    addFault({ mode: 'truncate-body', afterBytes: 65_536, count: 1 });
    const res = await fetch(local(mint()));
    expect(res.headers.get('content-length')).toBe(String(photo.size));
    await expect(sha256Of(res)).rejects.toThrow();
  });

  it('S114: a slow body still delivers every byte', async () => {
    addFault({ mode: 'slow-body', chunkBytes: 512 * 1024, chunkDelayMs: 1, count: 1 });
    const res = await fetch(local(mint()));
    expect((await sha256Of(res)).sha256).toBe(await mediaSha256(photo));
  });

  it('S114: 200 with an HTML error page replaces the file', async () => {
    addFault({ mode: 'html-200', count: 1 });
    const res = await fetch(local(mint()));
    expect(res.status).toBe(200);
    expect((await res.text()).startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('S114: the require-cookie mode answers a cookie-less download with 200 and 17 bytes', async () => {
    cdn.setQuirks({ requireCookie: 'always' });
    const res = await fetch(local(mint()));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('17');
    expect((await res.arrayBuffer()).byteLength).toBe(17);
  });

  it('S115: serves a SharedSync download to a client that sends no cookies', async () => {
    const res = await fetch(local(mint('SharedSync-8D5A5F8E-0C1B-4F5A-9A6E-0123456789AB')));
    expect(res.status).toBe(200);
    expect((await sha256Of(res)).bytes).toBe(photo.size);
  });
});
