/**
 * Every CDN download recorded in the icloudpd listing cassettes, replayed against the simulator:
 * the same request (method, headers, no cookies, `${f}` percent-encoded) for the same resource
 * (checksums, zone, size and type taken from the cassette's own records), and the simulator's
 * answer compared with the recorded one: status, header names, and header values wherever they are
 * not specific to one response instance.
 *
 * The cassettes copied one CDN response's headers onto every download (docs/protocol/README.md#recorded-exchanges), so a recorded
 * `Content-Length` only matches the resource in `listing_photos`; the simulator answers with the
 * resource's real size, which is what this test expects.
 */
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { handleCdn } from '#simulator/src/cdn/router.ts';
import { createUrlMinter } from '#simulator/src/cdn/urls.ts';
import type { MediaSpec, SimReply, SimRequest } from '#simulator/src/types.ts';
import { readRecordedJson } from '#test/helpers/recorded.ts';

const CASSETTES = [
  'listing_photos',
  'listing_photos_raw_alt_adj',
  'listing_videos',
  'listing_photos_bad_filename',
] as const;

interface Interaction {
  readonly request: {
    readonly method: string;
    readonly uri: string;
    readonly headers: Record<string, string[]>;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Record<string, string[]>;
    readonly body: { readonly json?: unknown; readonly text?: string } | null;
  };
}

interface Token {
  readonly fileChecksum: string;
  readonly referenceChecksum: string;
  readonly size: number;
}

interface RecordedDownload {
  readonly name: string;
  readonly interaction: Interaction;
  readonly token: Token;
  readonly uti: string;
  readonly width?: number;
  readonly height?: number;
}

/** Hop-by-hop headers belong to the HTTP connection, not to the CDN's answer. */
const CONNECTION_HEADERS = new Set(['connection']);

/** Recorded headers whose values identify one response instance; only their shape is compared. */
const INSTANCE_SHAPES: Record<string, RegExp> = {
  date: /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  server: /^AppleHttpServer\/[0-9a-z]+$/,
  'x-apple-jingle-correlation-key': /^[A-Z2-7]{26}$/,
  'x-apple-request-uuid': /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-1\d{13}$/,
  'x-responding-instance': /^contentvendorws:\d+:[a-z0-9-]+:\d+:[0-9A-Z]+:nocommit$/,
};

/** The CPLMaster/CPLAsset field in the cassette's own listing whose token names this download. */
function recordedDownloads(cassette: string): RecordedDownload[] {
  const { interactions } = readRecordedJson('icloudpd', `${cassette}.json`) as {
    interactions: Interaction[];
  };
  const fields = interactions.flatMap((i) => {
    const body = i.response.body?.json as
      | { records?: { fields?: Record<string, { value?: unknown }> }[] }
      | undefined;
    return (body?.records ?? []).map((r) => r.fields ?? {});
  });
  return interactions
    .filter((i) => new URL(i.request.uri).hostname.endsWith('.icloud-content.com'))
    .map((interaction, n) => {
      const fileChecksum = new URL(interaction.request.uri).pathname
        .slice(3, 31)
        .replace(/-/g, '+')
        .replace(/_/g, '/');
      for (const record of fields) {
        for (const [key, field] of Object.entries(record)) {
          const token = field.value as Token | undefined;
          if (!key.endsWith('Res') || token?.fileChecksum !== fileChecksum) continue;
          const family = key.slice(0, -3);
          const width = record[`${family}Width`]?.value as number | undefined;
          const height = record[`${family}Height`]?.value as number | undefined;
          return {
            name: `${cassette} download ${n + 1} (${key})`,
            interaction,
            token,
            uti: record[`${family}FileType`]?.value as string,
            ...(width === undefined ? {} : { width }),
            ...(height === undefined ? {} : { height }),
          };
        }
      }
      throw new Error(`${cassette}: no record holds the token of ${fileChecksum}`);
    });
}

function flat(headers: Record<string, string[]>): Map<string, string> {
  return new Map(Object.entries(headers).map(([name, values]) => [name.toLowerCase(), values.join(', ')]));
}

/** The answer's headers as they go on the wire: the reply's own plus the stream body's type and length. */
function wireHeaders(reply: SimReply): Map<string, string> {
  const headers = new Map(
    Object.entries(reply.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  if (reply.body.kind === 'stream') {
    headers.set('content-type', reply.body.contentType);
    headers.set('content-length', String(reply.body.length));
  }
  return headers;
}

async function firstBytes(reply: SimReply, n: number): Promise<Buffer> {
  if (reply.body.kind !== 'stream') throw new Error('expected a stream body');
  const stream = reply.body.open() as Readable;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= n) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

const downloads = CASSETTES.flatMap(recordedDownloads);

describe('recorded CDN downloads replayed against the simulator', () => {
  it('finds every CDN interaction of the listing cassettes', () => {
    expect(downloads.map((d) => d.name.split(' ')[0])).toEqual([
      'listing_photos',
      'listing_photos_raw_alt_adj',
      'listing_photos_raw_alt_adj',
      'listing_videos',
      'listing_photos_bad_filename',
    ]);
  });

  for (const download of downloads) {
    describe(download.name, () => {
      const recordedUrl = new URL(download.interaction.request.uri);
      const recordedAt = Date.parse(download.interaction.response.headers['Date']![0]!);
      const clock = { now: () => recordedAt, advance: () => {} };
      const minter = createUrlMinter({ secret: Buffer.from('recorded-cdn'), clock });
      const spec: MediaSpec = {
        uti: download.uti,
        size: download.token.size,
        seed: download.token.fileChecksum,
        captureTime: recordedAt - 86_400_000,
        timeZoneOffsetSeconds: 7200,
        ...(download.width === undefined ? {} : { width: download.width }),
        ...(download.height === undefined ? {} : { height: download.height }),
      };
      const resolve = (checksum: string) => (checksum === download.token.fileChecksum ? spec : undefined);
      const url = new URL(
        minter.mint({
          fileChecksum: download.token.fileChecksum,
          referenceChecksum: download.token.referenceChecksum,
          zoneName: recordedUrl.searchParams.get('ckz')!,
          requestUuid: recordedUrl.searchParams.get('r')!.replace(/-1$/, ''),
        }),
      );
      const request: SimRequest = {
        method: download.interaction.request.method,
        host: url.hostname,
        path: url.pathname,
        query: url.searchParams,
        headers: Object.fromEntries(flat(download.interaction.request.headers)),
        cookies: new Map(),
        body: Buffer.alloc(0),
        json: undefined,
      };
      const answer = () => handleCdn(request, { minter, resolve, clock });

      it('sends the request the way the recording did: same path shape and parameters, no cookies', () => {
        expect(url.pathname.replace(/[A-Za-z0-9_-]{56}/, 'X')).toBe(
          recordedUrl.pathname.replace(/[A-Za-z0-9_-]{56}/, 'X'),
        );
        expect([...url.searchParams.keys()]).toEqual([...recordedUrl.searchParams.keys()]);
        expect(download.interaction.request.headers['Cookie']).toBeUndefined();
      });

      it('S144: mints e as the recording shows it, the issue time plus an hour', () => {
        const recordedE = Number(recordedUrl.searchParams.get('e'));
        // Issued moments before the recorded download, valid until an hour after issue.
        expect(recordedE - recordedAt / 1000).toBeGreaterThan(3500);
        expect(recordedE - recordedAt / 1000).toBeLessThanOrEqual(3600);
        expect(Number(url.searchParams.get('e')) - Math.floor(recordedAt / 1000)).toBe(3600);
      });

      it('answers with the recorded status', async () => {
        expect((await answer()).status).toBe(download.interaction.response.status);
      });

      it('answers with exactly the recorded header names', async () => {
        const recorded = [...flat(download.interaction.response.headers).keys()].filter(
          (h) => !CONNECTION_HEADERS.has(h),
        );
        expect([...wireHeaders(await answer()).keys()].sort()).toEqual(recorded.sort());
      });

      it('answers with the recorded header values, instance-specific ones in the recorded shape', async () => {
        const ours = wireHeaders(await answer());
        for (const [name, value] of flat(download.interaction.response.headers)) {
          if (CONNECTION_HEADERS.has(name)) continue;
          const shape = INSTANCE_SHAPES[name];
          if (shape) expect([name, ours.get(name)]).toEqual([name, expect.stringMatching(shape)]);
          else if (name === 'content-length') expect(ours.get(name)).toBe(String(download.token.size));
          else expect([name, ours.get(name)]).toEqual([name, value]);
        }
      });

      it('ties X-Apple-Request-UUID to the URL r parameter and the response time, as recorded', async () => {
        const recordedUuid = download.interaction.response.headers['X-Apple-Request-UUID']![0]!;
        expect(recordedUuid.startsWith(recordedUrl.searchParams.get('r')!)).toBe(true);
        expect(wireHeaders(await answer()).get('x-apple-request-uuid')).toBe(
          `${url.searchParams.get('r')}${recordedAt}`,
        );
      });

      it('serves a body of the declared type with the recorded leading bytes where the recording is real', async () => {
        const head = await firstBytes(await answer(), 16);
        const recordedText = download.interaction.response.body?.text ?? '';
        if (download.uti === 'public.jpeg' && recordedText.includes('Exif\u0000\u0000MM\u0000*')) {
          // FF D8 FF E1, APP1 length, "Exif\0\0", big-endian TIFF: the shape of the recorded iPhone JPEG.
          expect(head.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xd8, 0xff, 0xe1]));
          expect(head.toString('latin1', 6, 16)).toBe('Exif\0\0MM\0*');
        } else if (download.uti === 'com.canon.cr2-raw-image') {
          expect(head.toString('latin1', 0, 4)).toBe('II*\0');
        } else if (download.uti === 'com.apple.quicktime-movie') {
          expect(['ftyp', 'wide']).toContain(head.toString('latin1', 4, 8));
        } else {
          expect(head.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xd8, 0xff, 0xe1]));
        }
      });
    });
  }
});
