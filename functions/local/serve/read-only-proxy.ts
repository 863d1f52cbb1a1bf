/**
 * A read-only door in front of the local S3 server: GET, HEAD and OPTIONS pass through, streamed
 * both ways; anything that would change the archive is refused with S3's own `AccessDenied`.
 * The archive is written by the pipeline only, so an `rclone sync` typed the wrong way round
 * cannot empty it (the same rule as the reader policy a person's NAS gets on AWS).
 *
 * It also puts the server on the port the person asked for (s3rver runs in a child process on
 * an ephemeral port), and answers folder-style listings s3rver gets wrong (`delimiter-listing.ts`).
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerDelimiterListing, isDelimiterListing } from './delimiter-listing.ts';

export interface ReadOnlyProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  /** Closes the listener and every open connection; safe to call twice. */
  stop(): Promise<void>;
}

export interface ReadOnlyProxyOptions {
  /** The S3 server behind the proxy, `http://127.0.0.1:<port>`. */
  readonly upstream: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function refuse(response: ServerResponse, method: string): void {
  response.writeHead(403, { 'content-type': 'application/xml' });
  response.end(
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>' +
      `<Message>icloud-s3 local serve is read-only: ${method} is not allowed</Message></Error>`,
  );
}

function forward(upstream: URL, incoming: IncomingMessage, response: ServerResponse): void {
  const outgoing = request(
    {
      hostname: upstream.hostname,
      port: upstream.port,
      method: incoming.method,
      path: incoming.url,
      headers: incoming.headers,
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    },
  );
  outgoing.on('error', () => {
    if (response.headersSent) response.destroy();
    else {
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('local S3 server unavailable\n');
    }
  });
  // A client that goes away mid-download must not leave the upstream transfer running.
  response.on('close', () => {
    if (!response.writableFinished) outgoing.destroy();
  });
  incoming.pipe(outgoing);
}

/** Starts the proxy on 127.0.0.1 (or `host`) and resolves once it listens. */
export async function startReadOnlyProxy(options: ReadOnlyProxyOptions): Promise<ReadOnlyProxy> {
  const upstream = new URL(options.upstream);
  const host = options.host ?? '127.0.0.1';
  const server = createServer((incoming, response) => {
    const method = incoming.method ?? 'GET';
    if (!READ_METHODS.has(method)) {
      incoming.resume();
      refuse(response, method);
      return;
    }
    if (isDelimiterListing(method, new URL(incoming.url ?? '/', 'http://local'))) {
      answerDelimiterListing(upstream, incoming, response).catch(() => {
        if (!response.headersSent) response.writeHead(502);
        response.end();
      });
      return;
    }
    forward(upstream, incoming, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
