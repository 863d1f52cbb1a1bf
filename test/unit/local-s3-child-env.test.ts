import { describe, expect, it } from 'vitest';
import { S3RVER_THREAD_POOL, s3rverChildEnv } from '#local/servers/s3-server.ts';

// Every object write in the local S3 is fsynced three times (atomic-s3rver-store.ts); libuv runs
// each on its thread pool, four threads by default, so four concurrent PUTs' fsyncs held up every
// other file operation of the child.
describe('the local S3 child process environment', () => {
  it('gives s3rver a larger thread pool than libuv’s four, so concurrent fsyncs do not queue', () => {
    const env = s3rverChildEnv({ PATH: '/usr/bin' });
    expect(S3RVER_THREAD_POOL).toBeGreaterThan(4);
    expect(env['UV_THREADPOOL_SIZE']).toBe(String(S3RVER_THREAD_POOL));
    expect(env['PATH']).toBe('/usr/bin');
  });

  it('keeps a thread pool size the person set', () => {
    expect(s3rverChildEnv({ UV_THREADPOOL_SIZE: '2' })['UV_THREADPOOL_SIZE']).toBe('2');
  });
});
