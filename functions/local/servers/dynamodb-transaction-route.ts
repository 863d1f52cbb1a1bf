/**
 * Puts `TransactWriteItems` in front of a dynalite server: requests with that target go to
 * `transactWriteItems`, every other request to dynalite's own handler untouched (one header
 * comparison, no extra hop or parse). The HTTP framing copies dynalite's (dynalite/index.js):
 * the same checks before the body is read, the same headers on the answer.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type DynaliteStore, dynaliteModules } from './dynalite-modules.ts';
import { type DynamoDbAnswer, transactWriteItems } from './dynamodb-transact-write.ts';

const TARGET = 'DynamoDB_20120810.TransactWriteItems';
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const JSON_TYPES = new Set(['application/json', 'application/x-amz-json-1.0']);

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** dynalite's request ids: 52 characters of upper-case base64 without `+` or `/`. */
function requestId(): string {
  return randomBytes(39).toString('base64').toUpperCase().replace(/\+|\//g, '0');
}

export function routeTransactWriteItems(server: Server, store: DynaliteStore): void {
  const [dynalite, ...others] = server.listeners('request') as RequestListener[];
  if (dynalite === undefined || others.length > 0) {
    throw new Error('expected dynalite to listen for requests with exactly one handler');
  }
  const transact = transactWriteItems(store);
  const crc32 = dynaliteModules().require('buffer-crc32') as { unsigned(text: string): number };

  const send = (response: ServerResponse, contentType: string, { statusCode, body }: DynamoDbAnswer) => {
    const text = JSON.stringify(body);
    response.statusCode = statusCode;
    response.setHeader('x-amzn-RequestId', requestId());
    response.setHeader('x-amz-crc32', crc32.unsigned(text));
    response.setHeader('Content-Type', contentType);
    response.setHeader('Content-Length', Buffer.byteLength(text));
    response.end(text);
  };

  const answer = async (request: IncomingMessage, text: string): Promise<DynamoDbAnswer> => {
    const signed = request.headers.authorization?.trim().startsWith('AWS4-') === true;
    if (!signed && !new URL(request.url ?? '/', 'http://local').searchParams.has('X-Amz-Algorithm')) {
      return {
        statusCode: 400,
        body: {
          __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
          message: 'Request is missing Authentication Token',
        },
      };
    }
    const serialization = {
      statusCode: 400,
      body: { __type: 'com.amazon.coral.service#SerializationException' },
    };
    if (text === '') return serialization;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return serialization;
    }
    try {
      return await transact(data);
    } catch (error) {
      return {
        statusCode: 500,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: error instanceof Error ? error.message : String(error),
        },
      };
    }
  };

  const handle = (request: IncomingMessage, response: ServerResponse, contentType: string) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        request.removeAllListeners();
        response.statusCode = 413;
        response.end();
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', () => response.destroy());
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      void answer(request, text).then((result) => send(response, contentType, result));
    });
  };

  server.removeListener('request', dynalite);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.headers['x-amz-target'] !== TARGET) {
      dynalite(request, response);
      return;
    }
    // What dynalite refuses before reading the body (another method, another content type) it
    // still refuses itself.
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (request.method !== 'POST' || !JSON_TYPES.has(contentType)) {
      dynalite(request, response);
      return;
    }
    handle(
      request,
      response,
      contentType === 'application/x-amz-json-1.0' ? contentType : 'application/json',
    );
  });
}
