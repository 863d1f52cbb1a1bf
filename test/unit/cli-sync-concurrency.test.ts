/**
 * `sync --concurrency`: a whole number of download workers from 1 to 64. Anything else is a usage
 * error (exit 2) before anything starts: `1e9` used to start a billion pollers and hang, and
 * 100,000 took 3 GB.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_CONCURRENCY, parseConcurrency } from '../../functions/cli/commands/sync.ts';
import { main } from '../../functions/cli/main.ts';

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe('--concurrency', () => {
  it.each(['1', '4', '64', ' 8 '])('accepts %s', (text) => {
    expect(parseConcurrency(text)).toBe(Number(text));
  });

  it.each(['0', '-1', '65', '1e9', '100000', 'abc', '', '2.5', '0x10', 'Infinity', 'NaN'])(
    'refuses %j with the allowed range',
    (text) => {
      expect(() => parseConcurrency(text)).toThrow(`It takes a whole number from 1 to ${MAX_CONCURRENCY}`);
    },
  );

  it.each(['1e9', 'abc', '0'])(
    'makes `sync --concurrency %s` exit 2 before touching the archive',
    async (text) => {
      const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-concurrency-'));
      const stderr: string[] = [];
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr.push(String(chunk));
        return true;
      });
      try {
        const code = await main([
          'node',
          'icloud-s3',
          '--local',
          join(dir, 'archive'),
          'sync',
          '--concurrency',
          text,
        ]);
        expect(code).toBe(2);
        expect(stderr.join('')).toContain('--concurrency');
        expect(stderr.join('')).toContain('It takes a whole number from 1 to 64');
        expect(await readdir(dir)).toEqual([]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
