import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { MeteredStream } from '#adapters/aws/metered-stream.ts';
import { ErrorPageGuard, looksLikeErrorPage } from '#domain/archive/error-page-guard.ts';
import { ContentLengthMismatchError, UnexpectedResponseError } from '#domain/errors.ts';

function chunksOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function run(chunks: Buffer[], expectedSize: number) {
  const check = new MeteredStream(expectedSize);
  const received: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      received.push(chunk);
      cb();
    },
  });
  const result = await pipeline(Readable.from(chunks), check, sink).then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { result, received: Buffer.concat(received), check };
}

async function guard(chunks: Buffer[], expectedSize: number) {
  const received: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      received.push(chunk);
      cb();
    },
  });
  const result = await pipeline(Readable.from(chunks), new ErrorPageGuard(expectedSize), sink).then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { result, received: Buffer.concat(received) };
}

const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe1]), Buffer.alloc(100_000, 7)]);

describe('MeteredStream', () => {
  it('passes a body of the reported size through unchanged and digests it in one pass', async () => {
    const { result, received, check } = await run(chunksOf(jpeg, 4096), jpeg.length);
    expect(result.ok).toBe(true);
    expect(received.equals(jpeg)).toBe(true);
    expect(check.digest()).toEqual({
      bytes: jpeg.length,
      md5: createHash('md5').update(jpeg).digest('hex'),
      sha256: createHash('sha256').update(jpeg).digest('hex'),
    });
  });

  it('fails a body cut short of the reported size before its last chunk goes downstream', async () => {
    const cut = jpeg.subarray(0, 60_000);
    const { result, received } = await run(chunksOf(cut, 4096), jpeg.length);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBeInstanceOf(ContentLengthMismatchError);
    expect(received.length).toBeLessThan(cut.length);
  });

  it('fails a body longer than the reported size', async () => {
    const { result } = await run(chunksOf(jpeg, 4096), jpeg.length - 1);
    expect(!result.ok && result.error).toBeInstanceOf(ContentLengthMismatchError);
  });

  it('accepts an empty body when the reported size is zero', async () => {
    const { result, check } = await run([], 0);
    expect(result.ok).toBe(true);
    expect(check.digest().bytes).toBe(0);
  });
});

describe('ErrorPageGuard', () => {
  it('refuses an HTML error page even when its length matches', async () => {
    const page = Buffer.from('<!DOCTYPE html><html><body>Service Temporarily Unavailable</body></html>');
    const { result } = await guard([page], page.length);
    expect(!result.ok && result.error).toBeInstanceOf(UnexpectedResponseError);
  });

  it('refuses a JSON error body split across chunks', async () => {
    const body = Buffer.from('{"errors":[{"code":"x"}]}');
    const { result } = await guard(chunksOf(body, 3), body.length);
    expect(!result.ok && result.error).toBeInstanceOf(UnexpectedResponseError);
  });

  it('recognises the error-page prefixes case-insensitively and ignores leading whitespace', () => {
    expect(looksLikeErrorPage(Buffer.from('  <HTML><head>'))).toBe(true);
    expect(looksLikeErrorPage(Buffer.from('{"message":"no"}'))).toBe(true);
    expect(looksLikeErrorPage(Buffer.from([0xff, 0xd8, 0xff, 0xe1]))).toBe(false);
    expect(looksLikeErrorPage(Buffer.from('....ftypheic'))).toBe(false);
  });

  it('passes a media body through unchanged', async () => {
    const { result, received } = await guard(chunksOf(jpeg, 7), jpeg.length);
    expect(result.ok).toBe(true);
    expect(received.equals(jpeg)).toBe(true);
  });
});
