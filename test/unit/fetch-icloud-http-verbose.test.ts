/**
 * `--verbose` logs every request to Apple, the ones that got no answer included: a refused
 * connection or a timeout is a debug line naming the method, the (redacted) URL and the cause.
 */
import { CookieJar } from 'tough-cookie';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { FetchIcloudHttp } from '#adapters/icloud/http/fetch-icloud-http.ts';
import { createLogger } from '#shared/logger.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The JSON log lines written to stderr while `run` runs. */
async function stderrLines(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  await run().catch(() => undefined);
  vi.restoreAllMocks();
  return written.flatMap((text) => text.split('\n').filter(Boolean)).map((line) => JSON.parse(line));
}

describe('FetchIcloudHttp under --verbose', () => {
  it('logs a request that got no answer, with its cause, and still throws it', async () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }),
    });
    const http = new FetchIcloudHttp({
      endpoint: await resolveEndpoint('apple'),
      jar: new CookieJar(),
      fetch: async () => {
        throw refused;
      },
      logger: createLogger({ level: 'DEBUG', destination: 'stderr' }),
    });
    const send = () =>
      http.send({ method: 'POST', url: 'https://setup.icloud.com/setup/ws/1/validate?token=abc' });
    await expect(send()).rejects.toBe(refused);
    const lines = await stderrLines(send);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'DEBUG',
        message: 'apple request failed',
        method: 'POST',
        url: 'https://setup.icloud.com/setup/ws/1/validate?[redacted]',
        error: 'fetch failed (ECONNREFUSED)',
      }),
    ]);
  });
});
