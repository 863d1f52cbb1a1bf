/**
 * Every host the download workers fetch from (Apple's CDN: `*.icloud-content.com`,
 * `*.icloud-content.com.cn`, `*.cdn-apple.com`) is treated as the CDN everywhere else too: the
 * `--trace` recorder and the log redaction hide its signed URL, and the request counter counts it
 * as `cdn`. A download URL on `*.cdn-apple.com` once kept its signature `s` in a trace meant for a
 * bug report, and was counted under its last path part.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CdnDownloader } from '#adapters/icloud/cdn/cdn-downloader.ts';
import { refusedDownloadUrlReason } from '#adapters/icloud/cdn/download-url.ts';
import { NodeCdnTransport } from '#adapters/icloud/cdn/node-cdn-transport.ts';
import { isAppleHost } from '#adapters/icloud/endpoints.ts';
import { TraceRecorder } from '#adapters/icloud/http/trace-recorder.ts';
import { endpointKeyOf } from '#adapters/icloud/request-counter.ts';
import { redactUrl, scrubSecrets } from '#shared/redact.ts';
import type { TraceInteraction } from '#shared/trace-redaction.ts';

const SIG = 'Zq8xYvB2kLm4Np6Qr0StUv';
const SIGNED_PATH = 'AVk7x9Q2mZpL0aBcDeFgH';
const query = `o=AtTq&v=1&x=3&a=CAogHk&e=1765113600&fl=&r=abc&k=KmF7bQ1x&ckc=com.apple.photos.cloud&ckz=PrimarySync&p=23&s=${SIG}`;
/** One host under each CDN suffix the workers accept (docs/protocol/cdn.md). */
const CDN_HOSTS = ['cvws.icloud-content.com', 'cvws.icloud-content.com.cn', 'cvws.cdn-apple.com'];
const SIDECAR = '<?xml version="1.0"?><plist><dict><key>adjustmentData</key></dict></plist>';
const downloadUrl = (host: string) => `https://${host}/B/${SIGNED_PATH}/$%7Bf%7D?${query}`;

const servers: { close(): void; closeAllConnections(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/**
 * Downloads `appleUrl` from a local server answering `status`, with a trace and a counter. The
 * file is an edit's sidecar (`application/xml`): not media by its type, so only its host keeps
 * its bytes out of the trace.
 */
async function tracedDownload(appleUrl: string, status: number) {
  const server = createServer((_req, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': status === 200 ? 'application/xml' : 'text/plain' });
    res.end(status === 200 ? SIDECAR : 'Not Found');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const interactions: TraceInteraction[] = [];
  const counted: string[] = [];
  const transport = new NodeCdnTransport({
    endpoint: {
      toTransportUrl: (url) => {
        const u = new URL(url);
        return `${base}/${u.hostname}${u.pathname}${u.search}`;
      },
    },
    onRequest: (url) => counted.push(endpointKeyOf(url)),
    observer: new TraceRecorder({ append: (i) => interactions.push(i) }),
  });
  try {
    const { body } = await new CdnDownloader(transport).open(appleUrl);
    for await (const _chunk of body) {
      // drained
    }
  } catch {
    // a 404 is the downloader's UnexpectedResponseError: the trace is what is checked
  }
  return { interactions, counted };
}

describe.each(CDN_HOSTS)('a download URL on %s', (host) => {
  it('is one the workers fetch (the premise)', () => {
    expect(refusedDownloadUrlReason(downloadUrl(host))).toBeUndefined();
  });

  it.each([200, 404])(
    'answered %i: the trace keeps neither signature nor bytes, the count says cdn',
    async (status) => {
      const { interactions, counted } = await tracedDownload(downloadUrl(host), status);
      expect(interactions).toHaveLength(1);
      const trace = JSON.stringify(interactions);
      expect(trace).not.toContain(SIG);
      expect(trace).not.toContain(SIGNED_PATH);
      if (status === 200) expect(trace).toContain('bytes of application/xml not recorded');
      expect(counted).toEqual(['cdn']);
    },
  );

  it('is hidden in logs and error messages, and rewritten to a simulator', () => {
    expect(redactUrl(downloadUrl(host))).not.toContain(SIG);
    expect(redactUrl(downloadUrl(host))).not.toContain(SIGNED_PATH);
    expect(scrubSecrets(`GET ${downloadUrl(host)} failed`)).not.toContain(SIG);
    expect(isAppleHost(host)).toBe(true);
  });
});
