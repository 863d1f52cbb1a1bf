import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isMainThread, threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { OffThreadDigester } from '#adapters/aws/off-thread-digest.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function inline(bytes: Uint8Array) {
  return {
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

describe('OffThreadDigester', () => {
  it('hashes a body read into its shared buffer as the event loop would, on another thread', async () => {
    const digester = new OffThreadDigester({ minBytes: 1 });
    const body = digester.allocate(3 * 1024 * 1024 + 7);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) % 251;
    expect(body.buffer).toBeInstanceOf(SharedArrayBuffer);
    const digest = await digester.digest(body);
    expect(digest).toEqual({ ...inline(body), threadId: expect.any(Number) });
    expect(digest.threadId).not.toBe(isMainThread ? 0 : threadId);
  });

  it('hashes an ordinary buffer, an empty one and a view into a larger one', async () => {
    const digester = new OffThreadDigester({ minBytes: 1 });
    const whole = Buffer.from('0123456789abcdef'.repeat(1000));
    const view = whole.subarray(5, 9_005);
    const results = await Promise.all([
      digester.digest(whole),
      digester.digest(Buffer.alloc(0)),
      digester.digest(view),
    ]);
    expect(results.map(({ md5, sha256 }) => ({ md5, sha256 }))).toEqual([
      inline(whole),
      inline(Buffer.alloc(0)),
      inline(view),
    ]);
    // The view's bytes were not changed or detached by the round trip.
    expect(view.length).toBe(9_000);
  });

  it('lets the process end once no digest is pending', () => {
    const script = `
      const { OffThreadDigester } = await import('#adapters/aws/off-thread-digest.ts');
      const d = new OffThreadDigester({ minBytes: 1 });
      const r = await d.digest(Buffer.from('x'));
      console.log(r.md5);
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(inline(Buffer.from('x')).md5);
    expect(run.status).toBe(0);
  });
});
