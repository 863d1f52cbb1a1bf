import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type CdnDeps, handleCdn, NO_COOKIE_BODY } from '#simulator/src/cdn/router.ts';
import { createUrlMinter } from '#simulator/src/cdn/urls.ts';
import { openMedia } from '#simulator/src/media/index.ts';
import type { Clock, MediaSpec, SimReply, SimRequest } from '#simulator/src/types.ts';

const ISSUED_AT = Date.UTC(2018, 6, 31, 12, 37, 9, 205);
const FILE = 'AY6c+BsE0jjaXx9tmVGJM1D2VcEO';
const REFERENCE = 'AfUMnLhKAW8bwnMCwMMXLMKCslue';
const VIDEO = 'AY/R3dhJpz0NaLm5n1dA8cdywPKa';
/** The literal `${f}` file-name slot of Apple's download URLs. */
const F_SLOT = '$' + '{f}';
const REQUEST_UUID = '02b17a96-ee7c-4379-aecf-532ffda2c021';

function manualClock(start: number): Clock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

const photo: MediaSpec = {
  uti: 'public.jpeg',
  size: 1_884_695,
  seed: FILE,
  captureTime: Date.UTC(2018, 6, 31, 12, 22, 26),
  timeZoneOffsetSeconds: 7200,
  width: 3024,
  height: 4032,
};
const movie: MediaSpec = {
  uti: 'com.apple.quicktime-movie',
  size: 2_345_678,
  seed: VIDEO,
  captureTime: Date.UTC(2018, 6, 30, 8, 0, 0),
  timeZoneOffsetSeconds: -25200,
  classicQuickTime: true,
};

function setup(options: Partial<CdnDeps> = {}) {
  const clock = manualClock(ISSUED_AT);
  const minter = createUrlMinter({ secret: Buffer.from('conformance-secret'), clock });
  const specs = new Map([
    [FILE, photo],
    [VIDEO, movie],
  ]);
  const deps: CdnDeps = { minter, clock, resolve: (checksum) => specs.get(checksum), ...options };
  const mint = (fileChecksum = FILE, zoneName = 'PrimarySync') =>
    minter.mint({ fileChecksum, referenceChecksum: REFERENCE, zoneName, requestUuid: REQUEST_UUID });
  return { clock, minter, deps, mint };
}

/** The request a client sends for `url`, as the server hands it to the CDN (path not decoded). */
function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; cookies?: Record<string, string> } = {},
): SimRequest {
  const parsed = new URL(url);
  return {
    method: init.method ?? 'GET',
    host: parsed.hostname,
    path: parsed.pathname,
    query: parsed.searchParams,
    headers: { accept: '*/*', origin: 'https://www.icloud.com', ...init.headers },
    cookies: new Map(Object.entries(init.cookies ?? {})),
    body: Buffer.alloc(0),
    json: undefined,
  };
}

async function bodyBytes(reply: SimReply): Promise<Buffer> {
  const body = reply.body;
  if (body.kind !== 'stream') throw new Error(`expected a stream body, got ${body.kind}`);
  const chunks: Buffer[] = [];
  for await (const chunk of body.open() as Readable) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  expect(bytes.length).toBe(body.length);
  return bytes;
}

async function media(spec: MediaSpec): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of openMedia(spec)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const urlSafe = (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_');

describe('asset CDN (docs/protocol/cdn.md, S108-S115)', () => {
  it('S108: mints URLs of Apple shape with the checksums in the path and e one hour after issue', () => {
    const { mint } = setup();
    const url = mint();
    expect(url).toMatch(
      /^https:\/\/cvws\.icloud-content\.com\/B\/[A-Za-z0-9_-]{56}\/\$\{f\}\?o=A[A-Za-z0-9_-]{43}&v=1&x=3&a=B[A-Za-z0-9_-]{42}&e=\d+&k=[A-Za-z0-9_-]{22}&fl=&r=[0-9a-f-]{36}-1&ckc=com\.apple\.photos\.cloud&ckz=PrimarySync&y=1&p=10&s=[A-Za-z0-9_-]{27}$/,
    );
    expect(new URL(url).pathname.split('/')[2]).toBe(urlSafe(FILE) + urlSafe(REFERENCE));
    expect(Number(new URL(url).searchParams.get('e'))).toBe(Math.floor(ISSUED_AT / 1000) + 3600);
    expect(new URL(url).searchParams.get('r')).toBe(`${REQUEST_UUID}-1`);
  });

  it('S108: echoes the wrapping key URL-safe and unpadded in k', () => {
    const { minter } = setup();
    const url = minter.mint({
      fileChecksum: FILE,
      referenceChecksum: REFERENCE,
      zoneName: 'PrimarySync',
      requestUuid: REQUEST_UUID,
      wrappingKey: 'Aj375aJi6sEmqgJPj64+7Q==',
    });
    expect(new URL(url).searchParams.get('k')).toBe('Aj375aJi6sEmqgJPj64-7Q');
  });

  it('S108: signs every parameter and the path, so changing any one invalidates the URL', () => {
    const { minter, mint } = setup();
    const url = new URL(mint());
    expect(minter.verify(url)).toEqual({ fileChecksum: FILE, expired: false });
    for (const name of ['o', 'v', 'x', 'a', 'e', 'k', 'fl', 'r', 'ckc', 'ckz', 'y', 'p', 's']) {
      const altered = new URL(url);
      altered.searchParams.set(name, `${altered.searchParams.get(name)}0`);
      expect([name, minter.verify(altered)]).toEqual([name, { invalid: true }]);
    }
    const otherPath = new URL(url);
    otherPath.pathname = otherPath.pathname.replace('/B/AY6c', '/B/AY6d');
    expect(minter.verify(otherPath)).toEqual({ invalid: true });
  });

  it('S109: answers a valid URL with 200, the recorded headers and exactly size bytes of the file', async () => {
    const { deps, mint } = setup();
    const reply = await handleCdn(request(mint()), deps);
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatchObject({
      'Accept-Ranges': 'bytes',
      'Content-Disposition': `attachment; filename="%24%7Bf%7D"; filename*=UTF-8''%24%7Bf%7D`,
      'Access-Control-Allow-Origin': 'https://www.icloud.com',
      'Access-Control-Allow-Methods': 'GET,OPTIONS',
      'Access-Control-Allow-Credentials': 'false',
      'apple-seq': '0',
      'apple-tk': 'false',
    });
    expect(reply.headers?.['Server']).toMatch(/^AppleHttpServer\//);
    expect(reply.headers?.['X-Responding-Instance']).toMatch(/^contentvendorws:/);
    expect(reply.headers?.['X-Apple-Request-UUID']).toBe(`${REQUEST_UUID}-1${ISSUED_AT}`);
    expect(reply.body).toMatchObject({
      kind: 'stream',
      length: photo.size,
      contentType: 'application/octet-stream',
    });
    expect((await bodyBytes(reply)).equals(await media(photo))).toBe(true);
  });

  it('S110: accepts the file-name slot segment literally as well as percent-encoded', async () => {
    const { deps, mint } = setup();
    const encoded = mint();
    const literal = request(encoded);
    const withLiteral: SimRequest = { ...literal, path: literal.path.replace('$%7Bf%7D', F_SLOT) };
    expect(request(encoded).path.endsWith('/$%7Bf%7D')).toBe(true);
    expect((await handleCdn(request(encoded), deps)).status).toBe(200);
    const reply = await handleCdn(withLiteral, deps);
    expect(reply.status).toBe(200);
    expect(reply.headers?.['Content-Disposition']).toBe(
      `attachment; filename="%24%7Bf%7D"; filename*=UTF-8''%24%7Bf%7D`,
    );
  });

  it('S110: echoes another file name in that segment into Content-Disposition', async () => {
    const { deps, mint } = setup();
    const url = mint().replace(F_SLOT, 'IMG_7409%20copy.JPG');
    const reply = await handleCdn(request(url), deps);
    expect(reply.status).toBe(200);
    expect(reply.headers?.['Content-Disposition']).toBe(
      `attachment; filename="IMG_7409%20copy.JPG"; filename*=UTF-8''IMG_7409%20copy.JPG`,
    );
  });

  it('S111: answers an expired URL with 410 Gone', async () => {
    const { deps, mint, clock } = setup();
    const url = mint();
    clock.advance(3600 * 1000);
    expect((await handleCdn(request(url), deps)).status).toBe(410);
  });

  it('S111: still serves a URL one second before it expires', async () => {
    const { deps, mint, clock } = setup();
    const url = mint();
    clock.advance(3599 * 1000 - (ISSUED_AT % 1000));
    expect((await handleCdn(request(url), deps)).status).toBe(200);
  });

  it('S111: answers a tampered signature with 400 and the recorded {} JSON body', async () => {
    const { deps, mint } = setup();
    const url = new URL(mint());
    url.searchParams.set('e', String(Number(url.searchParams.get('e')) + 86_400));
    const reply = await handleCdn(request(url.toString()), deps);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ kind: 'json', value: {}, contentType: 'application/json' });
  });

  it('S111: answers a tampered signature with 403 when so configured', async () => {
    const { deps, mint } = setup({ invalidSignatureStatus: 403 });
    const reply = await handleCdn(request(mint().replace(/s=[^&]+$/, 's=AAAAAAAAAAAAAAAAAAAAAAAAAAA')), deps);
    expect(reply.status).toBe(403);
  });

  it('S111: answers a URL of another minter (other secret) as tampered', async () => {
    const { deps } = setup();
    const foreign = createUrlMinter({ secret: Buffer.from('other'), clock: manualClock(ISSUED_AT) });
    const url = foreign.mint({
      fileChecksum: FILE,
      referenceChecksum: REFERENCE,
      zoneName: 'PrimarySync',
      requestUuid: REQUEST_UUID,
    });
    expect((await handleCdn(request(url), deps)).status).toBe(400);
  });

  it('answers a validly signed URL for a resource that does not exist with 404', async () => {
    const { deps, mint } = setup();
    expect((await handleCdn(request(mint('AZZZZZZZZZZZZZZZZZZZZZZZZZZZ')), deps)).status).toBe(404);
  });

  it('S112: Range bytes=N- yields 206 with Content-Range and the remaining bytes', async () => {
    const { deps, mint } = setup();
    const reply = await handleCdn(request(mint(), { headers: { range: 'bytes=1234-' } }), deps);
    expect(reply.status).toBe(206);
    expect(reply.headers?.['Content-Range']).toBe(`bytes 1234-${photo.size - 1}/${photo.size}`);
    expect((await bodyBytes(reply)).equals((await media(photo)).subarray(1234))).toBe(true);
  });

  it('S112: Range bytes=0- yields 206 with the whole file', async () => {
    const { deps, mint } = setup();
    const reply = await handleCdn(request(mint(), { headers: { range: 'bytes=0-' } }), deps);
    expect(reply.status).toBe(206);
    expect(reply.headers?.['Content-Range']).toBe(`bytes 0-${photo.size - 1}/${photo.size}`);
    expect((await bodyBytes(reply)).length).toBe(photo.size);
  });

  it('S112: Range bytes=N-M yields 206 with exactly those bytes', async () => {
    const { deps, mint } = setup();
    const reply = await handleCdn(request(mint(), { headers: { range: 'bytes=100-199' } }), deps);
    expect(reply.status).toBe(206);
    expect(reply.headers?.['Content-Range']).toBe(`bytes 100-199/${photo.size}`);
    expect((await bodyBytes(reply)).equals((await media(photo)).subarray(100, 200))).toBe(true);
  });

  it('S112: a suffix range bytes=-N yields the last N bytes', async () => {
    const { deps, mint } = setup();
    const reply = await handleCdn(request(mint(), { headers: { range: 'bytes=-2' } }), deps);
    expect(reply.status).toBe(206);
    expect(await bodyBytes(reply)).toEqual(Buffer.from([0xff, 0xd9]));
  });

  it('S112: an unsatisfiable range yields 416 with Content-Range bytes */size', async () => {
    const { deps, mint } = setup();
    const reply = await handleCdn(request(mint(), { headers: { range: `bytes=${photo.size}-` } }), deps);
    expect(reply.status).toBe(416);
    expect(reply.headers?.['Content-Range']).toBe(`bytes */${photo.size}`);
  });

  it('S112: the ignore-range quirk answers a range request with 200 and the full body', async () => {
    const { deps, mint } = setup({ ignoreRange: true });
    const reply = await handleCdn(request(mint(), { headers: { range: 'bytes=1234-' } }), deps);
    expect(reply.status).toBe(200);
    expect(reply.headers?.['Content-Range']).toBeUndefined();
    expect((await bodyBytes(reply)).length).toBe(photo.size);
  });

  it('S113: serves a JPEG starting FF D8 FF E1 with Exif and a classic QuickTime movie starting with wide', async () => {
    const { deps, mint } = setup();
    const jpeg = await bodyBytes(
      await handleCdn(request(mint(FILE), { headers: { range: 'bytes=0-11' } }), deps),
    );
    expect(jpeg.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xd8, 0xff, 0xe1]));
    expect(jpeg.toString('latin1', 6, 10)).toBe('Exif');
    const mov = await bodyBytes(
      await handleCdn(request(mint(VIDEO), { headers: { range: 'bytes=0-7' } }), deps),
    );
    expect(mov.toString('latin1', 4, 8)).toBe('wide');
  });

  it('S113: embeds DateTimeOriginal in the photo time zone in the served JPEG', async () => {
    const { deps, mint } = setup();
    const head = await bodyBytes(
      await handleCdn(request(mint(), { headers: { range: 'bytes=0-4095' } }), deps),
    );
    expect(head.includes(Buffer.from('2018:07:31 14:22:26\0', 'latin1'))).toBe(true);
    expect(head.includes(Buffer.from('+02:00\0', 'latin1'))).toBe(true);
  });

  it('S114: the require-cookie mode answers a SharedSync download without cookies with 200 and 17 bytes', async () => {
    const { deps, mint } = setup({ requireCookie: 'sharedSync' });
    const shared = await handleCdn(
      request(mint(FILE, 'SharedSync-8D5A5F8E-0C1B-4F5A-9A6E-0123456789AB')),
      deps,
    );
    expect(shared.status).toBe(200);
    expect(shared.body).toEqual({
      kind: 'bytes',
      value: NO_COOKIE_BODY,
      contentType: 'application/octet-stream',
    });
    expect(NO_COOKIE_BODY.length).toBe(17);
    expect((await handleCdn(request(mint(FILE, 'PrimarySync')), deps)).body.kind).toBe('stream');
  });

  it('S114: the require-cookie mode serves the file when the session cookie is sent', async () => {
    const { deps, mint } = setup({ requireCookie: 'always' });
    const reply = await handleCdn(request(mint(), { cookies: { 'X-APPLE-WEBAUTH-TOKEN': 'v=2:t=x' } }), deps);
    expect(reply.body.kind).toBe('stream');
  });

  it('S115: serves downloads without any cookie by default', async () => {
    const { deps, mint } = setup();
    const reply = await handleCdn(
      request(mint(FILE, 'SharedSync-8D5A5F8E-0C1B-4F5A-9A6E-0123456789AB')),
      deps,
    );
    expect(reply.status).toBe(200);
    expect(reply.body.kind).toBe('stream');
  });

  it('answers a CORS preflight with the allowed methods and no body', async () => {
    const { deps, mint } = setup();
    const reply = await handleCdn(request(mint(), { method: 'OPTIONS' }), deps);
    expect(reply.status).toBe(200);
    expect(reply.headers?.['Access-Control-Allow-Methods']).toBe('GET,OPTIONS');
    expect(reply.body.kind).toBe('empty');
  });
});
