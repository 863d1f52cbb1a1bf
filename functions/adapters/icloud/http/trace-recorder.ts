/**
 * An `ExchangeObserver` that writes each exchange with Apple, redacted, to a trace (`--trace`).
 * JSON and text answers are read from a clone before the caller sees them; media answers (CDN
 * downloads) are never read: the trace notes their size and type, and the bytes stream on to the
 * caller untouched.
 */

import { isAppleCdnHost } from '#shared/apple-cdn-host.ts';
import { type TraceInteraction, TraceRedactor } from '#shared/trace-redaction.ts';
import { WIDGET_KEY } from '../auth/auth-context.ts';
import type { ExchangeObserver, SentRequest } from './types.ts';

/** Where redacted exchanges go, in the order they completed. */
export interface TraceSink {
  append(interaction: TraceInteraction): void;
}

const MEDIA_TYPE = /^(image|video|audio)\/|octet-stream|zip/i;

/** Why a body is not recorded (`<123 bytes of image/jpeg not recorded>`), or undefined to record it. */
function omittedBody(url: string, response: Response): string | undefined {
  const type = response.headers.get('content-type') ?? '';
  const download =
    isAppleCdnHost(new URL(url).hostname) && (response.status === 200 || response.status === 206);
  if (!download && !MEDIA_TYPE.test(type)) return undefined;
  const length = response.headers.get('content-length');
  return `<${length ?? 'an unknown number of'} bytes of ${type || 'media'} not recorded>`;
}

export class TraceRecorder implements ExchangeObserver {
  readonly #sink: TraceSink;
  readonly #redactor: TraceRedactor;

  constructor(sink: TraceSink, redactor = new TraceRedactor({ publicValues: [WIDGET_KEY] })) {
    this.#sink = sink;
    this.#redactor = redactor;
  }

  async observe(
    request: SentRequest,
    outcome: { readonly response: Response } | { readonly error: unknown },
  ): Promise<void> {
    const sent = { method: request.method, url: request.url, headers: request.headers, body: request.body };
    if ('error' in outcome) {
      const name = outcome.error instanceof Error ? outcome.error.name : 'error';
      this.#sink.append(
        this.#redactor.interaction({
          request: sent,
          response: { status: 0, headers: [], body: { omitted: `<no answer: ${name}>` } },
        }),
      );
      return;
    }
    const { response } = outcome;
    const omitted = omittedBody(request.url, response);
    const body = omitted !== undefined ? { omitted } : await response.clone().text();
    this.#sink.append(
      this.#redactor.interaction({
        request: sent,
        response: { status: response.status, headers: response.headers, body },
      }),
    );
  }
}
