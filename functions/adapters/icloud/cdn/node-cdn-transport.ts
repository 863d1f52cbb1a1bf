/**
 * `CdnTransport` over `node:http`/`node:https`: the response is the body stream, read straight
 * off the socket, with a keep-alive connection pool per process. The idle limit is the socket's
 * own timeout (no byte in either direction for that long), so no stream stage is added to watch
 * the bytes go by. Each request is counted (`onRequest`) and shown to the exchange observer
 * (`--trace`) as the session's transport does; media bodies are never read for it.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { IcloudEndpoint } from '../endpoints.ts';
import { DESKTOP_USER_AGENT } from '../http/fetch-icloud-http.ts';
import type { ExchangeObserver, SentRequest } from '../http/types.ts';
import {
  type CdnRequest,
  type CdnResponse,
  type CdnTransport,
  StalledDownloadError,
} from './cdn-transport.ts';

/** Error answers are short pages; more than this is not read (the connection is given up). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

const POOLS = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
} as const;

export interface NodeCdnTransportOptions {
  readonly endpoint: Pick<IcloudEndpoint, 'toTransportUrl'>;
  readonly userAgent?: string;
  /** Told the Apple URL of every request sent (the request counter). */
  readonly onRequest?: (appleUrl: string) => void;
  readonly observer?: ExchangeObserver;
}

function abortErrorOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('the download was aborted', { cause: reason }), { name: 'AbortError' });
}

function headerOf(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

function headersOf(response: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  return headers;
}

async function readErrorBody(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length > MAX_ERROR_BODY_BYTES) {
      response.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES);
}

export class NodeCdnTransport implements CdnTransport {
  readonly #options: NodeCdnTransportOptions;

  constructor(options: NodeCdnTransportOptions) {
    this.#options = options;
  }

  async get(request: CdnRequest): Promise<CdnResponse> {
    const { signal } = request;
    signal?.throwIfAborted();
    const target = new URL(this.#options.endpoint.toTransportUrl(request.url));
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      throw new TypeError(`cannot download over ${target.protocol}`);
    const headers = { 'user-agent': this.#options.userAgent ?? DESKTOP_USER_AGENT, ...request.headers };
    const sent: SentRequest = {
      method: 'GET',
      url: request.url,
      headers: new Headers(headers),
      body: undefined,
    };
    this.#options.onRequest?.(request.url);
    let response: IncomingMessage;
    try {
      response = await this.#send(target, headers, request);
    } catch (error) {
      await this.#options.observer?.observe(sent, { error });
      throw error;
    }
    const status = response.statusCode ?? 0;
    let body: Readable = response;
    if (status < 200 || status > 299) {
      // An error answer is short: read it so the connection is reused and the trace can show it.
      const text = await readErrorBody(response);
      body = Readable.from([text]);
      await this.#options.observer?.observe(sent, {
        response: new Response(text.length > 0 ? text : null, { status, headers: headersOf(response) }),
      });
    } else {
      await this.#options.observer?.observe(sent, {
        response: new Response(null, { status, headers: headersOf(response) }),
      });
    }
    return { status, header: (name) => headerOf(response, name), body };
  }

  /** Resolves with the response once its headers arrived; idle limit and signal watch it to its end. */
  #send(target: URL, headers: Record<string, string>, request: CdnRequest): Promise<IncomingMessage> {
    const { signal, idleTimeoutMs } = request;
    return new Promise((resolve, reject) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      let response: IncomingMessage | undefined;
      const fail = (error: Error) => {
        if (response === undefined) {
          req.destroy(error);
          return;
        }
        response.destroy(error);
        req.destroy();
      };
      const onAbort = () => fail(abortErrorOf(signal as AbortSignal));
      const done = () => signal?.removeEventListener('abort', onAbort);
      const req = send(target, {
        method: 'GET',
        headers,
        agent: POOLS[target.protocol as 'http:' | 'https:'],
      });
      req.setTimeout(idleTimeoutMs, () =>
        fail(new StalledDownloadError(`the CDN sent nothing for ${Math.round(idleTimeoutMs / 1000)} s`)),
      );
      req.on('error', (error) => {
        // After the headers, the body carries the failure (Node errors it as "aborted").
        if (response === undefined) {
          done();
          reject(error);
        }
      });
      req.on('response', (res) => {
        response = res;
        res.once('close', done);
        resolve(res);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }
}
